"""Texts the engine and the store write in English (the coherence flags, the demo's run note
and value sources, where a method is set), said again in the report's language. The engine keeps its English
messages (logs, `egov` commands); the reports show these instead.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

from egov.notices import DEMO_NOTICE, DEMO_SOURCE
from evaluation.coherence import COLLINEAR
from evaluation.trend import NOT_COMPARABLE
from reports.i18n import add, t

add(
    {
        "flag.collinear": (
            "「{a}」與「{b}」（同屬「{node}」）的相關係數 r = {r}（|r| > {limit}）：兩者可能量度同一事物。",
            "«{a}» e «{b}» (em «{node}») têm correlação r = {r} (|r| > {limit}): podem medir a mesma coisa.",
            "'{a}' and '{b}' in '{node}' correlate at r = {r} (|r| > {limit}): they may measure the same thing.",
        ),
        "flag.negative": (
            "「{a}」與其所屬的「{node}」呈負相關（r = {r}）：請檢查其方向。",
            "«{a}» tem correlação negativa com o seu agregado «{node}» (r = {r}): verifique o sentido.",
            "'{a}' correlates negatively with its own aggregate '{node}' (r = {r}): check its direction.",
        ),
        "run.demo_note": (
            "示範資料：並非澳門特別行政區政府的正式評估",
            "Dados ilustrativos de demonstração: não é uma avaliação oficial do Governo da RAEM",
            "Illustrative demo data: not an official evaluation of the Macao SAR Government",
        ),
        "run.seed": ("隨機種子 {seed}", "semente {seed}", "seed {seed}"),
        "method.source.spec": ("運行的方法設定", "especificação da execução", "run spec"),
        "method.source.framework": ("指標框架的 [methods]", "[methods] do quadro", "framework [methods]"),
        "method.source.default": ("預設", "por omissão", "default"),
        "src.synthetic": (
            "示範資料：合成數值（隨機種子 {seed}）",
            "Demonstração: valor sintético (semente {seed})",
            "Demo: synthetic value (seed {seed})",
        ),
        "src.cases": (
            "示範資料：由示範個案計算（{code}，截至 {day}）",
            "Demonstração: calculado dos casos da demonstração ({code}, em {day})",
            "Demo: computed from the demo's cases ({code}, as of {day})",
        ),
        "src.paper": ("示範資料：論文 {where}", "Demonstração: artigo {where}", "Demo: paper {where}"),
        "note.prefix": ("注意：{note}", "nota: {note}", "note: {note}"),
        "note.norm_left_out": (
            "不採用替代標準化方法 {name}：對此數據，它給出低至 {low} 的數值，而 {aggs} 需要大於 0 的數值",
            "alternativa de normalização {name} excluída: dá valores até {low} para estes dados, e "
            "{aggs} precisa de valores > 0",
            "normalisation alternative {name} left out: it gives values down to {low} for this data, "
            "and {aggs} needs values > 0",
        ),
        "note.agg_left_out": (
            "不採用替代匯總方法 {name}：它需要大於 0 的數值，而對此數據各標準化方法給出低至 {low} 的數值",
            "alternativa de agregação {name} excluída: precisa de valores > 0, e as normalizações dão "
            "valores até {low} para estes dados",
            "aggregation alternative {name} left out: it needs values > 0, and the normalisations give "
            "values down to {low} for this data",
        ),
        "note.few_ratings": (
            "{n} 個評估對象的市民評價少於 {min} 個，沒有由評價得出的數值（樣本不足）：{objects}",
            "{n} objecto(s) com menos de {min} avaliações não têm valores derivados das avaliações "
            "(insuficiente): {objects}",
            "{n} object(s) with fewer than {min} ratings have no rating-derived values (insufficient): {objects}",
        ),
        "note.no_data": (
            "{n}{of} 個指標{where}沒有數據，不計入任何匯總：{codes}",
            "{n}{of} indicador(es) sem dados{where}, excluídos de todos os agregados: {codes}",
            "{n}{of} indicator(s) with no data{where}, left out of every aggregate: {codes}",
        ),
        "note.more": ("…（另 {n} 個）", "… (+{n})", "… (+{n} more)"),
        "note.of": ("／{total}", " de {total}", " of {total}"),
        "note.in_period": ("（評估期 {period}）", " no período {period}", " in period {period}"),
        "scale.not_comparable": (
            "不可比較：兩次評估使用不同方法（指標框架或設定），分數不在同一尺度上，差異並非績效變化",
            "não comparável: as duas avaliações usam métodos diferentes (quadro ou especificação), "
            "por isso as pontuações estão em escalas diferentes e a diferença não é uma mudança de desempenho",
            NOT_COMPARABLE,
        ),
        "scale.fixed": (
            "共同尺度：全部 {n} 個指標按固定上下限標準化",
            "escala comum: limites fixos para todos os {n} indicadores",
            "common scale: fixed goalposts for all {n} indicators",
        ),
        "scale.pooled": (
            "共同尺度：{fixed} 個指標按固定上下限標準化，{pooled} 個指標按所比較 {periods} 期合併數值的"
            "最小值和最大值（min-max）標準化",
            "escala comum: limites fixos para {fixed} indicador(es), min-max sobre os valores conjuntos "
            "dos {periods} períodos comparados para {pooled}",
            "common scale: fixed goalposts for {fixed} indicator(s), min-max over the pooled values of "
            "the {periods} periods compared for {pooled}",
        ),
        "src.rating_rollup": (
            "市民評價匯總",
            "Agregação das avaliações dos cidadãos",
            "Citizen-rating roll-up",
        ),
    }
)

FEW_RATINGS = re.compile(
    r"^(\d+) object\(s\) with fewer than (\d+) ratings have no rating-derived values \(insufficient\): (.+)$",
    re.S,
)
# evaluation.alternatives.valid_alternatives: the alternatives of `egov uncertainty` left out
NORM_LEFT_OUT = re.compile(
    r"^normalisation alternative (.+) left out: it gives values down to (\S+) for this data, and "
    r"(.+) needs values > 0$"
)
AGG_LEFT_OUT = re.compile(
    r"^aggregation alternative (.+) left out: it needs values > 0, and the normalisations give "
    r"values down to (\S+) for this data$"
)
NO_DATA = re.compile(
    r"^(\d+)(?: of (\d+))? indicators? (?:has|have) no data( in period (\S+))? and (?:is|are) left out of "
    r"every aggregate: (.+)$",
    re.S,
)
MORE = re.compile(r"… \(\+(\d+) more\)")
SCALE_FIXED = re.compile(r"^common scale: fixed goalposts for all (\d+) indicators?$")
SCALE_POOLED = re.compile(
    r"^common scale: fixed goalposts for (\d+) indicators?, min-max over the pooled values of the (\d+) "
    r"periods compared for (\d+)$"
)
SEED = re.compile(r"\bseed=(\d+)\b")
SYNTHETIC = re.compile(rf"^{re.escape(DEMO_SOURCE)}synthetic seed=(\d+)$")
CASES = re.compile(rf"^{re.escape(DEMO_SOURCE)}cases (\S+) as of (\S+)$")
PAPER = re.compile(rf"^{re.escape(DEMO_SOURCE)}paper (.+?)(?::\s.*)?$", re.S)


def flag_text(row: Mapping[Any, Any], lang: str, name: Callable[[str], str]) -> str:
    """A coherence flag (a row of evaluation.coherence.coherence_flags: aggregate, node,
    other, r, flag "collinear" or "negative with parent") in `lang`, the nodes by `name`."""
    values = {
        "a": name(str(row["node"])),
        "b": name(str(row["other"])),
        "node": name(str(row["aggregate"])),
        "r": f"{float(row['r']):.3f}",
        "limit": f"{COLLINEAR:g}",
    }
    return t("flag.collinear" if row["flag"] == "collinear" else "flag.negative", lang, **values)


def run_note(note: str, lang: str) -> str:
    """A run's stored note in `lang`: the demo notice and its seed translated; any other text
    (an operator's own note) as written."""
    text = note.replace(DEMO_NOTICE, t("run.demo_note", lang))
    return SEED.sub(lambda m: t("run.seed", lang, seed=m.group(1)), text)


def scale_text(scale: str, lang: str) -> str:
    """The common scale of a comparison between runs (evaluation.trend.CommonScale.describe) in
    `lang`; in English, or a text not recognised, as written."""
    if lang != "en" and (m := SCALE_FIXED.match(scale)):
        return t("scale.fixed", lang, n=m.group(1))
    if lang != "en" and (m := SCALE_POOLED.match(scale)):
        return t("scale.pooled", lang, fixed=m.group(1), periods=m.group(2), pooled=m.group(3))
    if scale == NOT_COMPARABLE:
        return t("scale.not_comparable", lang)
    return scale


def method_source(source: str, lang: str) -> str:
    """Where a stage's method is set ("spec", "framework" or "default") in `lang`."""
    return t(f"method.source.{source}", lang)


def source_text(source: str | None, lang: str) -> str | None:
    """A stored value's source (`MetricValue.source_file`) as shown in `lang`: in English
    exactly as stored; in zh-Hant and pt the demo's markers ("demo:synthetic seed=N",
    "demo:paper <where in the paper>: <English note>") said in `lang` (the paper's place
    only: the English note is left to the English outputs); a file name as written."""
    if source is None or lang == "en":
        return source
    if m := SYNTHETIC.match(source):
        return t("src.synthetic", lang, seed=m.group(1))
    if m := CASES.match(source):
        return t("src.cases", lang, code=m.group(1), day=m.group(2))
    if m := PAPER.match(source):
        return t("src.paper", lang, where=m.group(1))
    return source


def note_text(note: str, lang: str) -> str:
    """An engine or scoring note as printed after a command ("note: …") in `lang`: the notes of
    insufficient ratings and of indicators without data said in `lang`, codes kept; any other
    note as written."""
    return t("note.prefix", lang, note=note_body(note, lang))


def note_body(note: str, lang: str) -> str:
    """`note_text` without the "note:" prefix (a warning listed in a report)."""
    if lang != "en" and (m := FEW_RATINGS.match(note)):
        note = t("note.few_ratings", lang, n=m.group(1), min=m.group(2), objects=m.group(3))
    elif lang != "en" and (m := NO_DATA.match(note)):
        of = t("note.of", lang, total=m.group(2)) if m.group(2) else ""
        where = t("note.in_period", lang, period=m.group(4)) if m.group(4) else ""
        codes = MORE.sub(lambda c: t("note.more", lang, n=c.group(1)), m.group(5))
        note = t("note.no_data", lang, n=m.group(1), of=of, where=where, codes=codes)
    elif lang != "en" and (m := NORM_LEFT_OUT.match(note)):
        note = t("note.norm_left_out", lang, name=m.group(1), low=m.group(2), aggs=m.group(3))
    elif lang != "en" and (m := AGG_LEFT_OUT.match(note)):
        note = t("note.agg_left_out", lang, name=m.group(1), low=m.group(2))
    else:
        note = run_note(note, lang)
    return note
