"""Every title, column header and fixed sentence the `egov` commands print, in Traditional
Chinese, Portuguese and English (one table for the command line, added once to reports.i18n).
The English texts are the commands' English output as it was; `t` is reports.i18n's, re-exported
so that a command module that prints these labels imports the module that adds them; the
operational commands' labels are in labels_ops.py, added when this module is imported."""

from __future__ import annotations

import reports.services  # noqa: F401  (adds the service items' labels)
from egov.commands import labels_ops  # noqa: F401  (adds the operational commands' labels)
from reports.i18n import add, t

__all__ = ["t"]

# --- shared by the commands (egov/commands/common.py) and the ranking tables
add(
    {
        "cli.coverage": ("已評類別", "Categorias avaliadas", "Categories assessed"),
        "cli.rank_in_group": ("{group} 第 {rank} 名", "{rank}.º em {group}", "{rank} in {group}"),
        "cli.ranking_title": (
            "部門排名，評估期 {period}（運行 {run}）",
            "Classificação dos serviços, período {period} (execução {run})",
            "Department ranking, period {period} (run {run})",
        ),
        "cli.illustrative": ("示範資料", "dados ilustrativos", "illustrative"),
        "cli.demo_counts": (
            "資料庫 {url}：{departments} 個部門、{objects} 個評估對象、{metric_values} 個指標數值、{ratings} 個市民評價",
            "Base de dados {url}: {departments} serviços, {objects} objectos, {metric_values} valores de "
            "indicadores, {ratings} avaliações de cidadãos",
            "database {url}: {departments} departments, {objects} objects, {metric_values} metric values, "
            "{ratings} citizen ratings",
        ),
        "cli.wrote": (
            "已寫入 {n} 個檔案至 {out}",
            "{n} ficheiros escritos em {out}",
            "wrote {n} files to {out}",
        ),
        "cli.wrote_file": ("已寫入 {out}", "escrito: {out}", "wrote {out}"),
        "cli.overall": ("總排名", "Classificação geral", "Overall"),
        "level.category": ("類別", "categoria", "category"),
        "level.dimension": ("維度", "dimensão", "dimension"),
        "level.indicator": ("指標", "indicador", "indicator"),
        "cli.rank_every": (
            "每個{level}的分數（排名），然後總排名",
            "cada {level}: pontuação (posição), depois a classificação geral",
            "every {level}, score (rank), then overall",
        ),
        "cli.rank_every_peer": (
            "每個{level}的分數（組內排名），然後總排名",
            "cada {level}: pontuação (posição no grupo), depois a classificação geral",
            "every {level}, score (peer rank), then overall",
        ),
        "cli.rank_title": ("排名，運行 {run}", "Classificação, execução {run}", "Ranking, run {run}"),
        "cli.rank_title_group": (
            "排名，運行 {run}，同類組別 {group}",
            "Classificação, execução {run}, grupo de pares {group}",
            "Ranking, run {run}, peer group {group}",
        ),
        # column headers of the analysis tables
        "cli.col.node": ("節點", "nó", "node"),
        "cli.col.name": ("名稱", "nome", "name"),
        "cli.col.indicator": ("指標", "indicador", "indicator"),
        "cli.col.department": ("部門", "serviço", "department"),
        "cli.col.unit": ("評估對象", "objecto", "unit"),
        "cli.col.object": ("評估對象", "objecto", "object"),
        "cli.col.rank": ("排名", "posição", "rank"),
        "cli.col.score": ("分數", "pontuação", "score"),
        "cli.col.value": ("數值", "valor", "value"),
        "cli.col.median": ("中位數", "mediana", "median"),
        "cli.col.peer_median": ("組內中位數", "mediana do grupo", "peer median"),
        "cli.col.learn_from": ("可借鑑的部門", "aprender com", "learn from"),
        "cli.col.peer_rank": ("組內排名", "posição no grupo", "peer rank"),
        "cli.col.coverage": ("已評類別", "cobertura", "coverage"),
        "cli.all_departments": ("（全部部門）", "(todos os serviços)", "(all departments)"),
    }
)

