"""The built-in Macau demo: the paper's departments and objects, its published figures, and
seeded synthetic values and citizen ratings elsewhere. ILLUSTRATIVE DATA, NOT AN OFFICIAL
EVALUATION: everything that shows it says so.
"""

from __future__ import annotations

import hashlib
import hmac
import tomllib
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import delete, insert
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from egov.cells import write_csv
from egov.langs import LANGUAGES
from egov.models import AssessedObject, MetricValue, OfferDaily, Period, Rating
from egov.scoring import ScoreOutcome, score_period
from egov.store import DEMO_NOTICE as NOTICE
from egov.store import DEMO_SOURCE, add_metric_values, ensure_period, load_register, store_framework
from indicators.framework import Framework, applies, builtin_path, load_framework
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
    ("2023", "OPEN_DATA_PLATFORM", "app_datasets", 654, "§三(三)(3)「目前已開放654個數據集」"),
    (
        "2023",
        "OPEN_DATA_PLATFORM",
        "app_api_share",
        round(55 / 654 * 100, 4),
        "§四(二)「目前開放的 654 個結果中，僅有 55 個以 API 方式提供」: 55 of 654",
    ),
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
    outcomes: dict[str, ScoreOutcome]
    counts: dict[str, int] = field(default_factory=dict)


def load_toml(name: str) -> dict[str, Any]:
    with open(DATA_DIR / name, "rb") as fh:
        return tomllib.load(fh)


def _clear_demo(session: Session) -> None:
    demo_ids = select(MetricValue.id).where(col(MetricValue.source_file).startswith(DEMO_SOURCE))
    session.execute(delete(MetricValue).where(col(MetricValue.id).in_(demo_ids)))
    session.execute(delete(Rating).where(col(Rating.transaction_ref).startswith("demo-")))
    for start, end in PERIODS.values():
        session.execute(delete(OfferDaily).where(col(OfferDaily.day) >= start, col(OfferDaily.day) <= end))


def _synthetic_metrics(
    framework: Framework,
    objects: pd.DataFrame,
    profile: dict[str, list[float]],
    rng: np.random.Generator,
    period: str,
) -> list[dict[str, Any]]:
    """Plausible values: a latent quality per department and object drives every indicator
    (so that rankings are coherent), plus indicator noise and 3 % missing cells."""
    depts = sorted(objects["department"].unique())
    dept_q = dict(zip(depts, rng.uniform(0.25, 0.85, len(depts)), strict=True))
    rows: list[dict[str, Any]] = []
    for code, obj in objects.iterrows():
        q = float(np.clip(dept_q[obj["department"]] + rng.normal(0, 0.12), 0, 1))
        for node in framework.indicators:
            if node.source != "metric" or not applies(node.applies_to, obj["kind"], obj["subkind"]):
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


def _synthetic_ratings(
    apps: pd.DataFrame, n: int, start: date, end: date, period: str, rng: np.random.Generator, key: bytes
) -> tuple[list[dict[str, Any]], pd.DataFrame]:
    """n ratings over the application objects, with a latent satisfaction per object; and
    the transactions offered a rating per object and day (the response-rate denominator)."""
    days = (end - start).days + 1
    popularity = rng.pareto(1.2, len(apps)) + 0.3
    share = popularity / popularity.sum()
    per_obj = rng.multinomial(n, share)
    satisfaction = rng.uniform(-0.6, 1.4, len(apps))
    channels = np.array(["app", "web", "kiosk", "counter"])
    langs = np.array(LANGUAGES)
    ratings: list[dict[str, Any]] = []
    offers: list[pd.DataFrame] = []
    seq = 0
    for (obj_id, _code), k, s in zip(
        apps[["id", "code"]].itertuples(index=False), per_obj, satisfaction, strict=True
    ):
        if k == 0:
            continue
        logits = np.array([-1.5, -1.0, 0.0, 0.8, 1.2]) + s * np.array([-1.0, -0.6, 0.0, 0.6, 1.0])
        p = np.exp(logits) / np.exp(logits).sum()
        levels = rng.choice(np.arange(1, 6), size=k, p=p)
        day_idx = rng.integers(0, days, size=k)
        ch = rng.choice(channels, size=k, p=[0.6, 0.3, 0.05, 0.05])
        lg = rng.choice(langs, size=k, p=[0.85, 0.05, 0.10])
        citizen = rng.integers(0, 400_000, size=k)
        for lv, d, c, lang, cit in zip(levels, day_idx, ch, lg, citizen, strict=True):
            seq += 1
            ratings.append(
                {
                    "object_id": int(obj_id),
                    "level": int(lv),
                    "drivers": "",
                    "comment": "",
                    "channel": str(c),
                    "language": str(lang),
                    "day": start + timedelta(days=int(d)),
                    "pseudonym": hmac.new(key, f"citizen-{cit}".encode(), hashlib.sha256).hexdigest(),
                    "transaction_ref": f"demo-{period}-{seq:07d}",
                    "flags": "",
                }
            )
        response = rng.uniform(0.08, 0.45)
        per_day = np.bincount(day_idx, minlength=days)
        offered = np.ceil(per_day / response).astype(int)
        offers.append(
            pd.DataFrame(
                {
                    "object_id": int(obj_id),
                    "day": [start + timedelta(days=i) for i in range(days)],
                    "n_offered": offered,
                }
            )
        )
    offer_df = (
        pd.concat(offers, ignore_index=True)
        if offers
        else pd.DataFrame(columns=["object_id", "day", "n_offered"])
    )
    return ratings, offer_df[offer_df["n_offered"] > 0]


