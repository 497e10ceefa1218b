"""The department report: one page a department head reads in five minutes.

Where the department stands overall and per category, against all departments and within
its peer group (rank, score, median, best); its strengths and weaknesses and improvement
priorities with the score they would bring (`evaluation.compare`); the change since the
previous run of the same framework and why; its citizen-rating summary (rating measures
of its application objects for the run's period, with the minimum-count rule) and its
open bad-rating cases.

`department_report(session, run, department)` assembles the data (no HTML);
`render_department_report(report, lang)` turns it into a self-contained page with every
stored text escaped; `write_department_report(s)` write it to files. Parts that need a
module not present in this installation say so in their section instead of failing.
"""

from __future__ import annotations

import html
import math
import re
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import pandas as pd
from sqlalchemy import select
from sqlmodel import Session, col

from egov.errors import EgovError
from egov.models import AssessedObject, Department, EvaluationRun, FrameworkVersion, PeerGroup, Period
from egov.store import DEMO_NOTICE, previous_run
from evaluation.engine import EvaluationResult
from indicators.framework import Framework
from surveys.schemas import OPEN_CASE_STATES

NAME_COLUMN = {"zh-Hant": "name_zh", "pt": "name_pt", "en": "name_en"}
TOP_N = 5

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


def _register_labels() -> None:
    from reports.i18n import TABLE, add

    add({k: v for k, v in LABELS.items() if k not in TABLE})


_register_labels()


def t(key: str, lang: str, **values: object) -> str:
    from reports.i18n import t as shared

    return shared(key, lang, **values)


# --- data ----------------------------------------------------------------------------------------
@dataclass
class Section:
    """A part of the report: its table (or None), notes, and `missing`: why it is absent."""

    table: pd.DataFrame | None = None
    notes: list[str] = field(default_factory=list)
    missing: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass
class DepartmentReport:
    """Everything the department report shows (no HTML); texts are stored as given."""

    run_key: str
    period: str
    framework_code: str
    framework_version: str
    framework: Framework
    department: str
    names: dict[str, str]  # lang -> name
    peer_group: str | None
    peer_group_names: dict[str, str]
    illustrative: bool
    standing: (
        pd.DataFrame
    )  # index node: score, rank, n, median, best, peer_rank, peer_n, peer_median, peer_best
    strengths: Section
    priorities: Section
    change: Section
    ratings: Section
    cases: Section

    def name(self, lang: str) -> str:
        return self.names.get(lang) or self.names.get("en") or self.department

    def group_name(self, lang: str) -> str:
        if not self.peer_group:
            return ""
        return self.peer_group_names.get(lang) or self.peer_group_names.get("en") or self.peer_group

    def label(self, code: str, lang: str) -> str:
        node = self.framework.nodes.get(code)
        return node.label(lang) if node is not None else code


def _names(row: Any) -> dict[str, str]:
    return {lang: str(getattr(row, column) or "") for lang, column in NAME_COLUMN.items()}


def _num(v: Any) -> float:
    try:
        f = float(v)
    except (TypeError, ValueError):
        return float("nan")
    return f


def _peer_members(result: EvaluationResult, department: str) -> tuple[str | None, list[str]]:
    groups = result.units["peer_group"].groupby(result.units["department"].astype(str)).first()
    group = groups.get(department)
    if not isinstance(group, str) or not group:
        return None, []
    return group, [str(d) for d in groups.index[groups == group]]