# --- egov compare, gaps, priorities, change
add(
    {
        "cli.h2h.title": (
            "{a}（{name_a}）與 {b}（{name_b}）對比，運行 {run}",
            "{a} ({name_a}) e {b} ({name_b}) lado a lado, execução {run}",
            "{a} ({name_a}) vs {b} ({name_b}), run {run}",
        ),
        "cli.h2h.score_rank": ("{d} 分數（排名）", "{d}: pontuação (posição)", "{d} score (rank)"),
        "cli.h2h.value_score": ("{d} 數值（分數）", "{d}: valor (pontuação)", "{d} value (score)"),
        "cli.h2h.difference_score": ("{a} − {b}（分數）", "{a} − {b} (pontuação)", "{a} − {b} (score)"),
        "cli.h2h.indicators": (
            "差異最大的指標（數值以指標本身的單位表示，分數 0-100；列出 {n} 個）",
            "Indicadores em que mais diferem (valor na unidade do indicador, pontuação 0-100; {n} indicados)",
            "Indicators on which they differ most (value in the indicator's unit, score 0-100; {n} shown)",
        ),
        "cli.gaps.title": (
            "{dept}（{name}）與最佳及中位數的差距，運行 {run}",
            "Distâncias de {dept} ({name}) ao melhor e à mediana, execução {run}",
            "Gaps of {dept} ({name}), run {run}",
        ),
        "cli.gaps.best": ("最佳", "melhor", "best"),
        "cli.gaps.to_best": ("與最佳的差距", "distância ao melhor", "to best"),
        "cli.gaps.to_median": ("與中位數的差距", "distância à mediana", "to median"),
        "cli.gaps.peer_best": ("組內最佳", "melhor do grupo", "peer best"),
        "cli.gaps.note": (
            "同類組別：{group}；「與中位數的差距」大於 0 表示低於中位數；組內最佳／中位數：同類組別中"
            "有分數的部門少於 3 個時按全部部門計算",
            "grupo de pares: {group}; «distância à mediana» > 0 significa abaixo da mediana; melhor/mediana "
            "do grupo: o grupo de pares, ou todos os serviços quando menos de 3 do grupo têm pontuação",
            "peer group: {group}; 'to median' > 0 means below the median; peer best/median: the peer "
            "group, or all departments where fewer than 3 of it have a score",
        ),
        "cli.sw.title": (
            "優勢（高於組內中位數）及弱項（低於組內中位數）：數值以指標本身的單位表示，分數 0-100，"
            "組內百分位（1 = 最佳）",
            "Pontos fortes (acima da mediana do grupo) e pontos fracos (abaixo dela): valor na unidade do "
            "indicador, pontuação 0-100, percentil no grupo de pares (1 = o melhor)",
            "Strengths (above the peer median) and weaknesses (below it): value in the indicator's unit, "
            "score 0-100, percentile in the peer group (1 = the best)",
        ),
        "cli.sw.strength": ("優勢", "ponto forte", "strength"),
        "cli.sw.weakness": ("弱項", "ponto fraco", "weakness"),
        "cli.sw.percentile": ("百分位", "percentil", "percentile"),
        "cli.sw.rank_of": ("第 {rank} 名（共 {n} 個）", "{rank}.º de {n}", "{rank} of {n}"),
        "cli.prio.head": (
            "{dept}（{name}），運行 {run}：分數 {score}，排名 {rank}，組內排名 {peer_rank}",
            "{dept} ({name}), execução {run}: pontuação {score}, posição {rank}, posição no grupo {peer_rank}",
            "{dept} ({name}), run {run}: score {score}, rank {rank}, peer rank {peer_rank}",
        ),
        "cli.prio.nothing": (
            "無需改善：{dept} 在每個指標上都已達到或高於{target}",
            "nada a melhorar: {dept} está no valor {target} ou acima dele em todos os indicadores",
            "no step to take: {dept} is at or above the {target} value on every indicator",
        ),
        "cli.prio.nothing.median": ("組內中位數", "da mediana do grupo", "median"),
        "cli.prio.nothing.next": ("上一名部門的數值", "do serviço seguinte acima", "next"),
        "cli.prio.target.median": ("組內中位數", "mediana do grupo", "peer median"),
        "cli.prio.target.next": ("上一名", "serviço seguinte acima", "next above"),
        "cli.prio.title": (
            "改善優先次序（{target}；數值以指標本身的單位表示，分數 0-100）",
            "Prioridades de melhoria ({target}; valores na unidade do indicador, pontuação 0-100)",
            "Improvement priorities ({target}; values in the indicator's unit, score 0-100)",
        ),
        "cli.prio.value_score": ("數值（分數）", "valor (pontuação)", "value (score)"),
        "cli.prio.target_score": ("{target}（分數）", "{target} (pontuação)", "{target} (score)"),
        "cli.prio.step": ("提升幅度", "passo", "step"),
        "cli.prio.gain": ("總分增幅", "ganho", "gain"),
        "cli.prio.new_score": ("新分數", "nova pontuação", "new score"),
        "cli.prio.new_rank": ("新排名", "nova posição", "new rank"),
        "cli.prio.new_peer_rank": ("新組內排名", "nova posição no grupo", "new peer rank"),
        "cli.prio.fallback": (
            "* 同類組別中有數值的部門少於 3 個：目標按全部部門計算",
            "* menos de 3 serviços do grupo de pares têm valor: o objectivo é o de todos os serviços",
            "* fewer than 3 departments of the peer group have a value: the target is all departments'",
        ),
        "cli.change.title": (
            "由運行 {a}（評估期 {pa}）至運行 {b}（評估期 {pb}）的變化",
            "Variação da execução {a} (período {pa}) para a execução {b} (período {pb})",
            "Change from run {a} (period {pa}) to run {b} (period {pb})",
        ),
        "cli.change.method_changed": ("；方法已改變", "; o método mudou", "; the method changed"),
        "cli.change.score_before": ("之前分數", "pontuação anterior", "score before"),
        "cli.change.score_now": ("現時分數", "pontuação actual", "score now"),
        "cli.change.change": ("變化", "variação", "change"),
        "cli.change.rank_change": ("排名變化", "variação da posição", "rank change"),
        "cli.change.data_effect": ("數據的影響", "efeito dos dados", "data effect"),
        "cli.change.method_effect": ("方法的影響", "efeito do método", "method effect"),
        "cli.change.largest": ("貢獻最大的指標", "maiores contribuições", "largest contributions"),
        "cli.change.residual": ("殘差", "resíduo", "residual"),
        # zh-Hant and pt: scale_text already begins "共同尺度：…", "escala comum: …"
        "cli.change.scale": ("{scale}", "{scale}", "scale: {scale}"),
        "cli.change.own_scale": (
            "尺度：各運行本身的尺度",
            "escala: a de cada execução",
            "scale: each run's own",
        ),
        "cli.contrib.title": (
            "{dept}：各指標的貢獻（標準化值 × 有效權重）",
            "{dept}: contribuição de cada indicador (valores normalizados × pesos efectivos)",
            "{dept}: per-indicator contributions (normalised values × effective weights)",
        ),
        "cli.contrib.value_before": ("之前數值", "valor anterior", "value before"),
        "cli.contrib.value_now": ("現時數值", "valor actual", "value now"),
        "cli.contrib.value_effect": ("數值的影響", "efeito do valor", "value effect"),
        "cli.contrib.weight_effect": ("權重的影響", "efeito do peso", "weight effect"),
        "cli.contrib.contribution": ("貢獻", "contribuição", "contribution"),
    }
)

