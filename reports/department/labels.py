"""The department report's own labels (zh-Hant, pt, en), added to the shared table of
`reports.i18n` once, when this module is imported."""

from __future__ import annotations

from reports.i18n import TABLE, add

# Labels of this report that the shared table lacks: key -> (zh-Hant, pt, en).
LABELS: dict[str, tuple[str, str, str]] = {
    "dr.summary": ("概要", "Resumo", "Summary"),
    "dr.area": ("範疇", "Domínio", "Area"),
    "dr.median": ("中位數", "Mediana", "Median"),
    "dr.best": ("最佳", "Melhor", "Best"),
    "dr.peer_median": ("組內中位數", "Mediana do grupo", "Peer median"),
    "dr.peer_best": ("組內最佳", "Melhor do grupo", "Peer best"),
    "dr.rank_of": ("第 {rank} 名（共 {n} 個）", "{rank}.º de {n}", "{rank} of {n}"),
    "dr.overall": ("整體排名", "Posição global", "Overall"),
    "dr.within_peers": ("組內排名", "No grupo de pares", "Within the peer group"),
    "dr.no_peer_group": ("未分組", "Sem grupo de pares", "No peer group"),
    "dr.value": ("本部門數值", "Valor do serviço", "Department value"),
    "dr.vs_median": ("與中位數之差", "Diferença para a mediana", "Versus the median"),
    "dr.percentile": ("百分位", "Percentil", "Percentile"),
    "dr.target": ("目標值", "Meta", "Target"),
    "dr.new_score": ("改善後得分", "Pontuação resultante", "Score it would bring"),
    "dr.new_rank": ("改善後排名", "Posição resultante", "Rank it would bring"),
    "dr.new_peer_rank": ("改善後組內排名", "Posição resultante no grupo", "Peer rank it would bring"),
    "dr.priorities_note": (
        "如該指標達到同類組別的中位數（標準化值），整體得分及排名的變化；其他部門不變。",
        "Pontuação e posição globais se o serviço atingisse a mediana do seu grupo de pares nesse indicador (valor normalizado), com os outros serviços inalterados.",
        "The overall score and rank the department would have if it reached its peer group's median on that indicator (normalised value), the other departments unchanged.",
    ),
    "dr.strengths_note": (
        "相對其他部門表現最好及最差的指標（標準化值的百分位：0 最差，1 最佳）。",
        "Indicadores em que o serviço está melhor e pior face aos outros serviços (percentil do valor normalizado: 0 o pior, 1 o melhor).",
        "Indicators where the department does best and worst relative to the other departments (percentile of the normalised value: 0 the worst, 1 the best).",
    ),
    "dr.previous": ("上期", "Anterior", "Previous"),
    "dr.current": ("本期", "Actual", "Current"),
    "dr.change": ("變化", "Variação", "Change"),
    "dr.rank_previous": ("上期排名", "Posição anterior", "Previous rank"),
    "dr.rank_current": ("本期排名", "Posição actual", "Current rank"),
    "dr.previous_run": (
        "與 {period} 期評估（{run}）比較。",
        "Comparação com a avaliação do período {period} ({run}).",
        "Compared with the run of period {period} ({run}).",
    ),
    "dr.no_previous": (
        "沒有同一指標體系較早期間的評估。",
        "Não há avaliação de um período anterior com o mesmo quadro de indicadores.",
        "There is no run of an earlier period with the same framework.",
    ),
    "dr.contribution": ("貢獻", "Contributo", "Contribution"),
    "dr.value_effect": ("數值變化", "Efeito dos valores", "Value effect"),
    "dr.weight_effect": ("權重變化", "Efeito dos pesos", "Weight effect"),
    "dr.data_effect": ("資料變化的影響", "Efeito dos dados", "Data effect"),
    "dr.method_effect": ("方法變化的影響", "Efeito do método", "Method effect"),
    "dr.residual": ("非線性餘項", "Resíduo não linear", "Non-linear residual"),
    "dr.why_note": (
        "對整體得分變化貢獻最大的指標（正數為提升）。",
        "Indicadores que mais contribuíram para a variação da pontuação global (positivo: subida).",
        "Indicators that contributed most to the change of the overall score (positive: up).",
    ),
    "dr.method_changed": (
        "兩期的指標體系或方法不同，變化分為資料和方法兩部分。",
        "O quadro de indicadores ou o método mudou entre os períodos: a variação é separada em dados e método.",
        "The framework or the method differs between the two runs: the change is split into data and method.",
    ),
    "dr.service": ("服務", "Serviço", "Service"),
    "dr.interval": ("95% 區間", "Intervalo de 95 %", "95 % interval"),
    "dr.mean_level": ("平均等級（1–5）", "Nível médio (1–5)", "Mean level (1–5)"),
    "dr.bad_share": ("差評比例", "Proporção de avaliações negativas", "Share of bad ratings"),
    "dr.response_rate": ("回應率", "Taxa de resposta", "Response rate"),
    "dr.insufficient": ("不足", "insuficiente", "insufficient"),
    "dr.min_rule": (
        "評價少於 {n} 個的服務不計算評價指標（不足，不排名）。",
        "Serviços com menos de {n} avaliações não têm medidas (insuficiente, sem posição).",
        "Services with fewer than {n} ratings have no measures (insufficient, not ranked).",
    ),
    "dr.no_ratings": (
        "本期沒有此部門服務的市民評價。",
        "Não há avaliações dos serviços deste organismo no período.",
        "No citizen ratings of this department's services in the period.",
    ),
    "dr.no_cases": ("沒有未完結的個案。", "Não há casos em aberto.", "No open cases."),
    "dr.case": ("個案", "Caso", "Case"),
    "dr.state": ("狀態", "Estado", "State"),
    "dr.level": ("評價等級", "Nível da avaliação", "Rating level"),
    "dr.reason": ("可改善之處", "A melhorar", "Could be better"),
    "dr.opened": ("開立日期", "Aberto em", "Opened"),
    "dr.due": ("整改期限", "Prazo de rectificação", "Rectification due"),
    "dr.overdue": ("已逾期", "Em atraso", "Overdue"),
    "dr.cases_note": (
        "整改期限以工作日計算；逾期個案以粗體顯示。",
        "Prazos em dias úteis; os casos em atraso aparecem a negrito.",
        "Deadlines are in working days; overdue cases are in bold.",
    ),
    "dr.run_meta": (
        "評估期 {period}・評估批次 {run}・指標體系 {framework} {version}",
        "Período {period} · avaliação {run} · quadro {framework} {version}",
        "Period {period} · run {run} · framework {framework} {version}",
    ),
    "dr.top_priority": ("首要改善項目", "Primeira prioridade", "First priority"),
    "dr.top_strength": ("最大優勢", "Maior ponto forte", "Main strength"),
    "dr.top_weakness": ("最大弱項", "Maior ponto fraco", "Main weakness"),
    "dr.gain_text": (
        "{indicator}：得分 +{gain}（至 {score}，排名 {rank}）",
        "{indicator}: +{gain} pontos (para {score}, posição {rank})",
        "{indicator}: +{gain} points (to {score}, rank {rank})",
    ),
    "dr.not_scored": ("此類別未評估", "categoria não avaliada", "category not assessed"),
    "state.open": ("待處理", "aberto", "open"),
    "state.verified": ("已核實", "verificado", "verified"),
    "state.rectifying": ("整改中", "em rectificação", "rectifying"),
    "state.rectified": ("已整改", "rectificado", "rectified"),
    "state.return_visit_done": ("已回訪", "visita de retorno feita", "return visit done"),
    "state.closed": ("已完結", "fechado", "closed"),
    "state.appealed": ("申訴中", "em recurso", "appealed"),
    "state.upheld": ("申訴不成立", "recurso indeferido", "upheld"),
    "state.removed": ("已撤銷", "removido", "removed"),
}


add({k: v for k, v in LABELS.items() if k not in TABLE})