def standing_table(result: EvaluationResult, department: str, nodes: list[str]) -> pd.DataFrame:
    """Score, rank and the field's median and best at each node, among all departments and
    within the peer group. Ranks are the engine's (1 = best), never recomputed here."""
    scores, ranks = result.department_scores, result.department_ranks
    if scores is None or ranks is None:
        raise EgovError("this run has no department scores")
    _group, members = _peer_members(result, department)
    peer_ranks = result.peer_ranks
    rows = []
    for node in nodes:
        column = scores[node].dropna() if node in scores else pd.Series(dtype=float)
        peer = column[column.index.isin(members)]
        has_peer = peer_ranks is not None and node in peer_ranks and department in peer_ranks.index
        rows.append(
            {
                "node": node,
                "score": _num(column.get(department)),
                "rank": _num(ranks[node].get(department)) if node in ranks else float("nan"),
                "n": len(column),
                "median": float(column.median()) if len(column) else float("nan"),
                "best": float(column.max()) if len(column) else float("nan"),
                "peer_rank": _num(peer_ranks.at[department, node])
                if has_peer and peer_ranks is not None
                else float("nan"),
                "peer_n": len(peer),
                "peer_median": float(peer.median()) if len(peer) else float("nan"),
                "peer_best": float(peer.max()) if len(peer) else float("nan"),
            }
        )
    return pd.DataFrame(rows).set_index("node")


def _compare() -> Any:
    """evaluation.compare, imported when needed (None when this installation lacks it)."""
    try:
        import evaluation.compare as compare
    except ImportError:
        return None
    return compare


NO_COMPARE = "evaluation.compare is not available in this installation"


def _strengths(result: EvaluationResult, department: str) -> Section:
    compare = _compare()
    if compare is None:
        return Section(missing=NO_COMPARE)
    try:
        table = compare.strengths_weaknesses(result, department, n=TOP_N)
    except EgovError as exc:
        return Section(missing=str(exc))
    return Section(table=table)


def _priorities(result: EvaluationResult, department: str, framework: Framework) -> Section:
    compare = _compare()
    if compare is None:
        return Section(missing=NO_COMPARE)
    try:
        table = compare.priorities(result, department, "median", framework=framework, within="peers")
    except EgovError as exc:
        return Section(missing=str(exc))
    if not table.empty:
        table = table[table["gain"] > 0]
    return Section(table=table.head(TOP_N))


def _swapped(session: Session, data_run: EvaluationRun, method_run: EvaluationRun) -> EvaluationResult | None:
    """The data of one run evaluated with the framework and spec of another (for the
    data/method split of a change); None when that cannot be done."""
    from egov.record import load_inputs
    from evaluation.engine import evaluate

    try:
        data = load_inputs(session, data_run)
        method = load_inputs(session, method_run)
        return evaluate(data.data, method.framework, method.spec, units=data.units, history=data.history)
    except EgovError:
        return None


def _change(
    session: Session, run: EvaluationRun, result: EvaluationResult, department: str, cache: dict[str, Any]
) -> Section:
    if "previous_run" not in cache:  # (run key, period code): ORM rows do not outlive a session
        found = previous_run(session, run)
        found_period = session.get(Period, found.period_id) if found is not None else None
        cache["previous_run"] = (found.run_key, found_period.code if found_period else "") if found else None
    if cache["previous_run"] is None:
        return Section(missing="dr.no_previous")
    from egov.record import load_result
    from egov.store import get_run

    prev_key, prev_code = cache["previous_run"]
    sec = Section(extra={"previous_run": prev_key, "previous_period": prev_code})
    prev = get_run(session, prev_key)
    try:
        if "previous" not in cache:
            cache["previous"] = load_result(session, prev, verify=False)
        previous = cache["previous"]
    except EgovError as exc:
        sec.missing = str(exc)
        return sec
    # score and rank per node, from the two results (always available)
    nodes = [result.index_code, *map(str, result.weights.get(result.index_code, pd.Series()).index)]
    s0, r0 = previous.department_scores, previous.department_ranks
    s1, r1 = result.department_scores, result.department_ranks
    assert s0 is not None and r0 is not None and s1 is not None and r1 is not None
    rows = []
    for node in nodes:

        def get(df: pd.DataFrame, node: str = node) -> float:
            return _num(df.at[department, node]) if node in df and department in df.index else float("nan")

        rows.append(
            {
                "node": str(node),
                "score_previous": get(s0),
                "score_current": get(s1),
                "change": get(s1) - get(s0),
                "rank_previous": get(r0),
                "rank_current": get(r1),
            }
        )
    sec.table = pd.DataFrame(rows).set_index("node")
    compare = _compare()
    if compare is None:
        sec.extra["why_missing"] = NO_COMPARE
        return sec
    swapped: dict[str, EvaluationResult | None] = {}
    if "change" not in cache and (
        previous.framework_hash != result.framework_hash or previous.spec != result.spec
    ):
        swapped = {
            "current_data_previous_method": _swapped(session, run, prev),
            "previous_data_current_method": _swapped(session, prev, run),
        }
    try:
        if "change" not in cache:
            cache["change"] = compare.change(previous, result, **swapped)
        ch = cache["change"]
    except EgovError as exc:
        sec.extra["why_missing"] = str(exc)
        return sec
    summary = ch.summary[ch.summary["department"] == department]
    sec.extra["summary"] = summary.iloc[0].to_dict() if len(summary) else {}
    contrib = ch.contributions[ch.contributions["department"] == department].copy()
    contrib["size"] = contrib["contribution"].abs()
    sec.extra["contributions"] = (
        contrib.sort_values("size", ascending=False, kind="mergesort").head(TOP_N).drop(columns="size")
    )
    sec.extra["method_changed"] = bool(ch.method_changed)
    sec.notes = list(ch.notes)
    return sec