# --- egov uncertainty
add(
    {
        "cli.unc.title": (
            "每個{entity}的排名不確定性（等級按 {confidence} 置信度劃分）",
            "Incerteza da posição por {entity} (escalões com {confidence} de confiança)",
            "Rank uncertainty per {entity} (tiers at {confidence} confidence)",
        ),
        "cli.unc.median_rank": ("排名中位數", "posição mediana", "median rank"),
        "cli.unc.interval": ("5–95 % 區間", "intervalo 5–95 %", "5–95 % interval"),
        "cli.unc.mean_shift": ("平均偏移", "desvio médio", "mean shift"),
        "cli.unc.tier": ("等級", "escalão", "tier"),
        "cli.unc.sensitivity": (
            "排名的敏感度（Saltelli/Jansen，基本樣本 {n}）",
            "Sensibilidade das posições (Saltelli/Jansen, amostra de base {n})",
            "Sensitivity of the ranks (Saltelli/Jansen, base sample {n})",
        ),
        "cli.unc.input": ("輸入", "factor", "input"),
        "cli.unc.first_order": ("一階", "primeira ordem", "first order"),
        "cli.unc.total_order": ("總階", "ordem total", "total order"),
        "cli.unc.total_order_score": ("總階（分數）", "ordem total (pontuação)", "total order (score)"),
        "cli.unc.source_run": (
            "運行 {run}，評估期 {period}",
            "execução {run}, período {period}",
            "run {run}, period {period}",
        ),
        "cli.unc.source_period": (
            "評估期 {period}（最新指標框架 {framework} {version}）",
            "período {period} (quadro mais recente {framework} {version})",
            "period {period} (latest framework {framework} {version})",
        ),
        "cli.unc.settings": (
            "{source}：{n} 次模擬（隨機種子 {seed}），權重 ±{noise}；標準化：{normalisations}；"
            "匯總：{aggregations}；插補：{imputations}；異常值處理：{treatments}；評價抽樣：{draws}",
            "{source}: {n} réplicas (semente {seed}), pesos ±{noise}; normalização: {normalisations}; "
            "agregação: {aggregations}; imputação: {imputations}; tratamento de valores atípicos: "
            "{treatments}; amostras das avaliações: {draws}",
            "{source}: {n} replications (seed {seed}), weights ±{noise}; normalisation: {normalisations}; "
            "aggregation: {aggregations}; imputation: {imputations}; outlier treatment: {treatments}; "
            "rating draws: {draws}",
        ),
        "cli.unc.as_framework": ("按指標框架", "como no quadro", "as in the framework"),
        "cli.unc.no_draws": ("無", "nenhuma", "none"),
    }
)

