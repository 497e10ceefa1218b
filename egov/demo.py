"""The built-in Macau demo: the paper's departments and objects, its published figures, and
seeded synthetic values and citizen ratings elsewhere. ILLUSTRATIVE DATA, NOT AN OFFICIAL
EVALUATION: everything that shows it says so.
"""

from __future__ import annotations

import tomllib
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import delete
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from egov.cells import write_csv
from egov.cycle import CycleStatus, cycle_status
from egov.demo_activity import citizen_ratings, clear_activity, demo_actors, handle_cases, retire_actors
from egov.demo_cycle import DemoCycle, add_paper_evidence, clear_demo_cycles, open_demo_cycle, run_demo_cycle
from egov.imports.services import import_services
from egov.models import (
    AssessedObject,
    Department,
    EvaluationRun,
    MetricValue,
    OfferDaily,
    Period,
    RunInput,
    RunScore,
    RunUnit,
)
from egov.notices import DEMO_NOTICE as NOTICE
from egov.notices import DEMO_SOURCE
from egov.scoring import ScoreOutcome
from egov.store import add_metric_values, ensure_period, load_register, store_framework
from indicators.framework import Framework, applies, builtin_path, load_framework
from surveys.cases import management_indicator_values
from surveys.rollup import rebuild_rollups

DATA_DIR = Path(__file__).parent / "data"
PERIODS = {"2022": (date(2022, 1, 1), date(2022, 12, 31)), "2023": (date(2023, 1, 1), date(2023, 12, 31))}

# Residents (thousands), DSEC end-2023: the denominator of the registered-user figures.
RESIDENTS_2023 = 683.7

# Figures the source paper publishes (period, object, indicator, value, where in the paper).
# `where` holds the section and the paper's words verbatim in 「」 (tests/egov/test_paper_figures.py
# checks them against the paper, the value against the quoted numbers and the period against
# the quoted date); README.md lists these and the figures left unused, with why.
PUBLISHED: list[tuple[str, str, str, float, str]] = [
    (
        "2023",
        "ONE_ACCOUNT",
        "app_services_online",
        270,
        "§三(四)(1)「截至2023年7月，一戶通的開戶人數已逾52萬人，提供逾270項公共服務」",
    ),
    (
        "2023",
        "ONE_ACCOUNT",
        "app_registered_users",
        round(520_000 / RESIDENTS_2023, 1),
        "§三(四)(1)「截至2023年7月，一戶通的開戶人數已逾52萬人」: accounts opened (not active users) "
        "per 1,000 of 683,700 residents (DSEC, end-2023)",
    ),
    (
        "2023",
        "E_IDENTITY",
        "app_registered_users",
        round(280_000 / RESIDENTS_2023, 1),
        "§三(四)(1)「自 2023 年 6 月 30 日“一戶通”推出“電子身份”以來，至 11 月已有逾 28 萬人進行註冊」: "
        "registrations per 1,000 of 683,700 residents (DSEC, end-2023)",
    ),
    (
        "2023",
        "PROOF_OF_LIFE_ONLINE",
        "app_takeup",
        round(92_000 / 163_000 * 100, 1),
        "§三(四)(1)「截至2023年3月31日，有逾16.3萬人已辦理該年度再生證明，其中9.2萬人通過“一戶通”線上辦理在生證明」: "
        "9.2萬 of over 16.3萬 online through 一戶通",
    ),
    (
        "2023",
        "PROOF_OF_LIFE_ONLINE",
        "app_channel_share",
        67,
        "§三(四)(1)「截至2023年3月31日，有逾16.3萬人已辦理該年度再生證明，其中9.2萬人通過“一戶通”線上辦理在生證明，"
        "佔年度整體電子辦理量的67%」: 一戶通's share of the electronic volume, not a take-up",
    ),
    (
        "2023",
        "VEHICLE_TAX_ONLINE",
        "app_channel_share",
        85,
        "§三(四)(1)「2023年共有逾15萬輛車通過“一戶通”繳納行車稅，佔電子方式的近85%」: "
        "一戶通's share of the electronic payments (nearly 85 %), not a take-up",
    ),
]


@dataclass
class DemoOutcome:
    """What the demo made: by period, the run its cycle names (the published final run, or the
    draft in department review) and the cycle; the counts of what was stored."""

    outcomes: dict[str, ScoreOutcome]
    counts: dict[str, int] = field(default_factory=dict)
    cycles: dict[str, CycleStatus] = field(default_factory=dict)


def load_toml(name: str) -> dict[str, Any]:
    with open(DATA_DIR / name, "rb") as fh:
        return tomllib.load(fh)