def _ratings(session: Session, period: Period, department_id: int, cache: dict[str, Any]) -> Section:
    """Rating measures of the department's application objects for the period (roll-ups),
    with the minimum-count rule of the rating API (EGOV_MIN_RATINGS)."""
    from egov.settings import get_settings
    from surveys.rollup import rating_measures

    min_n = get_settings().min_ratings
    apps = session.execute(
        select(AssessedObject)
        .where(col(AssessedObject.department_id) == department_id, col(AssessedObject.kind) == "application")
        .order_by(col(AssessedObject.code))
    ).scalars()
    objects = {o.code: _names(o) for o in apps}
    if "measures" not in cache:
        cache["measures"], _notes = rating_measures(session, period.start, period.end, min_ratings=min_n)
    measures = cache["measures"]
    mine = measures[measures.index.isin(list(objects))].sort_index()
    return Section(table=mine, extra={"min_ratings": min_n, "objects": objects})


def _cases(session: Session, department: Department) -> Section:
    """The department's bad-rating cases that are not closed or removed."""
    from egov.auth import Principal
    from surveys.cases import list_cases

    who = Principal(0, "department", department.id, department.code, "department report")
    rows = [c for c in list_cases(session, who, limit=10_000) if c["state"] in OPEN_CASE_STATES]
    names = {
        o.code: _names(o)
        for o in session.execute(
            select(AssessedObject).where(col(AssessedObject.department_id) == department.id)
        ).scalars()
    }
    try:
        from surveys.questions import questions

        drivers = {str(k): dict(v) for k, v in questions().get("drivers", {}).items()}
    except Exception:  # the question file is optional for the report: codes are shown instead
        drivers = {}
    return Section(
        table=pd.DataFrame(rows), extra={"objects": names, "today": date.today(), "drivers": drivers}
    )


def department_report(
    session: Session,
    run: EvaluationRun,
    department: str,
    result: EvaluationResult | None = None,
    cache: dict[str, Any] | None = None,
) -> DepartmentReport:
    """Assemble the department report of a stored run. `result`: the run's recomputed
    result, when the caller has it already; `cache`: a dict kept across the departments of
    one run (the previous run's result, the change, the rating measures)."""
    cache = {} if cache is None else cache
    from egov.record import load_result
    from indicators.framework import parse_framework

    dept = session.execute(select(Department).where(col(Department.code) == department)).scalar()
    if dept is None:
        raise EgovError(f"unknown department '{department}'")
    period = session.get(Period, run.period_id)
    fw_row = session.get(FrameworkVersion, run.framework_id)
    if period is None or fw_row is None:
        raise EgovError(f"run {run.run_key}: its framework or period is missing from the database")
    if result is None:
        result = load_result(session, run, verify=False)
    if result.department_scores is None or department not in result.department_scores.index:
        raise EgovError(f"department '{department}' has no score in run {run.run_key}")
    if "framework" not in cache:
        cache["framework"] = parse_framework(
            fw_row.toml_text, origin=f"framework {fw_row.code} {fw_row.version}"
        )
    framework: Framework = cache["framework"]
    nodes = [framework.index_code, *[c.code for c in framework.categories]]
    group, _members = _peer_members(result, department)
    group_names: dict[str, str] = {}
    if group:
        pg = session.execute(select(PeerGroup).where(col(PeerGroup.code) == group)).scalar()
        if pg is not None:
            group_names = _names(pg)
    return DepartmentReport(
        run_key=run.run_key,
        period=period.code,
        framework_code=fw_row.code,
        framework_version=fw_row.version,
        framework=framework,
        department=department,
        names=_names(dept),
        peer_group=group,
        peer_group_names=group_names,
        illustrative=DEMO_NOTICE in (run.note or ""),
        standing=standing_table(result, department, nodes),
        strengths=_strengths(result, department),
        priorities=_priorities(result, department, framework),
        change=_change(session, run, result, department, cache),
        ratings=_ratings(session, period, int(dept.id or 0), cache),
        cases=_cases(session, dept),
    )