# --- egov framework show, egov runs show
add(
    {
        "cli.fw.weight": ("權重", "peso", "weight"),
        "cli.fw.share": ("佔上層比例", "parte do nível superior", "share of parent"),
        "cli.fw.effective": ("有效權重", "peso efectivo", "effective weight"),
        "cli.fw.direction": ("方向", "sentido", "direction"),
        "cli.fw.unit": ("單位", "unidade", "unit"),
        "cli.fw.method": ("方法", "método", "method"),
        "cli.fw.count": ("個", "número", "count"),
        "cli.fw.sum": (
            "{n} 個指標；各指標的有效權重合計 {total}",
            "{n} indicadores; os pesos efectivos dos indicadores somam {total}",
            "{n} indicators; effective weights of the indicators sum to {total}",
        ),
        "cli.run.identity": (
            "運行 {run}：由 {by} 於 {at} 建立；輸入 {inputs}，結果 {results}，軟件版本 {software}",
            "execução {run}: criada em {at} por {by}; dados {inputs}, resultados {results}, "
            "software {software}",
            "run {run}: created {at} by {by}; inputs {inputs}, results {results}, software {software}",
        ),
        "cli.run.no_scores": (
            "此運行沒有部門分數",
            "esta execução não tem pontuações de serviços",
            "no department scores in this run",
        ),
        "cli.run.ranking": (
            "部門總排名",
            "Classificação geral dos serviços",
            "Overall department ranking",
        ),
    }
)