DATA_STATUS = "illustrative (demo)"  # the column that marks every table the demo writes
MANIFEST = ".egov-demo-files"  # in the output folder: the files the last `egov demo` wrote there
DEMO_RUNS = f"{NOTICE}; seed="  # the note of the runs the demo makes (egov score's say NOTICE only)
CASE_INDICATORS = ("mgmt_rectify_on_time", "mgmt_return_visit")  # computed from the demo's cases
# the demo's "today": moves of cases later than this are not made yet, and the case
# indicators count the deadlines passed by then
DEMO_TODAY = max(end for _, end in PERIODS.values())


def _clear_demo(session: Session) -> None:
    """Delete what an earlier demo made: its cycles and what its keys did in them
    (egov.demo_cycle), its runs (with their scores, inputs and units), its metric values, its
    tokens, ratings, cases and keys, and the offers of its periods."""
    clear_demo_cycles(session)
    runs = select(EvaluationRun.id).where(col(EvaluationRun.note).startswith(DEMO_RUNS))
    for table in (RunScore, RunInput, RunUnit):
        session.execute(delete(table).where(col(table.run_id).in_(runs)))
    session.execute(delete(EvaluationRun).where(col(EvaluationRun.note).startswith(DEMO_RUNS)))
    demo_ids = select(MetricValue.id).where(col(MetricValue.source_file).startswith(DEMO_SOURCE))
    session.execute(delete(MetricValue).where(col(MetricValue.id).in_(demo_ids)))
    clear_activity(session)
    for start, end in PERIODS.values():
        session.execute(delete(OfferDaily).where(col(OfferDaily.day) >= start, col(OfferDaily.day) <= end))


def latent_quality(objects: pd.DataFrame, rng: np.random.Generator) -> dict[str, pd.DataFrame]:
    """The quality (0–1) behind every value and rating of the demo, by period: each
    department's is drawn once and moves by a small random step from one period to the
    next; each object keeps its own offset from its department's. Columns: department,
    department_quality, quality (index: the object codes)."""
    depts = np.array(sorted(objects["department"].unique()))
    dept_q = rng.uniform(0.25, 0.85, len(depts))
    offset = rng.normal(0, 0.1, len(objects))
    where = np.searchsorted(depts, objects["department"].to_numpy())
    out: dict[str, pd.DataFrame] = {}
    for i, code in enumerate(PERIODS):
        if i:
            dept_q = np.clip(dept_q + rng.normal(0, 0.05, len(depts)), 0.05, 0.95)
        out[code] = pd.DataFrame(
            {
                "department": objects["department"].to_numpy(),
                "department_quality": dept_q[where],
                "quality": np.clip(dept_q[where] + offset, 0, 1),
            },
            index=objects.index,
        )
    return out


def _synthetic_metrics(
    framework: Framework,
    objects: pd.DataFrame,
    quality: pd.Series,
    profile: dict[str, list[float]],
    rng: np.random.Generator,
    period: str,
) -> list[dict[str, Any]]:
    """Plausible values: the object's latent quality drives every indicator (so that
    rankings are coherent and persist), plus indicator noise and 3 % missing cells; not the
    case indicators, which come from the demo's cases."""
    rows: list[dict[str, Any]] = []
    for code, obj in objects.iterrows():
        q = float(quality[str(code)])
        for node in framework.indicators:
            if (
                node.source != "metric"
                or node.code in CASE_INDICATORS
                or not applies(node.applies_to, obj["kind"], obj["subkind"])
            ):
                continue
            if rng.random() < 0.03:
                continue
            lo, hi = profile[node.code]
            u = float(np.clip(q + rng.normal(0, 0.18), 0, 1))
            value = lo + u * (hi - lo) if node.direction > 0 else hi - u * (hi - lo)
            if float(lo).is_integer() and float(hi).is_integer() and hi - lo >= 3:
                value = round(value)
            else:
                value = round(value, 3)
            rows.append(
                {
                    "object": code,
                    "indicator": node.code,
                    "value": value,
                    "sheet": "synthetic",
                    "cell": f"seed/{period}",
                }
            )
    return rows


def _objects(session: Session) -> pd.DataFrame:
    """The registered objects (id, code, kind, subkind, department id, citizen_facing)."""
    return (
        pd.DataFrame(
            session.execute(
                sa_select(
                    col(AssessedObject.id),
                    col(AssessedObject.code),
                    col(AssessedObject.kind),
                    col(AssessedObject.subkind),
                    col(AssessedObject.department_id),
                    col(AssessedObject.citizen_facing),
                )
            ).all(),
            columns=["id", "code", "kind", "subkind", "department", "citizen_facing"],
        )
        .sort_values("code")
        .reset_index(drop=True)
    )