# --- HTML ----------------------------------------------------------------------------------------
def _f(v: Any, digits: int = 1, sign: bool = False) -> str:
    x = _num(v)
    if math.isnan(x):
        return "–"
    return f"{x:+.{digits}f}" if sign else f"{x:.{digits}f}"


def _i(v: Any) -> str:
    x = _num(v)
    return "–" if math.isnan(x) else str(int(x))


def _rank_of(rank: Any, n: Any, lang: str) -> str:
    if math.isnan(_num(rank)):
        return "–"
    return t("dr.rank_of", lang, rank=_i(rank), n=_i(n))


def _table(
    headers: list[str], rows: list[list[str]], numeric: tuple[int, ...] = (), caption: str = ""
) -> str:
    from reports.html import table

    return table(headers, rows, numeric=numeric, caption=caption)


def _note(text_: str) -> str:
    return f'<p class="note">{html.escape(text_)}</p>'


def _missing(lang: str, reason: str) -> str:
    from reports.html import not_available

    if reason.startswith("dr."):
        return f'<p class="na">{html.escape(t(reason, lang))}</p>'
    return not_available(lang, reason)


def _summary_html(r: DepartmentReport, lang: str) -> str:
    idx = r.framework.index_code
    row = r.standing.loc[idx]
    facts: list[tuple[str, str]] = [
        (t("col.department", lang), f"{r.name(lang)} ({r.department})"),
        (t("col.peer_group", lang), r.group_name(lang) or t("dr.no_peer_group", lang)),
        (
            t("dr.overall", lang),
            f"{_rank_of(row['rank'], row['n'], lang)} · {t('col.score', lang)} {_f(row['score'])}",
        ),
    ]
    if r.peer_group:
        facts.append((t("dr.within_peers", lang), _rank_of(row["peer_rank"], row["peer_n"], lang)))
    sw = r.strengths.table
    if sw is not None and not sw.empty:
        for side, key in (("strength", "dr.top_strength"), ("weakness", "dr.top_weakness")):
            part = sw[sw["side"] == side]
            if len(part):
                facts.append((t(key, lang), r.label(str(part.iloc[0]["indicator"]), lang)))
    pr = r.priorities.table
    if pr is not None and not pr.empty:
        top = pr.iloc[0]
        facts.append(
            (
                t("dr.top_priority", lang),
                t(
                    "dr.gain_text",
                    lang,
                    indicator=r.label(str(top["indicator"]), lang),
                    gain=_f(top["gain"], 2),
                    score=_f(top["new_score"]),
                    rank=_i(top["new_rank"]),
                ),
            )
        )
    body = "".join(f"<dt>{html.escape(k)}</dt><dd>{html.escape(v)}</dd>" for k, v in facts)
    return f'<dl class="facts">{body}</dl>'


