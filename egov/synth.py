"""Synthetic scales for measuring the system (`egov synth`, issue 8): a register of
departments, peer groups and objects (kinds spread like the Macau demo), metric values of
the built-in Macau framework (ranges from `egov/data/macau_demo_profile.toml`) for one
period, rating offers and citizen ratings, then the daily roll-ups rebuilt in SQL.

SYNTHETIC DATA FOR BENCHMARKS, NOT AN EVALUATION.

Ratings are generated in vectorised NumPy chunks (no Python object per rating while
generating) and loaded in bulk: PostgreSQL by `COPY … FROM STDIN` (psycopg's
`cursor.copy()`), the chunk written as one text-format buffer built with NumPy byte-string
operations; SQLite by `executemany` in one transaction per chunk (the sqlite3 driver needs
one tuple per row there, built from the chunk's columns by `zip`).

Large loads on PostgreSQL take the bulk path (`egov.synth_bulk`: the indexes of the
empty `rating` table dropped and recreated in the one transaction of the load, one
streamed `COPY … WITH (FREEZE)`). Otherwise (SQLite, a small load, or ratings already in
the table) each chunk is COPYed into the indexed table and committed. Both paths draw the
same random numbers in the same order, so the same seed gives the same rows, ids included.

Pseudonyms are a cheap stand-in for the real keyed hash (HMAC-SHA256 in
`surveys.security`): the hex of a 64-bit SplitMix64 mix of the citizen number and a key
derived from the seed. That is fine for synthetic citizens and not a privacy measure.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import numpy as np
from sqlalchemy import insert, text
from sqlmodel import Session

from egov.demo import load_toml
from egov.errors import EgovError
from egov.models import AssessedObject, Department, PeerGroup, Period
from egov.store import ensure_period, store_framework
from egov.synth_bulk import (
    Progress,
    bulk_begin,
    bulk_finish,
    bulk_path_applies,
    concat,
    copy_stream,
    load_ratings,
)
from indicators.framework import applies, builtin_path, load_framework
from surveys.rollup import driver_executemany, rebuild_rollups

NOTICE = "SYNTHETIC DATA FOR BENCHMARKS, NOT AN EVALUATION"
PREFIX = "SYN-"  # department and object codes
REF_PREFIX = "synth-"  # transaction references
PERIOD_CODE = "SYN2025"
PERIOD_START, PERIOD_END = date(2025, 1, 1), date(2025, 12, 31)
CHUNK = 200_000  # ratings generated and loaded at a time (the same on every path: same rows)
ROLLUP_WORK_MEM = "512MB"  # PostgreSQL: the roll-up rebuild's GROUP BY (this transaction only)


# Object kinds spread like the Macau demo register (72 objects: 15 infrastructure,
# 30 applications, 20 administrative and 7 security management bodies).
KINDS: list[tuple[str, str | None, float]] = [
    ("infrastructure", None, 15 / 72),
    ("application", None, 30 / 72),
    ("management", "administrative", 20 / 72),
    ("management", "security", 7 / 72),
]
CHANNELS = (np.array([b"app", b"web", b"kiosk", b"counter"]), np.array([0.6, 0.3, 0.05, 0.05]))
LANGUAGES = (np.array([b"zh-Hant", b"pt", b"en"]), np.array([0.85, 0.05, 0.10]))


@dataclass(frozen=True)
class Scale:
    departments: int
    objects: int
    ratings: int
    peer_groups: int
    postgresql_only: bool = False


SCALES: dict[str, Scale] = {
    "city": Scale(departments=40, objects=300, ratings=1_000_000, peer_groups=4),
    "province": Scale(departments=2_000, objects=20_000, ratings=10_000_000, peer_groups=20),
    # the issue fixes only the ratings; the register is our choice (2.5× the province)
    "nation": Scale(
        departments=5_000, objects=50_000, ratings=100_000_000, peer_groups=50, postgresql_only=True
    ),
}


@dataclass
class SynthOutcome:
    scale: str
    period: str
    counts: dict[str, int]
    seconds: dict[str, float]
    bulk: bool = False  # the ratings took the bulk path (indexes recreated after the load)


@dataclass
class RatingModel:
    """What drives the synthetic ratings: the rated objects (applications), how popular
    each is and its latent satisfaction (level probabilities as cumulative rows)."""

    object_ids: np.ndarray  # int64, database ids of the application objects
    share_cdf: np.ndarray  # cumulative popularity share per object
    level_cdf: np.ndarray  # (objects, 5) cumulative level probabilities
    key: int  # pseudonym key (uint64)
    citizens: int  # size of the synthetic population


def rating_model(object_ids: np.ndarray, rng: np.random.Generator, *, seed: int, ratings: int) -> RatingModel:
    """Pareto popularity and a latent satisfaction per object (as in `egov.demo`)."""
    n = len(object_ids)
    popularity = rng.pareto(1.2, n) + 0.3
    satisfaction = rng.uniform(-0.6, 1.4, n)
    logits = np.array([-1.5, -1.0, 0.0, 0.8, 1.2]) + satisfaction[:, None] * np.array(
        [-1.0, -0.6, 0.0, 0.6, 1.0]
    )
    p = np.exp(logits)
    p /= p.sum(axis=1, keepdims=True)
    key = int.from_bytes(hashlib.sha256(f"egov-synth-pseudonym-{seed}".encode()).digest()[:8], "big")
    return RatingModel(
        object_ids=np.asarray(object_ids, dtype=np.int64),
        share_cdf=np.cumsum(popularity / popularity.sum()),
        level_cdf=np.cumsum(p, axis=1),
        key=key,
        citizens=max(400_000, ratings // 5),
    )


def _splitmix64(x: np.ndarray) -> np.ndarray:
    # SplitMix64 finaliser (Steele, Lea & Flood 2014), on uint64 arrays (wrapping arithmetic)
    z = x + np.uint64(0x9E3779B97F4A7C15)
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return z ^ (z >> np.uint64(31))


_HEX = np.frombuffer(b"0123456789abcdef", dtype=np.uint8)
_SHIFTS = np.arange(60, -4, -4, dtype=np.uint64)


def pseudonyms(citizens: np.ndarray, key: int) -> np.ndarray:
    """16 hex digits (S16) of a keyed 64-bit hash per citizen number, vectorised."""
    h = _splitmix64(citizens.astype(np.uint64) ^ np.uint64(key))
    digits = _HEX[((h[:, None] >> _SHIFTS) & np.uint64(0xF)).astype(np.intp)]
    return np.ascontiguousarray(digits).view("S16").ravel()


def _two_digits(x: np.ndarray) -> np.ndarray:
    return np.stack([x // 10 + 48, x % 10 + 48], axis=1).astype(np.uint8)


def _times(seconds: np.ndarray) -> np.ndarray:
    """HH:MM:SS (S8) of seconds since midnight, vectorised."""
    colon = np.full((len(seconds), 1), ord(":"), dtype=np.uint8)
    parts = [
        _two_digits(seconds // 3600),
        colon,
        _two_digits(seconds // 60 % 60),
        colon,
        _two_digits(seconds % 60),
    ]
    return np.ascontiguousarray(np.hstack(parts)).view("S8").ravel()


def rating_chunk(
    model: RatingModel,
    rng: np.random.Generator,
    n: int,
    *,
    first_seq: int,
    start: date,
    days: int,
) -> dict[str, np.ndarray]:
    """n ratings as column arrays (numbers, and byte strings for the text columns): object,
    level, channel, language, day and created_at (text), pseudonym, transaction_ref, and
    `day_index` (days since `start`). Days are uniform over [start, start + days); the
    rating time is between 09:00 and 23:00 Macau time (01:00–15:00 UTC), so the Macau day
    and the UTC date agree."""
    obj_idx = np.minimum(np.searchsorted(model.share_cdf, rng.random(n)), len(model.object_ids) - 1)
    u = rng.random(n)
    level = (u[:, None] > model.level_cdf[obj_idx]).sum(axis=1) + 1
    level = np.minimum(level, 5)
    day_index = rng.integers(0, days, n)
    day_names = np.array([(start + timedelta(days=i)).isoformat().encode() for i in range(days)])
    channel = CHANNELS[0][np.searchsorted(np.cumsum(CHANNELS[1]), rng.random(n) * 0.999999)]
    language = LANGUAGES[0][np.searchsorted(np.cumsum(LANGUAGES[1]), rng.random(n) * 0.999999)]
    seconds = rng.integers(3600, 15 * 3600, n)
    day_s = day_names[day_index]
    citizens = rng.integers(0, model.citizens, n)
    seq = np.arange(first_seq, first_seq + n, dtype=np.int64)
    return {
        "object_id": model.object_ids[obj_idx],
        "level": level.astype(np.int64),
        "channel": channel,
        "language": language,
        "day": day_s,
        "day_index": day_index,
        "created_at": np.strings.add(np.strings.add(day_s, b" "), _times(seconds)),
        "pseudonym": pseudonyms(citizens, model.key),
        "transaction_ref": np.strings.add(REF_PREFIX.encode(), seq.astype("S12")),
    }


def _register(session: Session, scale: Scale, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Peer groups, departments and objects; returns (object ids, kind index per object)."""

    def names(label: str) -> dict[str, str]:
        return {"name_zh": f"合成{label}", "name_pt": f"{label} sintético", "name_en": f"Synthetic {label}"}

    session.execute(
        insert(PeerGroup),
        [{"code": f"{PREFIX}G{g:03d}", **names(f"peer group {g}")} for g in range(scale.peer_groups)],
    )
    groups = dict(session.execute(text("SELECT code, id FROM peer_group WHERE code LIKE 'SYN-%'")).all())
    dept_group = rng.integers(0, scale.peer_groups, scale.departments)
    session.execute(
        insert(Department),
        [
            {
                "code": f"{PREFIX}D{d:05d}",
                **names(f"department {d}"),
                "peer_group_id": groups[f"{PREFIX}G{int(g):03d}"],
            }
            for d, g in enumerate(dept_group)
        ],
    )
    depts = dict(session.execute(text("SELECT code, id FROM department WHERE code LIKE 'SYN-%'")).all())
    # every department gets one object, the others go to departments at random (Zipf-like sizes)
    weights = 1 / np.arange(1, scale.departments + 1) ** 0.8
    owner = np.concatenate(
        [
            np.arange(min(scale.departments, scale.objects)),
            rng.choice(
                scale.departments, max(scale.objects - scale.departments, 0), p=weights / weights.sum()
            ),
        ]
    )
    kind_idx = rng.choice(len(KINDS), scale.objects, p=[k[2] for k in KINDS])
    session.execute(
        insert(AssessedObject),
        [
            {
                "code": f"{PREFIX}O{i:06d}",
                "department_id": depts[f"{PREFIX}D{int(d):05d}"],
                "kind": KINDS[int(k)][0],
                "subkind": KINDS[int(k)][1],
                **names(f"object {i}"),
            }
            for i, (d, k) in enumerate(zip(owner, kind_idx, strict=True))
        ],
    )
    ids = dict(session.execute(text("SELECT code, id FROM assessed_object WHERE code LIKE 'SYN-%'")).all())
    obj_ids = np.array([ids[f"{PREFIX}O{i:06d}"] for i in range(scale.objects)], dtype=np.int64)
    return obj_ids, kind_idx