def _rated_services(objects: pd.DataFrame, quality: pd.DataFrame, use: dict[str, float]) -> pd.DataFrame:
    """The citizen-facing application services with their use (the profile's figure; the
    smallest stated one for a service the profile does not list) and latent quality."""
    apps = objects[(objects["kind"] == "application") & objects["citizen_facing"].astype(bool)].copy()
    apps["use"] = [float(use.get(c, min(use.values()))) for c in apps["code"]]
    apps["quality"] = quality.loc[apps["code"], "quality"].to_numpy()
    return apps


def build_demo(session: Session, *, seed: int, ratings_per_period: int) -> DemoOutcome:
    """(Re)load the demo into the database and take every demo period through its assessment
    cycle (egov.demo_cycle): the last period is left in department review, the others are
    published. The previous demo's cycles, runs, values, tokens, ratings and cases are replaced."""
    framework_path = builtin_path("macau")
    framework = load_framework(framework_path)
    framework_row = store_framework(session, framework, framework_path.read_text(encoding="utf-8"))
    counts = load_register(session, load_toml("macau_register.toml"), origin="macau_register.toml")
    # the illustrative service-item catalogue: a rating of a DSF service done inside One Account
    # counts for DSF too (docs/ratings.md "Service items"); re-importing edits in place
    import_services(session, DATA_DIR / "macau_services.toml")
    profile = load_toml("macau_demo_profile.toml")
    _clear_demo(session)
    session.flush()

    objects = _objects(session)
    rng = np.random.default_rng(seed)
    quality = latent_quality(objects.set_index("code"), rng)
    depts = {int(i): str(c) for i, c in session.execute(sa_select(col(Department.id), col(Department.code)))}
    actors = demo_actors(session, depts)
    outcomes: dict[str, ScoreOutcome] = {}
    totals: dict[str, int] = defaultdict(int)
    for code, (start, end) in PERIODS.items():
        period: Period = ensure_period(session, code, start, end)
        open_demo_cycle(session, code, actors)
        q = quality[code]
        rows = _synthetic_metrics(
            framework, objects.set_index("code"), q["quality"], profile["indicators"], rng, code
        )
        published = {(o, i): (v, where) for p, o, i, v, where in PUBLISHED if p == code}
        rows = [r for r in rows if (r["object"], r["indicator"]) not in published]
        totals["metric_values"] += add_metric_values(
            session, period, rows, source_file=f"{DEMO_SOURCE}synthetic seed={seed}", imported_by="egov demo"
        )
        for (o, i), (v, where) in published.items():
            totals["metric_values"] += add_metric_values(
                session,
                period,
                [{"object": o, "indicator": i, "value": v, "sheet": "paper"}],
                source_file=f"{DEMO_SOURCE}paper 婁勝華、趙友〈澳門特區電子政務建設〉{where}",
                imported_by="egov demo",
            )
        totals["evidence"] += add_paper_evidence(
            session, period, {k: w for k, (_, w) in published.items()}, actors
        )
        apps = _rated_services(objects, q, profile["use"])
        for k, v in citizen_ratings(
            session, apps, ratings_per_period, (code, start, end), rng, actors
        ).items():
            totals[k] += v
        dept_q = q.groupby("department")["department_quality"].first()
        for k, v in handle_cases(session, code, dept_q, DEMO_TODAY, rng, actors).items():
            totals[k] += v
        cases = management_indicator_values(session, start, end, as_of=DEMO_TODAY)
        totals["metric_values"] += add_metric_values(
            session,
            period,
            cases,
            source_file=f"{DEMO_SOURCE}cases {code} as of {DEMO_TODAY}",
            imported_by="egov demo",
        )
        rebuild_rollups(session, start, end)
        session.flush()
        cycle = DemoCycle(
            period,
            code != max(PERIODS),
            framework_row,
            framework,
            actors,
            q["quality"],
            f"{DEMO_RUNS}{seed}",
            seed,
        )
        draft, final = run_demo_cycle(session, cycle)
        outcomes[code] = final or draft
        for k, v in cycle.counts.items():
            totals[k] += v
    retire_actors(session, actors)
    counts.update(totals)
    cycles = {code: cycle_status(session, code) for code in PERIODS}
    return DemoOutcome(outcomes=outcomes, counts=counts, cycles=cycles)