def _standing_html(r: DepartmentReport, lang: str) -> str:
    headers = [
        t("dr.area", lang),
        t("col.score", lang),
        t("col.rank", lang),
        t("dr.median", lang),
        t("dr.best", lang),
    ]
    if r.peer_group:
        headers += [t("col.peer_rank", lang), t("dr.peer_median", lang), t("dr.peer_best", lang)]
    rows = []
    for node, s in r.standing.iterrows():
        cells = [r.label(str(node), lang)]
        if math.isnan(_num(s["score"])):
            cells += [t("dr.not_scored", lang), "–"]
        else:
            cells += [_f(s["score"]), _rank_of(s["rank"], s["n"], lang)]
        cells += [_f(s["median"]), _f(s["best"])]
        if r.peer_group:
            cells += [_rank_of(s["peer_rank"], s["peer_n"], lang), _f(s["peer_median"]), _f(s["peer_best"])]
        rows.append(cells)
    caption = t("dept.all_departments", lang)
    if r.peer_group:
        caption += f" · {t('dept.peer_group', lang)}: {r.group_name(lang)}"
    return _standing_chart(r, lang) + _table(headers, rows, numeric=(1, 3, 4, 6, 7), caption=caption)


def _standing_chart(r: DepartmentReport, lang: str) -> str:
    """The department's category scores next to the median and the best of all departments
    (and the peer group's median), as grouped bars (reports.charts.category_chart)."""
    try:
        from reports.charts import category_chart
        from reports.html import chart_html
    except ImportError:
        return ""
    series = [(r.name(lang), "score"), (t("dr.median", lang), "median"), (t("dr.best", lang), "best")]
    if r.peer_group:
        series.append((t("dr.peer_median", lang), "peer_median"))
    rows = [
        {"label": label, "category": r.label(str(node), lang), "score": _num(s[column])}
        for node, s in r.standing.iterrows()
        for label, column in series
    ]
    frame = pd.DataFrame(rows)
    return chart_html(category_chart(frame, lang, order=[label for label, _ in series]))


def _strengths_html(r: DepartmentReport, lang: str) -> str:
    sec = r.strengths
    if sec.table is None:
        return _missing(lang, sec.missing)
    out = [_note(t("dr.strengths_note", lang))]
    headers = [
        t("col.indicator", lang),
        t("dr.value", lang),
        t("dr.median", lang),
        t("dr.vs_median", lang),
        t("dr.percentile", lang),
        t("col.rank", lang),
    ]
    for side, key in (("strength", "dept.strengths"), ("weakness", "dept.weaknesses")):
        part = sec.table[sec.table["side"] == side]
        rows = [
            [
                r.label(str(x["indicator"]), lang),
                _f(x["value"]),
                _f(x["median"]),
                _f(x["vs_median"], sign=True),
                _f(x["percentile"], 2),
                _rank_of(x["rank"], x["n"], lang),
            ]
            for _, x in part.iterrows()
        ]
        out.append(f"<h3>{html.escape(t(key, lang))}</h3>")
        out.append(_table(headers, rows, numeric=(1, 2, 3, 4)) if rows else _note(t("report.none", lang)))
    return "".join(out)


def _priorities_html(r: DepartmentReport, lang: str) -> str:
    sec = r.priorities
    if sec.table is None:
        return _missing(lang, sec.missing)
    if sec.table.empty:
        return _note(t("report.none", lang))
    headers = [
        t("col.indicator", lang),
        t("dr.value", lang),
        t("dr.target", lang),
        t("dept.priority_gain", lang),
        t("dr.new_score", lang),
        t("dr.new_rank", lang),
        t("dr.new_peer_rank", lang),
    ]
    rows = [
        [
            r.label(str(x["indicator"]), lang),
            _f(x["value"]),
            _f(x["target"]),
            _f(x["gain"], 2, sign=True),
            _f(x["new_score"]),
            _i(x["new_rank"]),
            _i(x["new_peer_rank"]),
        ]
        for _, x in sec.table.iterrows()
    ]
    return _note(t("dr.priorities_note", lang)) + _table(headers, rows, numeric=(1, 2, 3, 4, 5, 6))


