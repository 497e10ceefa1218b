"""The words of bad-rating cases in zh-Hant, pt and en (issue 17, points 3 and 4), shared by the
case desk (reports.web.desk), the citizen's status page (reports.status) and the ledger
(reports.ledger, `egov cases ledger`): the states in plain words, the handling tiers, the return
visit's outcomes, on time / overdue, and the ledger's columns."""

from __future__ import annotations

from reports.i18n import TABLE, add, t

LABELS: dict[str, tuple[str, str, str]] = {
    "case.desk": ("差評處理台", "Balcão das avaliações negativas", "Case desk"),
    "case.state.open": ("已收到，待部門核實", "Recebida, a aguardar verificação", "Received, to be checked"),
    "case.state.verified": ("部門已受理核實", "Verificada pelo serviço", "Taken up by the department"),
    "case.state.rectifying": ("整改中", "Em correcção", "Being put right"),
    "case.state.rectified": (
        "已整改，待回訪",
        "Corrigido, falta o contacto",
        "Put right, return visit to come",
    ),
    "case.state.explained": (
        "已解釋說明，待回訪",
        "Explicado, falta o contacto",
        "Explained, return visit to come",
    ),
    "case.state.return_visit_done": ("已回訪", "Cidadão contactado", "Return visit done"),
    "case.state.closed": ("已辦結", "Encerrado", "Closed"),
    "case.state.appealed": (
        "部門已提出申訴，待評估機構決定",
        "O serviço contestou; o avaliador decide",
        "Appealed by the department; the assessor decides",
    ),
    "case.state.upheld": (
        "申訴不成立，評價有效，部門須處理",
        "Contestação recusada: a avaliação conta e o serviço trata-a",
        "Appeal rejected: the rating stands and the department handles it",
    ),
    "case.state.removed": (
        "申訴成立，評價不計算",
        "Contestação aceite: a avaliação não conta",
        "Appeal accepted: the rating does not count",
    ),
    "case.tier.immediate": ("立行立改", "Correcção imediata", "Fix now"),
    "case.tier.deadline": ("限期整改", "Correcção no prazo", "Fix by the deadline"),
    "case.tier.explain": ("解釋說明", "Explicação", "Explain"),
    "case.tier.none": ("未定", "Por escolher", "Not chosen yet"),
    "case.outcome.satisfied": ("滿意", "Satisfeito", "Satisfied"),
    "case.outcome.unsatisfied": ("不滿意", "Insatisfeito", "Not satisfied"),
    "case.outcome.unreachable": ("未能聯絡", "Não contactável", "Could not be reached"),
    "case.time.on_time": ("按時答覆", "Respondido no prazo", "Answered on time"),
    "case.time.late": ("逾期答覆", "Respondido fora do prazo", "Answered late"),
    "case.time.overdue": ("已逾期", "Em atraso", "Overdue"),
    "case.time.pending": ("處理期內", "Dentro do prazo", "Within the deadline"),
    "case.time.not_due": ("無需答覆", "Sem resposta devida", "No answer due"),
    "case.visit_overdue": ("回訪已逾期", "Contacto em atraso", "Return visit overdue"),
    "case.appeal.upheld": (
        "申訴不成立（評價有效）",
        "Recusada (a avaliação conta)",
        "Rejected (the rating stands)",
    ),
    "case.appeal.removed": (
        "申訴成立（評價不計）",
        "Aceite (a avaliação não conta)",
        "Accepted (the rating does not count)",
    ),
    "case.appeal.pending": ("待決定", "Por decidir", "Waiting for the decision"),
    "case.appeal.none": ("沒有申訴", "Sem contestação", "No appeal"),
    # the ledger (台賬)
    "ledger.title": ("差評處理台賬", "Registo das avaliações negativas", "Bad-rating ledger"),
    "ledger.sheet": ("台賬", "Registo", "Ledger"),
    "ledger.col.id": ("個案編號", "N.º do caso", "Case no."),
    "ledger.col.department": ("部門", "Serviço", "Department"),
    "ledger.col.object": ("評估對象", "Objecto", "Object"),
    "ledger.col.opened": ("評價日期", "Data da avaliação", "Rating day"),
    "ledger.col.level": ("評價等級（1–5）", "Nível (1–5)", "Level (1–5)"),
    "ledger.col.reasons": ("原因", "Motivos", "Reasons"),
    "ledger.col.due": ("答覆期限", "Prazo de resposta", "Answer due"),
    "ledger.col.tier": ("處理方式", "Tratamento", "Handling tier"),
    "ledger.col.state": ("狀態", "Estado", "State"),
    "ledger.col.handler": ("經辦", "Responsável", "Handled by"),
    "ledger.col.answered": ("答覆日期", "Data da resposta", "Answer day"),
    "ledger.col.timeliness": ("是否按時", "No prazo?", "On time?"),
    "ledger.col.answer": ("對外答覆（整改或解釋）", "Resposta pública", "Public answer"),
    "ledger.col.note": ("內部備註", "Nota interna", "Internal note"),
    "ledger.col.visit_due": ("回訪期限", "Prazo do contacto", "Return visit due"),
    "ledger.col.visit_day": ("回訪日期", "Data do contacto", "Return visit day"),
    "ledger.col.outcome": ("回訪結果", "Resultado do contacto", "Return visit outcome"),
    "ledger.col.appeal": ("申訴", "Contestação", "Appeal"),
    "ledger.col.closed": ("辦結日期", "Data de encerramento", "Closed on"),
}

if "case.state.open" not in TABLE:
    add(LABELS)


def state_words(state: str, lang: str) -> str:
    key = f"case.state.{state}"
    return t(key, lang) if key in TABLE else state


def tier_words(tier: str, lang: str) -> str:
    return t(f"case.tier.{tier or 'none'}", lang) if f"case.tier.{tier or 'none'}" in TABLE else tier


def outcome_words(outcome: str, lang: str) -> str:
    key = f"case.outcome.{outcome}"
    return t(key, lang) if key in TABLE else "–"


def time_words(timeliness: str, lang: str) -> str:
    return t(f"case.time.{timeliness}", lang)


def appeal_words(appealed: bool, outcome: str, lang: str) -> str:
    """An appeal in words: none, waiting for the decision, rejected or accepted."""
    if not appealed:
        return t("case.appeal.none", lang)
    return (
        t(f"case.appeal.{outcome}", lang)
        if outcome in ("upheld", "removed")
        else t("case.appeal.pending", lang)
    )
