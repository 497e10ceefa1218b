"""The words of the department review's objections (egov.objections, egov.review) in zh-Hant, pt
and en, for the command line (`egov objections`) and, later, the web pages and the public site:
the states of an objection, what it is about, the list and summary tables."""

from __future__ import annotations

from reports.i18n import TABLE, add, t, value_text

LABELS: dict[str, tuple[str, str, str]] = {
    "objection.state.open": ("待回覆", "Pendente", "Open"),
    "objection.state.accepted": ("已接納", "Aceite", "Accepted"),
    "objection.state.rejected": ("不予接納", "Não aceite", "Rejected"),
    "objection.target.value": ("數值", "Valor", "Value"),
    "objection.target.result": ("結果", "Resultado", "Result"),
    "objection.aspect.score": ("得分", "pontuação", "score"),
    "objection.aspect.rank": ("排名", "posição", "rank"),
    "objection.list_title": ("異議（{period}）", "Objecções ({period})", "Objections ({period})"),
    "objection.all_periods": ("所有評估期", "todos os períodos", "all periods"),
    "objection.id": ("編號", "N.º", "No."),
    "objection.period": ("評估期", "Período", "Period"),
    "objection.department": ("部門", "Serviço", "Department"),
    "objection.target": ("對象", "Sobre", "About"),
    "objection.what": ("內容", "O quê", "What"),
    "objection.draft_value": ("初稿數值", "Valor no rascunho", "Draft value"),
    "objection.text": ("異議", "Objecção", "Objection"),
    "objection.evidence": ("證明", "Prova", "Evidence"),
    "objection.state": ("狀態", "Estado", "State"),
    "objection.answer": ("回覆", "Resposta", "Answer"),
    "objection.reason": ("理由", "Motivo", "Reason"),
    "objection.new_value": ("新數值", "Novo valor", "New value"),
    "objection.none": ("沒有異議。", "Não há objecções.", "No objections."),
    "objection.raised": (
        "已提出異議 {id}（{period}，{department}）：{what}",
        "Objecção {id} apresentada ({period}, {department}): {what}",
        "Objection {id} raised ({period}, {department}): {what}",
    ),
    "objection.answered": (
        "異議 {id}：{state}",
        "Objecção {id}: {state}",
        "Objection {id}: {state}",
    ),
    "objection.value_set": (
        "{object} · {indicator} 的新數值：{value}（原有數值保留於紀錄）",
        "Novo valor de {object} · {indicator}: {value} (o valor anterior fica no histórico)",
        "New value of {object} · {indicator}: {value} (the previous value stays in the history)",
    ),
    "objection.summary_title": (
        "部門覆核摘要（{period}）",
        "Resumo da revisão pelos serviços ({period})",
        "Department review summary ({period})",
    ),
    "objection.count": ("數目", "Número", "Count"),
    "objection.total": ("合計", "Total", "Total"),
    "objection.runs": (
        "初稿 {draft} → 定稿 {final}",
        "Rascunho {draft} → versão final {final}",
        "Draft {draft} → final {final}",
    ),
    "objection.changes": (
        "定稿相對初稿：{inputs} 個輸入數值、{results} 個部門結果（部門 × 節點）有所改變",
        "Versão final face ao rascunho: {inputs} valores de entrada e {results} resultados de serviços "
        "(serviço × nó) mudaram",
        "Final against the draft: {inputs} input values and {results} department results "
        "(department × node) changed",
    ),
    "objection.finalised": (
        "評估週期 {period}：部門覆核 → 定稿，已記錄覆核的改變與異議",
        "Ciclo {period}: revisão → versão final; alterações e objecções registadas",
        "Cycle {period}: review → final; the review's changes and objections are recorded",
    ),
    "objection.draft_title": (
        "{department} 的初稿（{period}，覆核截止 {deadline}）",
        "Rascunho de {department} ({period}, revisão até {deadline})",
        "Draft of {department} ({period}, review until {deadline})",
    ),
    "objection.node": ("節點", "Nó", "Node"),
    "objection.score": ("得分（0–100）", "Pontuação (0–100)", "Score (0–100)"),
    "objection.rank": ("排名", "Posição", "Rank"),
    "objection.object": ("評估對象", "Objecto", "Object"),
    "objection.indicator": ("指標", "Indicador", "Indicator"),
    "objection.value": ("數值", "Valor", "Value"),
}
add({k: v for k, v in LABELS.items() if k not in TABLE})


def objection_state(state: str, lang: str) -> str:
    """An objection's state (open, accepted, rejected) in `lang`."""
    key = f"objection.state.{state}"
    return t(key, lang) if key in TABLE else state


def objection_target(target: str, lang: str) -> str:
    key = f"objection.target.{target}"
    return t(key, lang) if key in TABLE else target


def objection_what(target: str, what: str, aspect: str, lang: str) -> str:
    """What an objection is about: `OBJECT · INDICATOR`, or `NODE · score|rank` in `lang`."""
    if target == "result" and aspect in ("score", "rank"):
        node = what.rsplit(" · ", 1)[0]
        return f"{node} · {t(f'objection.aspect.{aspect}', lang)}"
    return what


add(
    {
        "objection.points": (" 分（0–100）", " pontos (0–100)", " points (0–100)"),
        "objection.rank_value": ("第 {rank} 名", "{rank}.º", "rank {rank}"),
    }
)


def shown_value(value: float | None, unit: str, target: str, aspect: str, lang: str) -> str:
    """A value objected to or set, with its unit: the indicator's own unit for a value, points
    (0–100) for a score, the position for a rank; "—" for none."""
    if value is None:
        return "—"
    if target == "result" and aspect == "rank":
        return t("objection.rank_value", lang, rank=int(value))
    if target == "result":
        return value_text(value, "", lang) + t("objection.points", lang)
    return value_text(value, unit, lang)