# --- egov ratings compare
add(
    {
        "cli.by.department": ("部門", "serviço", "department"),
        "cli.by.object": ("評估對象", "objecto", "object"),
        "cli.by.department.plural": ("部門", "serviços", "departments"),
        "cli.by.object.plural": ("評估對象", "objectos", "objects"),
        "cli.ratings.left_out": (
            "注意：{n} 個{by}的評價少於 {min} 個，不予比較：{items}",
            "nota: {n} {by}(s) com menos de {min} avaliações ficam de fora: {items}",
            "note: {n} {by}(s) with fewer than {min} ratings left out: {items}",
        ),
        "cli.ratings.period": ("評估期 {period}", "período {period}", "period {period}"),
        "cli.ratings.all": ("全部評價", "todas as avaliações", "all ratings"),
        "cli.ratings.too_few": (
            "{where}：評價至少 {min} 個的{by}少於兩個；無法比較",
            "{where}: menos de dois {by} com pelo menos {min} avaliações; nada a comparar",
            "{where}: fewer than two {by} with at least {min} ratings; nothing to compare",
        ),
        "cli.ratings.kruskal": (
            "Kruskal–Wallis 檢定，比較 {groups} 個{by}（{n} 個評價，{where}）：H = {h}，df = {df}，"
            "p = {p}，ε² = {e2}",
            "Kruskal–Wallis entre {groups} {by} ({n} avaliações, {where}): H = {h}, df = {df}, p = {p}, "
            "ε² = {e2}",
            "Kruskal–Wallis across {groups} {by} ({n} ratings, {where}): H = {h}, df = {df}, p = {p}, "
            "ε² = {e2}",
        ),
        "cli.ratings.differ": ("——分佈有差異", " — as distribuições diferem", " — the distributions differ"),
        "cli.ratings.same": (
            "——沒有證據顯示分佈有差異",
            " — sem indícios de que difiram",
            " — no evidence that they differ",
        ),
        "cli.ratings.pairs": (
            "兩兩比較（{test}，Holm 校正）：{n} 對中有 {k} 對在 {alpha} 水平下有差異",
            "Pares ({test}, Holm): {k} de {n} diferem ao nível {alpha}",
            "Pairs ({test}, Holm): {k} of {n} differ at {alpha}",
        ),
        "cli.ratings.n": ("{x} 評價數", "n {x}", "n {x}"),
        "cli.ratings.mean": ("{x} 平均", "média {x}", "mean {x}"),
        "cli.ratings.size": ("效應大小", "magnitude", "size"),
        "cli.size.negligible": ("可忽略", "desprezável", "negligible"),
        "cli.size.small": ("小", "pequena", "small"),
        "cli.size.medium": ("中", "média", "medium"),
        "cli.size.large": ("大", "grande", "large"),
    }
)

# --- egov calendar
add(
    {
        "cal.title": (
            "{year}年工作日曆（非工作日）",
            "Calendário de {year}: dias sem serviço",
            "Calendar {year}: days off",
        ),
        "cal.date": ("日期", "Data", "Date"),
        "cal.weekday": ("星期", "Dia da semana", "Weekday"),
        "cal.type": ("類別", "Tipo", "Type"),
        "cal.name": ("名稱", "Nome", "Name"),
        "cal.source": ("來源", "Fonte", "Source"),
        "cal.status": ("狀態", "Estado", "Status"),
        "cal.type.public_holiday": ("公眾假期", "Feriado", "Public holiday"),
        "cal.type.compensatory_day": ("補假", "Dia de descanso compensatório", "Compensatory rest day"),
        "cal.type.half_day": (
            "豁免上班半天（計作工作日）",
            "Dispensa de meio dia (conta como dia útil)",
            "Half-day exemption (counts as a working day)",
        ),
        "cal.type.closure": ("停止辦公", "Encerramento dos serviços", "Closure of the services"),
        "cal.status.published": ("已公佈", "Publicado", "Published"),
        "cal.status.provisional": (
            "暫定（尚未公佈）",
            "Provisório (por publicar)",
            "Provisional (not yet published)",
        ),
        "cal.status.unconfirmed": ("未確認", "Não confirmado", "Unconfirmed"),
        "cal.status.added": ("由管理員加入：{who}", "Acrescentado por {who}", "Added by {who}"),
        "cal.working_days": (
            "{year}年工作日：{n} 日（星期一至五，非假期）",
            "Dias úteis em {year}: {n} dias (segunda a sexta, sem feriados)",
            "Working days in {year}: {n} days (Monday to Friday, not days off)",
        ),
        "cal.not_covered": (
            "日曆未涵蓋{year}年：期限只計週末",
            "O calendário não abrange {year}: os prazos só contam fins de semana",
            "The calendar does not cover {year}: deadlines count weekends only",
        ),
        "cal.added": (
            "已將 {day}（{type}）加入日曆",
            "{day} ({type}) acrescentado ao calendário",
            "added {day} ({code}) to the calendar",
        ),
        "cal.removed": (
            "已從日曆刪除 {day}（{type}）",
            "{day} ({type}) retirado do calendário",
            "removed {day} ({code}) from the calendar",
        ),
        "cal.imported": (
            "已加入 {added} 日；{unchanged} 日已在日曆中",
            "{added} dia(s) acrescentado(s); {unchanged} já constavam",
            "added {added} day(s); {unchanged} already listed",
        ),
    }
)