def _metrics(
    session: Session,
    period: Period,
    obj_ids: np.ndarray,
    kind_idx: np.ndarray,
    rng: np.random.Generator,
    seed: int,
) -> int:
    """A metric value per object and applicable metric indicator (3 % missing), driven by a
    latent quality per object, within the demo profile's plausible ranges."""
    framework = load_framework(builtin_path("macau"))
    profile = load_toml("macau_demo_profile.toml")["indicators"]
    quality = rng.uniform(0.2, 0.9, len(obj_ids))
    now = datetime.now(UTC)
    rows: list[dict[str, Any]] = []
    for node in framework.indicators:
        if node.source != "metric":
            continue
        ok = np.array([applies(node.applies_to, k, s) for k, s, _ in KINDS])[kind_idx]
        ok &= rng.random(len(obj_ids)) >= 0.03
        lo, hi = (float(v) for v in profile[node.code])
        u = np.clip(quality[ok] + rng.normal(0, 0.18, int(ok.sum())), 0, 1)
        value = lo + u * (hi - lo) if node.direction > 0 else hi - u * (hi - lo)
        value = (
            np.round(value) if lo.is_integer() and hi.is_integer() and hi - lo >= 3 else np.round(value, 3)
        )
        rows += [
            {
                "object_id": o,
                "indicator": node.code,
                "period_id": period.id,
                "value": v,
                "status": "reported",
                "source_file": f"synth: seed={seed}",
                "source_hash": "",
                "sheet": "synthetic",
                "cell": "",
                "imported_by": "egov synth",
                "imported_at": now,
            }
            for o, v in zip(obj_ids[ok].tolist(), value.tolist(), strict=True)
        ]
    for i in range(0, len(rows), 50_000):
        driver_executemany(
            session,
            "INSERT INTO metric_value (object_id, indicator, period_id, value, status, source_file, "
            "source_hash, sheet, cell, imported_by, imported_at) VALUES (:object_id, :indicator, "
            ":period_id, :value, :status, :source_file, :source_hash, :sheet, :cell, :imported_by, "
            ":imported_at)",
            rows[i : i + 50_000],
        )
    return len(rows)