def ranking_table(
    outcome: ScoreOutcome, names: pd.DataFrame, framework: Framework, lang: str = "en"
) -> pd.DataFrame:
    """Department ranking: overall and per category, with names, peer-group ranks and the
    coverage (`categories_assessed` of `categories_total`); a department scored on fewer
    categories than the framework's `[index] min_categories` has no overall rank (NaN)."""
    res = outcome.result
    assert res.department_scores is not None and res.department_ranks is not None
    idx = framework.index_code
    cats = [c.code for c in framework.categories]
    out = pd.DataFrame(index=res.department_scores.index)
    out.index.name = "department"
    out["name"] = names[lang].reindex(out.index)
    out["rank"] = res.department_ranks[idx]
    out["score"] = res.department_scores[idx]
    if res.peer_ranks is not None:
        peer = res.units.groupby("department")["peer_group"].first()
        out["peer_group"] = peer.reindex(out.index)
        out["peer_rank"] = res.peer_ranks[idx]
    out["categories_assessed"] = res.categories_scored("department").reindex(out.index)
    out["categories_total"] = len(cats)
    for c in cats:
        out[f"{c}_score"] = res.department_scores[c]
        out[f"{c}_rank"] = res.department_ranks[c]
    out["data_status"] = DATA_STATUS
    # the category league tables first, then the coverage, then the overall rank
    first = ["name", *[f"{c}_{what}" for c in cats for what in ("score", "rank")]]
    first += ["categories_assessed", "categories_total", "rank", "score"]
    out = out[[*first, *[c for c in out.columns if c not in first]]]
    return out.sort_values(["rank", "score"], ascending=[True, False], na_position="last", kind="mergesort")


def write_outputs(
    out_dir: Path, outcome: ScoreOutcome, ranking: pd.DataFrame, cycles: dict[str, CycleStatus] | None = None
) -> list[Path]:
    """Write the demo's CSV results and a notice into out_dir (with `cycles`, the notice says
    where each demo period's cycle stands)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    res = outcome.result
    written = []
    paths = {  # every table carries the illustrative mark, as the ranking does
        "department_ranking.csv": ranking,
        "department_scores.csv": res.table("department", coverage=True).assign(data_status=DATA_STATUS),
        "object_scores.csv": res.table("unit", coverage=True).assign(data_status=DATA_STATUS),
        "results_long.csv": res.long().assign(data_status=DATA_STATUS),
    }
    for name, df in paths.items():
        p = out_dir / name
        write_csv(df, p, float_format="%.6f", index=name != "results_long.csv")
        written.append(p)
    notice = out_dir / "NOTICE.txt"
    notice.write_text(
        f"{NOTICE}.\n\nDepartments and objects are named in the source paper (婁勝華、趙友，〈澳門特區電子政務建設："
        "制度框架與實踐成效〉); the figures the paper publishes are used where an indicator measures what they measure (README.md "
        "lists them, and those left unused with why); every other value and every citizen rating is seeded "
        "synthetic data.\n"
        f"Run {outcome.run.run_key}, framework hash {res.framework_hash[:12]}, inputs hash {outcome.run.inputs_hash[:12]}.\n"
        + "".join(f"{cycle_line(c)}\n" for _, c in sorted((cycles or {}).items())),
        encoding="utf-8",
    )
    written.append(notice)
    return written


def cycle_line(cycle: CycleStatus) -> str:
    """Where a demo period's assessment cycle stands, in a sentence (English, as the notice)."""
    if cycle.state == "published":
        return (
            f"Period {cycle.period}: published (final run {cycle.run_key}; its draft {cycle.draft_run_key})."
        )
    if cycle.state == "review" and cycle.review_deadline is not None:
        return (
            f"Period {cycle.period}: in department review until {cycle.review_deadline.isoformat()} "
            f"(draft run {cycle.run_key}); not published."
        )
    return f"Period {cycle.period}: {cycle.state} (run {cycle.run_key}); not published."


def forget_outputs(out_dir: Path) -> list[Path]:
    """Remove the files the previous `egov demo` wrote into out_dir (named in its manifest),
    so that none is left stale; no other file is touched. Returns the removed files."""
    manifest = out_dir / MANIFEST
    if not manifest.is_file():
        return []
    removed = []
    for name in manifest.read_text(encoding="utf-8").splitlines():
        path = out_dir / name
        # only plain names of files in out_dir itself (a manifest edited by hand cannot reach out)
        if name and name == Path(name).name and name not in (".", "..") and path.is_file():
            path.unlink()
            removed.append(path)
    manifest.unlink()
    return removed


def record_outputs(out_dir: Path, written: list[Path]) -> None:
    """Name the files the demo wrote into out_dir in its manifest (for `forget_outputs`)."""
    names = sorted({p.name for p in written if p.parent.resolve() == out_dir.resolve()})
    (out_dir / MANIFEST).write_text("".join(f"{n}\n" for n in names), encoding="utf-8")