def _change_html(r: DepartmentReport, lang: str) -> str:
    sec = r.change
    if sec.table is None:
        return _missing(lang, sec.missing)
    out = [
        _note(
            t(
                "dr.previous_run",
                lang,
                period=sec.extra.get("previous_period", ""),
                run=sec.extra.get("previous_run", ""),
            )
        )
    ]
    headers = [
        t("dr.area", lang),
        t("dr.previous", lang),
        t("dr.current", lang),
        t("dr.change", lang),
        t("dr.rank_previous", lang),
        t("dr.rank_current", lang),
    ]
    rows = [
        [
            r.label(str(node), lang),
            _f(x["score_previous"]),
            _f(x["score_current"]),
            _f(x["change"], sign=True),
            _i(x["rank_previous"]),
            _i(x["rank_current"]),
        ]
        for node, x in sec.table.iterrows()
    ]
    out.append(_table(headers, rows, numeric=(1, 2, 3, 4, 5)))
    out.append(f"<h3>{html.escape(t('dept.change_why', lang))}</h3>")
    if "why_missing" in sec.extra:
        out.append(_missing(lang, str(sec.extra["why_missing"])))
        return "".join(out)
    summary = sec.extra.get("summary", {})
    parts = [
        (t("dr.value_effect", lang), summary.get("value_effect")),
        (t("dr.weight_effect", lang), summary.get("weight_effect")),
        (t("dr.residual", lang), summary.get("residual")),
    ]
    if sec.extra.get("method_changed"):
        out.append(_note(t("dr.method_changed", lang)))
        parts += [
            (t("dr.data_effect", lang), summary.get("data_effect")),
            (t("dr.method_effect", lang), summary.get("method_effect")),
        ]
    facts = "".join(
        f"<dt>{html.escape(k)}</dt><dd>{html.escape(_f(v, 2, sign=True))}</dd>"
        for k, v in parts
        if v is not None
    )
    out.append(f'<dl class="facts">{facts}</dl>')
    contrib = sec.extra.get("contributions")
    if isinstance(contrib, pd.DataFrame) and not contrib.empty:
        out.append(_note(t("dr.why_note", lang)))
        headers = [
            t("col.indicator", lang),
            t("dr.previous", lang),
            t("dr.current", lang),
            t("dr.contribution", lang),
        ]
        rows = [
            [
                r.label(str(x["indicator"]), lang),
                _f(x["value_previous"]),
                _f(x["value_current"]),
                _f(x["contribution"], 2, sign=True),
            ]
            for _, x in contrib.iterrows()
        ]
        out.append(_table(headers, rows, numeric=(1, 2, 3)))
    out += [_note(n) for n in sec.notes]
    return "".join(out)


def _ratings_html(r: DepartmentReport, lang: str) -> str:
    sec = r.ratings
    table = sec.table
    min_n = int(sec.extra.get("min_ratings", 0))
    objects: dict[str, dict[str, str]] = sec.extra.get("objects", {})
    if table is None or table.empty:
        return _note(t("dr.no_ratings", lang))
    headers = [
        t("dr.service", lang),
        t("col.n_ratings", lang),
        t("col.share_satisfied", lang) + " %",
        t("dr.interval", lang),
        t("dr.mean_level", lang),
        t("dr.bad_share", lang) + " %",
        t("dr.response_rate", lang) + " %",
    ]
    rows = []
    for code, x in table.iterrows():
        names = objects.get(str(code), {})
        name = names.get(lang) or names.get("en") or str(code)
        if _num(x["count"]) < min_n or math.isnan(_num(x["share_satisfied"])):
            rows.append([name, _i(x["count"]), t("dr.insufficient", lang), "–", "–", "–", "–"])
            continue
        rows.append(
            [
                name,
                _i(x["count"]),
                _f(x["share_satisfied"]),
                f"{_f(x['share_satisfied_low'])}–{_f(x['share_satisfied_high'])}",
                _f(x["mean_level"], 2),
                _f(x["bad_share"]),
                _f(x["response_rate"]),
            ]
        )
    return _table(headers, rows, numeric=(1, 2, 4, 5, 6)) + _note(t("dr.min_rule", lang, n=min_n))