def _offers(
    session: Session, model: RatingModel, per_object_day: np.ndarray, rng: np.random.Generator
) -> int:
    """Transactions offered a rating: ratings of the object and day ÷ a response rate per
    object (8–45 %), rounded up; only object-days with ratings."""
    response = rng.uniform(0.08, 0.45, len(model.object_ids))
    offered = np.ceil(per_object_day / response[:, None]).astype(np.int64)
    obj_i, day_i = np.nonzero(offered)
    if session.connection().dialect.name == "postgresql":  # COPY: millions of rows at nation scale
        names = np.array(
            [(PERIOD_START + timedelta(days=d)).isoformat().encode() for d in range(offered.shape[1])]
        )
        raw: Any = session.connection().connection.dbapi_connection
        with raw.cursor() as cur, cur.copy("COPY offer_daily (object_id, day, n_offered) FROM STDIN") as cp:
            for i in range(0, len(obj_i), 1_000_000):
                o, d = obj_i[i : i + 1_000_000], day_i[i : i + 1_000_000]
                lines = concat(
                    model.object_ids[o].astype("S20"),
                    b"\t",
                    names[d],
                    b"\t",
                    offered[o, d].astype("S20"),
                    b"\n",
                )
                cp.write(lines.tobytes().replace(b"\x00", b""))
        return len(obj_i)
    days = [PERIOD_START + timedelta(days=d) for d in range(offered.shape[1])]
    for i in range(0, len(obj_i), 100_000):  # rows built a slice at a time (nation: millions)
        o, d = obj_i[i : i + 100_000], day_i[i : i + 100_000]
        rows = [
            {"object_id": oid, "day": days[di], "n": n}
            for oid, di, n in zip(
                model.object_ids[o].tolist(), d.tolist(), offered[o, d].tolist(), strict=True
            )
        ]
        driver_executemany(
            session, "INSERT INTO offer_daily (object_id, day, n_offered) VALUES (:object_id, :day, :n)", rows
        )
    return len(obj_i)


