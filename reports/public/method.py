"""The public methodology page of a published run: the framework (name, code, version,
content hash) and its tree with weights as used and effective weights, the method of each
stage (the assessor's report's tables, `reports.assessor_data`), the data coverage, and the
rules in words (roll-up, missing values, the coverage rule, ties, immutability, rank
intervals)."""

from __future__ import annotations

from sqlmodel import Session

from egov.errors import EgovError
from egov.models import FrameworkVersion
from reports.assessor_data import AssessorData, coverage_rows, methods_rows, weight_rows
from reports.i18n import t
from reports.public.data import PublicRun
from reports.public.pages import Langs, bi_table, bt, frame, merge, para, period_nav, run_meta

RULES = ("pub.rule.rollup", "pub.rule.missing", "pub.rule.coverage", "pub.rule.ties", "pub.rule.published")


def _data(session: Session, pr: PublicRun, lang: str) -> AssessorData:
    """The assessor's report data of the run without its internal parts (names, ratings,
    coherence, trend): only what the methodology tables read."""
    fw_row = session.get(FrameworkVersion, pr.run.framework_id)
    if fw_row is None:  # pragma: no cover - a foreign key
        raise EgovError(f"run {pr.run.run_key}: its framework is missing")
    return AssessorData(
        run=pr.run,
        period=pr.inputs.period,
        framework=pr.framework,
        framework_row=fw_row,
        inputs=pr.inputs,
        result=pr.result,
        lang=lang,
        department_names={},
        object_names={},
    )


def _fmt(v: object, digits: int = 3) -> str:
    if v is None:
        return "–"
    if isinstance(v, float):
        return f"{v:.{digits}f}"
    return str(v)


def methodology_page(session: Session, pr: PublicRun, langs: Langs) -> str:
    """The methodology page of a published run (every text escaped)."""
    data = {lang: _data(session, pr, lang) for lang in langs}
    fw = pr.framework
    framework = para(
        langs,
        lambda lang: t(
            "pub.framework_text",
            lang,
            name=fw.name.get(lang) or fw.name.get("en") or fw.code,
            code=pr.framework_code,
            version=pr.framework_version,
            hash=pr.framework_hash,
        ),
    ) + bi_table(
        langs,
        lambda lang: [
            t("pub.node", lang),
            t("pub.level", lang),
            t("pub.weight", lang),
            t("pub.effective_weight", lang),
        ],
        lambda lang: [
            [f"{name} ({code})", str(level), _fmt(w), _fmt(e)]
            for code, name, level, w, e in weight_rows(data[lang])
        ],
        numeric=(1, 2, 3),
    )
    methods = bi_table(
        langs,
        lambda lang: [t("method.stage", lang), t("method.method", lang), t("col.item", lang)],
        lambda lang: [list(row) for row in methods_rows(data[lang])],
    )
    coverage = bi_table(
        langs,
        lambda lang: [t("pub.item", lang), t("pub.value", lang)],
        lambda lang: [[label, _fmt(value)] for label, value in coverage_rows(data[lang])],
        numeric=(1,),
    )
    total = len(fw.categories)
    rules = "".join(
        f"<li>{merge(langs, [t(key, lang, min=fw.ranking_rule, total=total) for lang in langs])}</li>"
        for key in RULES
    )
    rules += f"<li>{bt(langs, 'pub.interval_note', n=pr.mc_n, seed=pr.mc_seed)}</li>"
    sections = [
        (bt(langs, "pub.framework"), framework),
        (bt(langs, "pub.methods"), methods),
        (bt(langs, "pub.rules"), f"<ul>{rules}</ul>"),
        (bt(langs, "pub.coverage_facts"), coverage),
    ]
    return frame(
        langs,
        lambda lang: f"{t('pub.methodology', lang)} · {pr.period}",
        sections,
        period_nav(pr.period, langs),
        run_meta(pr, langs),
    )
