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

# Figures the source paper publishes (period, object, indicator, value, where in the paper).
PUBLISHED: list[tuple[str, str, str, float, str]] = [
    ("2023", "ONE_ACCOUNT", "app_services_online", 270, "§三(四)(1): over 270 services"),
    (
        "2023",
        "ONE_ACCOUNT",
        "app_active_users",
        round(520_000 / 683.7, 1),
        "§三(四)(1): over 520,000 accounts, per 1,000 of 683,700 residents (DSEC, end-2023); "
        "accounts stand in for active users",
    ),
    ("2023", "PROOF_OF_LIFE_ONLINE", "app_takeup", 67, "§三(四)(1): 67 % of life certificates online"),
    ("2023", "VEHICLE_TAX_ONLINE", "app_takeup", 85, "§三(四)(1): ~85 % of road tax paid electronically"),
    ("2023", "POLICE_DATA_CENTRE", "infra_growth", 60, "§三(二)(2): ~60 % capacity growth a year"),
    ("2022", "POLICE_DATA_CENTRE", "infra_growth", 100, "§三(二)(2): machine room capacity doubled"),
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
    """Department ranking: overall and per category, with names and peer-group ranks."""
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
    out["categories_assessed"] = res.department_scores[cats].notna().sum(axis=1).astype(int)
    for c in cats:
        out[f"{c}_score"] = res.department_scores[c]
        out[f"{c}_rank"] = res.department_ranks[c]
    out["data_status"] = "illustrative (demo)"
    return out.sort_values(["rank", "score"], ascending=[True, False], kind="mergesort")


def write_outputs(out_dir: Path, outcome: ScoreOutcome, ranking: pd.DataFrame) -> list[Path]:
    """Write the demo's CSV results and a notice into out_dir."""
    out_dir.mkdir(parents=True, exist_ok=True)
    res = outcome.result
    written = []
    paths = {
        "department_ranking.csv": ranking,
        "department_scores.csv": res.table("department"),
        "object_scores.csv": res.table("unit"),
        "results_long.csv": res.long(),
    }
    for name, df in paths.items():
        p = out_dir / name
        write_csv(df, p, float_format="%.6f", index=name != "results_long.csv")
        written.append(p)
    notice = out_dir / "NOTICE.txt"
    notice.write_text(
        f"{NOTICE}.\n\nDepartments and objects are named in the source paper (婁勝華、趙友，〈澳門特區電子政務建設："
        "制度框架與實踐成效〉); figures the paper publishes are used where it gives one, and every other value and "
        "every citizen rating is seeded synthetic data.\n"
        f"Run {outcome.run.run_key}, framework hash {res.framework_hash[:12]}, inputs hash {outcome.run.inputs_hash[:12]}.\n",
        encoding="utf-8",
    )
    written.append(notice)
    return written