def synthesise(
    session: Session,
    scale: str,
    *,
    seed: int,
    ratings: int | None = None,
    progress: Progress | None = None,
    bulk: bool | None = None,
) -> SynthOutcome:
    """Generate a synthetic scale into an empty-of-synthetic-data database: the register,
    the Macau framework, period SYN2025 with metric values, rating offers, `ratings` ratings
    (default: the scale's), and the roll-ups rebuilt. `progress(n)` is called after each
    chunk of n ratings is loaded (on the bulk path: sent). Commits as it goes: one
    transaction per chunk, or on the bulk path (`bulk_path_applies`; `bulk` True/False
    forces the choice) one transaction for all ratings and the recreated indexes."""
    sc, n_ratings = _check_can_generate(session, scale, ratings)
    seconds: dict[str, float] = {}
    rng = np.random.default_rng(seed)
    t0 = time.perf_counter()
    fw_path = builtin_path("macau")
    store_framework(session, load_framework(fw_path), fw_path.read_text(encoding="utf-8"))
    obj_ids, kind_idx = _register(session, sc, rng)
    period = ensure_period(session, PERIOD_CODE, PERIOD_START, PERIOD_END)
    session.flush()
    n_metrics = _metrics(session, period, obj_ids, kind_idx, rng, seed)
    session.commit()
    seconds["register and metrics"] = time.perf_counter() - t0

    apps = obj_ids[kind_idx == 1]
    if len(apps) == 0:
        raise EgovError("no application objects to rate")
    model = rating_model(apps, rng, seed=seed, ratings=n_ratings)
    gen = _Ratings(model, rng, n_ratings)
    loaded, took_bulk = _load_all_ratings(session, gen, progress, bulk, seconds)
    t0 = time.perf_counter()
    n_offers = _offers(session, model, gen.per_object_day, rng)
    session.commit()
    seconds["offers"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    if session.connection().dialect.name == "postgresql":
        session.execute(text(f"SET LOCAL work_mem = '{ROLLUP_WORK_MEM}'"))
    n_rollups = rebuild_rollups(session, PERIOD_START, PERIOD_END)
    session.commit()
    seconds["roll-ups"] = time.perf_counter() - t0
    return SynthOutcome(
        scale=scale,
        period=PERIOD_CODE,
        counts={
            "peer_groups": sc.peer_groups,
            "departments": sc.departments,
            "objects": sc.objects,
            "metric_values": n_metrics,
            "ratings": loaded,
            "offer_days": n_offers,
            "rollup_rows": n_rollups,
        },
        seconds=seconds,
        bulk=took_bulk,
    )


def _check_can_generate(session: Session, scale: str, ratings: int | None) -> tuple[Scale, int]:
    """The scale and the number of ratings to generate; an error for an unknown scale, a
    negative count, a PostgreSQL-only scale on another database, or a database that
    already holds synthetic data."""
    if scale not in SCALES:
        raise EgovError(f"--scale {scale!r}: use one of {', '.join(SCALES)}")
    sc = SCALES[scale]
    n_ratings = sc.ratings if ratings is None else ratings
    if n_ratings < 0:
        raise EgovError(f"--ratings {n_ratings}: use a number ≥ 0")
    engine = session.connection().dialect.name
    if sc.postgresql_only and engine != "postgresql":
        raise EgovError(
            f"--scale {scale} ({sc.ratings:,} ratings) needs PostgreSQL; this database is {engine}. "
            "Set EGOV_DATABASE_URL=postgresql+psycopg://user@host/db (or use --scale province)"
        )
    if session.execute(text("SELECT 1 FROM department WHERE code LIKE 'SYN-%'")).first():
        raise EgovError(
            "this database already holds synthetic data (departments SYN-…); "
            "generate into a fresh database (EGOV_DATABASE_URL)"
        )
    return sc, n_ratings


class _Ratings:
    """The ratings of the period, generated chunk by chunk (`chunks`), counting the ratings
    of every (application, day) as they go (`per_object_day`, for the offers)."""

    def __init__(self, model: RatingModel, rng: np.random.Generator, n_ratings: int) -> None:
        self.model, self.rng, self.n_ratings = model, rng, n_ratings
        apps = model.object_ids
        self.days = (PERIOD_END - PERIOD_START).days + 1
        self.per_object_day = np.zeros((len(apps), self.days), dtype=np.int64)
        self.index_of = np.zeros(int(apps.max()) + 1, dtype=np.int64)
        self.index_of[apps] = np.arange(len(apps))

    def chunks(self) -> Iterator[dict[str, np.ndarray]]:
        done = 0
        while done < self.n_ratings:
            n = min(CHUNK, self.n_ratings - done)
            chunk = rating_chunk(
                self.model, self.rng, n, first_seq=done + 1, start=PERIOD_START, days=self.days
            )
            flat = self.index_of[chunk["object_id"]] * self.days + chunk["day_index"]
            self.per_object_day += np.bincount(flat, minlength=self.per_object_day.size).reshape(
                self.per_object_day.shape
            )
            yield chunk
            done += n


def _load_all_ratings(
    session: Session, gen: _Ratings, progress: Progress | None, bulk: bool | None, seconds: dict[str, float]
) -> tuple[int, bool]:
    """Load every rating, on the bulk path when it applies (`egov.synth_bulk`), else chunk
    by chunk; returns (ratings loaded, whether the bulk path was taken)."""
    t0 = time.perf_counter()
    plan = bulk_begin(session) if bulk_path_applies(session, gen.n_ratings, bulk) else None
    loaded = 0
    if plan is not None:
        create, freeze = plan
        loaded = copy_stream(session, gen.chunks(), freeze=freeze, progress=progress)
        seconds["ratings"] = time.perf_counter() - t0
        t0 = time.perf_counter()
        bulk_finish(session, create)
        seconds["rating indexes"] = time.perf_counter() - t0
    else:
        for chunk in gen.chunks():
            loaded += load_ratings(session, chunk)
            if progress:
                progress(len(chunk["level"]))
        seconds["ratings"] = time.perf_counter() - t0
    return loaded, plan is not None