def _cases_html(r: DepartmentReport, lang: str) -> str:
    table = r.cases.table
    if table is None or table.empty:
        return _note(t("dr.no_cases", lang))
    objects: dict[str, dict[str, str]] = r.cases.extra.get("objects", {})
    today = r.cases.extra.get("today", date.today())
    drivers: dict[str, dict[str, str]] = r.cases.extra.get("drivers", {})
    headers = [
        t("dr.case", lang),
        t("dr.service", lang),
        t("dr.state", lang),
        t("dr.level", lang),
        t("dr.reason", lang),
        t("dr.opened", lang),
        t("dr.due", lang),
    ]
    out = ['<div class="table-wrap"><table><thead><tr>']
    out += [f'<th scope="col">{html.escape(h)}</th>' for h in headers]
    out.append("</tr></thead><tbody>")
    for _, c in table.iterrows():
        names = objects.get(str(c["object"]), {})
        due = c["rectify_due"]
        overdue = c.get("rectified_day") is None and isinstance(due, date) and due < today
        state_key = f"state.{c['state']}"
        state = t(state_key, lang) if state_key in LABELS else str(c["state"])
        cells = [
            f"#{_i(c['id'])}",
            names.get(lang) or names.get("en") or str(c["object"]),
            state,
            _i(c["level"]),
            ", ".join(drivers.get(str(code), {}).get(lang) or str(code) for code in (c["reason"] or [])),
            str(c["opened_day"] or ""),
            str(due or "") + (f" ({t('dr.overdue', lang)})" if overdue else ""),
        ]
        tag = ' class="overdue" style="font-weight:bold"' if overdue else ""
        out.append(f"<tr{tag}>" + "".join(f"<td>{html.escape(v)}</td>" for v in cells) + "</tr>")
    out.append("</tbody></table></div>")
    return "".join(out) + _note(t("dr.cases_note", lang))


def render_department_report(r: DepartmentReport, lang: str = "zh-Hant", *, nav: str = "") -> str:
    """The report as one self-contained HTML page (every stored text escaped). `nav` is an
    HTML fragment (already escaped) shown first, e.g. the web pages' links."""
    from reports.html import render_page
    from reports.i18n import check_lang

    lang = check_lang(lang)
    sections = [
        (t("dr.summary", lang), nav + _summary_html(r, lang)),
        (t("dept.standing", lang), _standing_html(r, lang)),
        (f"{t('dept.strengths', lang)} / {t('dept.weaknesses', lang)}", _strengths_html(r, lang)),
        (t("dept.priorities", lang), _priorities_html(r, lang)),
        (t("dept.change", lang), _change_html(r, lang)),
        (t("dept.ratings_summary", lang), _ratings_html(r, lang)),
        (t("dept.open_cases", lang), _cases_html(r, lang)),
    ]
    title = f"{t('report.department.title', lang)}: {r.name(lang)}"
    meta = t(
        "dr.run_meta",
        lang,
        period=r.period,
        run=r.run_key,
        framework=r.framework_code,
        version=r.framework_version,
    )
    banner = t("report.demo_banner", lang) if r.illustrative else None
    return render_page(title, sections, lang, banner=banner, meta=meta, toc=False)


def safe_filename(code: str) -> str:
    """A department code as a file name part (anything unusual replaced)."""
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", code).strip("._") or "department"


def write_department_report(
    session: Session,
    run: EvaluationRun,
    department: str,
    out_dir: Path,
    lang: str = "zh-Hant",
    result: EvaluationResult | None = None,
    cache: dict[str, Any] | None = None,
) -> Path:
    """Write department-<CODE>.html into out_dir and return its path."""
    report = department_report(session, run, department, result, cache)
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / f"department-{safe_filename(department)}.html"
    path.write_text(render_department_report(report, lang), encoding="utf-8")
    return path


def write_department_reports(
    session: Session, run: EvaluationRun, out_dir: Path, lang: str = "zh-Hant"
) -> list[Path]:
    """One report per department scored in the run (the run is recomputed once)."""
    from egov.record import load_result

    result = load_result(session, run, verify=False)
    assert result.department_scores is not None
    cache: dict[str, Any] = {}
    return [
        write_department_report(session, run, str(d), out_dir, lang, result, cache)
        for d in sorted(map(str, result.department_scores.index))
    ]
