"""The words of the question sets' statistics in zh-Hant, pt and en, for `egov ratings reasons`
(bad-rating reasons by SAFP complaint category) and `egov ratings drivers` (driver scores), and
an item's or a category's name in a language (surveys.question_sets)."""

from __future__ import annotations

from reports.i18n import add
from surveys.question_sets import find_set, safp_categories

LABELS: dict[str, tuple[str, str, str]] = {
    "questions.reasons.title": (
        "差評原因（按行政公職局投訴類別）：{where}",
        "Motivos das avaliações negativas (por tipo de queixa dos SAFP): {where}",
        "Bad-rating reasons by SAFP complaint category: {where}",
    ),
    "questions.reasons.category": ("類別", "Tipo", "Category"),
    "questions.reasons.ratings": ("差評數（宗）", "Avaliações negativas (n.º)", "Bad ratings (count)"),
    "questions.reasons.share": ("佔差評 %", "% das avaliações negativas", "% of bad ratings"),
    "questions.reasons.total": (
        "差評合共 {n} 宗；一宗差評的原因可屬多於一個類別。",
        "{n} avaliações negativas no total; os motivos de uma avaliação podem caber em mais de um tipo.",
        "{n} bad ratings in all; one rating's reasons may fall in more than one category.",
    ),
    "questions.where.period": ("評估期 {period}", "período {period}", "period {period}"),
    "questions.where.all": ("全部日期", "todos os dias", "every day"),
    "questions.where.department": (
        "，部門 {department}",
        ", serviço {department}",
        ", department {department}",
    ),
    "questions.drivers.title": (
        "驅動因素得分（5 分量表）：{where}",
        "Pontuações dos factores (escala de 5 pontos): {where}",
        "Driver scores (5-point items): {where}",
    ),
    "questions.drivers.set": ("問卷", "Conjunto", "Question set"),
    "questions.drivers.item": ("題目", "Pergunta", "Item"),
    "questions.drivers.unit": ("單位", "Unidade", "Unit"),
    "questions.drivers.n": ("回答數（個）", "Respostas (n.º)", "Answers (count)"),
    "questions.drivers.mean": ("平均分（1–5 分）", "Média (1–5 pontos)", "Mean (1–5 points)"),
    "questions.drivers.agree": (
        "同意／滿意 %（4–5 分）",
        "% de acordo / satisfeitos (4–5)",
        "% agree / satisfied (4–5)",
    ),
    "questions.drivers.interval": ("95% 區間 %", "intervalo de 95 % (%)", "95 % interval (%)"),
    "questions.drivers.all": ("全部", "todos", "all"),
    "questions.drivers.none": (
        "這段期間沒有問卷回答。",
        "Sem respostas a conjuntos de perguntas neste período.",
        "No question-set answers in this period.",
    ),
    "questions.drivers.few": (
        "少於 {min} 個回答的組別不計平均分及比例（樣本不足）。",
        "Grupos com menos de {min} respostas não têm média nem percentagem (insuficiente).",
        "Groups with fewer than {min} answers have no mean or share (insufficient).",
    ),
}
add(LABELS)


def category_name(code: str, lang: str) -> str:
    """A SAFP complaint category's name in `lang` (SAFP's own in zh-Hant and pt)."""
    texts = safp_categories().get(code)
    return texts[lang] if texts else code


def item_name(question_set: str, version: str, item: str, lang: str) -> str:
    """An item's text in `lang` (its code when the set version or item is unknown)."""
    qs = find_set(question_set, version)
    found = qs.item(item) if qs is not None else None
    return found.texts[lang] if found is not None else item
