"""The words of the assessment cycle (egov.cycle) in zh-Hant, pt and en, for the command line
(`egov cycle`) and the report pages: the states, the roles, the status and history tables, and
a run's short label (period · state)."""

from __future__ import annotations

from reports.i18n import TABLE, add, t

LABELS: dict[str, tuple[str, str, str]] = {
    "cycle.state.collecting": ("收集數據", "Recolha", "Collecting"),
    "cycle.state.verifying": ("核實數據", "Verificação", "Verifying"),
    "cycle.state.draft": ("初稿", "Rascunho", "Draft"),
    "cycle.state.review": ("部門覆核", "Revisão pelos serviços", "Department review"),
    "cycle.state.final": ("定稿", "Versão final", "Final"),
    "cycle.state.published": ("已公佈", "Publicado", "Published"),
    "cycle.state.superseded": ("已被取代的初稿", "Rascunho substituído", "Superseded draft"),
    "cycle.state.none": ("不屬任何評估週期", "Fora de um ciclo", "Not in a cycle"),
    "cycle.role.lead": ("主導部門", "Entidade coordenadora", "Lead"),
    "cycle.role.assessor": ("評估機構", "Avaliador", "Assessor"),
    "cycle.role.department": ("部門", "Serviço", "Department"),
    "cycle.role.admin": ("管理員", "Administrador", "Administrator"),
    "cycle.title": ("評估週期 {period}", "Ciclo de avaliação {period}", "Assessment cycle {period}"),
    "cycle.list_title": ("評估週期", "Ciclos de avaliação", "Assessment cycles"),
    "cycle.period": ("評估期", "Período", "Period"),
    "cycle.state": ("狀態", "Estado", "State"),
    "cycle.run": ("評估批次", "Avaliação", "Run"),
    "cycle.draft_run": ("初稿批次", "Avaliação do rascunho", "Draft run"),
    "cycle.review_window": ("覆核期", "Prazo de revisão", "Review window"),
    "cycle.review_days": (
        "{n} 個澳門工作日",
        "{n} dias úteis de Macau",
        "{n} Macau working days",
    ),
    "cycle.review_dates": (
        "{start} 開始，{deadline} 截止",
        "de {start} até {deadline}",
        "from {start} to {deadline}",
    ),
    "cycle.deadline": ("覆核截止日", "Fim da revisão", "Review deadline"),
    "cycle.next": ("下一步", "Passo seguinte", "Next step"),
    "cycle.next_move": ("{state}（由{role}執行）", "{state} (por {role})", "{state} (by the {role})"),
    "cycle.no_next": ("無（已公佈）", "nenhum (publicado)", "none (published)"),
    "cycle.history": ("紀錄", "Histórico", "History"),
    "cycle.when": ("時間", "Quando", "When"),
    "cycle.who": ("執行者", "Quem", "Who"),
    "cycle.role": ("角色", "Papel", "Role"),
    "cycle.from": ("由", "De", "From"),
    "cycle.to": ("至", "Para", "To"),
    "cycle.reason": ("原因", "Motivo", "Reason"),
    "cycle.opened": (
        "已開啟評估週期 {period}：{state}",
        "Ciclo {period} aberto: {state}",
        "Cycle {period} opened: {state}",
    ),
    "cycle.moved": (
        "評估週期 {period}：{from_state} → {to_state}",
        "Ciclo {period}: {from_state} → {to_state}",
        "Cycle {period}: {from_state} → {to_state}",
    ),
    "cycle.none": (
        "尚未開啟任何評估週期（egov cycle open PERIOD）。",
        "Ainda não há ciclos (egov cycle open PERIOD).",
        "No assessment cycle yet (egov cycle open PERIOD).",
    ),
    "web.role.lead": ("主導部門", "Entidade coordenadora", "Lead"),
    "web.run_label": ("評估批次", "Avaliação", "Run"),
}
add({k: v for k, v in LABELS.items() if k not in TABLE})


def state_label(state: str | None, lang: str) -> str:
    """A cycle state (or a run's state; None: outside any cycle) in `lang`."""
    return t(f"cycle.state.{state or 'none'}", lang)


def role_label(role: str, lang: str) -> str:
    return t(f"cycle.role.{role}", lang) if f"cycle.role.{role}" in TABLE else role


def run_label(period: str, state: str | None, lang: str) -> str:
    """A run's short label: its period and its state, e.g. `2023 · Published`."""
    return f"{period} · {state_label(state, lang)}"