def build_demo(session: Session, *, seed: int, ratings_per_period: int) -> DemoOutcome:
    """(Re)load the demo into the database and score every demo period."""
    framework_path = builtin_path("macau")
    framework = load_framework(framework_path)
    framework_row = store_framework(session, framework, framework_path.read_text(encoding="utf-8"))
    counts = load_register(session, load_toml("macau_register.toml"), origin="macau_register.toml")
    profile = load_toml("macau_demo_profile.toml")["indicators"]
    _clear_demo(session)
    session.flush()

    objects = (
        pd.DataFrame(
            session.execute(
                sa_select(
                    col(AssessedObject.id),
                    col(AssessedObject.code),
                    col(AssessedObject.kind),
                    col(AssessedObject.subkind),
                    col(AssessedObject.department_id),
                )
            ).all(),
            columns=["id", "code", "kind", "subkind", "department"],
        )
        .sort_values("code")
        .reset_index(drop=True)
    )
    rng = np.random.default_rng(seed)
    key = hashlib.sha256(f"egov-demo-pseudonym-{seed}".encode()).digest()
    outcomes: dict[str, ScoreOutcome] = {}
    n_metrics = n_ratings = 0
    for code, (start, end) in PERIODS.items():
        period: Period = ensure_period(session, code, start, end)
        rows = _synthetic_metrics(framework, objects.set_index("code"), profile, rng, code)
        published = {(o, i): (v, where) for p, o, i, v, where in PUBLISHED if p == code}
        rows = [r for r in rows if (r["object"], r["indicator"]) not in published]
        n_metrics += add_metric_values(
            session, period, rows, source_file=f"{DEMO_SOURCE}synthetic seed={seed}", imported_by="egov demo"
        )
        for (o, i), (v, where) in published.items():
            n_metrics += add_metric_values(
                session,
                period,
                [{"object": o, "indicator": i, "value": v, "sheet": "paper"}],
                source_file=f"{DEMO_SOURCE}paper 婁勝華、趙友〈澳門特區電子政務建設〉{where}",
                imported_by="egov demo",
            )
        apps = objects[objects["kind"] == "application"]
        ratings, offers = _synthetic_ratings(apps, ratings_per_period, start, end, code, rng, key)
        for chunk in range(0, len(ratings), 5000):
            session.execute(insert(Rating), ratings[chunk : chunk + 5000])
        if len(offers):
            session.execute(
                insert(OfferDaily), [{str(k): v for k, v in r.items()} for r in offers.to_dict("records")]
            )
        n_ratings += len(ratings)
        rebuild_rollups(session, start, end)
        session.flush()
        outcomes[code] = score_period(
            session, framework_row, framework, period, note=f"{NOTICE}; seed={seed}"
        )
    counts.update({"metric_values": n_metrics, "ratings": n_ratings})
    return DemoOutcome(outcomes=outcomes, counts=counts)


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
    out["data_status"] = "illustrative (demo)"
    # the category league tables first, then the coverage, then the overall rank
    first = ["name", *[f"{c}_{what}" for c in cats for what in ("score", "rank")]]
    first += ["categories_assessed", "categories_total", "rank", "score"]
    out = out[[*first, *[c for c in out.columns if c not in first]]]
    return out.sort_values(["rank", "score"], ascending=[True, False], na_position="last", kind="mergesort")


def write_outputs(out_dir: Path, outcome: ScoreOutcome, ranking: pd.DataFrame) -> list[Path]:
    """Write the demo's CSV results and a notice into out_dir."""
    out_dir.mkdir(parents=True, exist_ok=True)
    res = outcome.result
    written = []
    paths = {
        "department_ranking.csv": ranking,
        "department_scores.csv": res.table("department", coverage=True),
        "object_scores.csv": res.table("unit", coverage=True),
        "results_long.csv": res.long(),
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
        f"Run {outcome.run.run_key}, framework hash {res.framework_hash[:12]}, inputs hash {outcome.run.inputs_hash[:12]}.\n",
        encoding="utf-8",
    )
    written.append(notice)
    return written
