"""Benchmark of the Monte Carlo uncertainty analysis (not a test): `monte_carlo` with 1,000
replications for 40 departments (2 assessed objects each) × 60 indicators on a 3-level
framework built in code (60 indicators → 10 dimensions → 3 categories → index), synthetic
seeded data (normal) with 3 % missing cells, 4 rating-derived indicators with posterior draws.

Uncertain inputs: weights ±25 %, normalisation (minmax [1, 100], zscore (20, 2): positive for
the geometric mean even 9 sd below the mean, rank),
aggregation (arithmetic, geometric), imputation (mean, median), rating draws.

Runs (each timed --repeat times; median and fastest reported):
- uncertainty only: rank statistics, P(A above B) and tiers from 1,000 replications;
- with sensitivity: plus the Saltelli/Jansen design (base sample 1,000 → 1,000 × (inputs + 1)
  more model runs);
- baseline in the same run: the same sampled configurations through `evaluate`, one
  replication at a time, for --baseline replications, extrapolated to 1,000 (the run checks
  that their ranks equal the Monte Carlo's);
- scaling: uncertainty only at 200 and 2,000 departments.

Usage (from the project root):

    python3 bench/bench_uncertainty.py [--repeat 3] [--baseline 20]
"""

from __future__ import annotations

import argparse
import dataclasses
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from evaluation.engine import evaluate
from evaluation.spec import EvaluationSpec
from evaluation.uncertainty import UncertaintyResult, monte_carlo
from indicators.framework import Framework, build_framework
from surveys.uncertainty import indicator_draws, posterior_draws

SEED = 20240601
N_IND = 60
N_DIM = 10
N_CAT = 3
RATING = {
    "ind000": "share_satisfied",
    "ind010": "mean_level",
    "ind020": "bad_share",
    "ind030": "response_rate",
}


def names(code: str) -> dict[str, str]:
    return {"zh-Hant": code, "pt": code, "en": code}


def make_framework() -> Framework:
    rng = np.random.default_rng(SEED)
    dims: dict[int, dict[str, Any]] = {d: {} for d in range(N_DIM)}
    for i in range(N_IND):
        code = f"ind{i:03d}"
        node: dict[str, Any] = {
            "name": names(code),
            "unit": "points",
            "direction": -1 if i % 5 == 4 or code == "ind020" else 1,
            "weight": float(rng.integers(1, 5)),
            "rationale": "synthetic benchmark indicator",
        }
        if code in RATING:
            node.update(source="rating", measure=RATING[code])
        dims[i % N_DIM][code] = node
    cats: dict[str, Any] = {}
    for c in range(N_CAT):
        cats[f"cat{c}"] = {
            "name": names(f"cat{c}"),
            "weight": float(c + 1),
            "dimensions": {
                f"dim{d}": {"name": names(f"dim{d}"), "weight": 1.0, "indicators": dims[d]}
                for d in range(N_DIM)
                if d % N_CAT == c
            },
        }
    return build_framework(
        {
            "framework": {"code": "bench", "version": "1", "name": names("bench")},
            "index": {"code": "index", "name": names("index")},
            "categories": cats,
        }
    )


def make_inputs(n_dept: int, fw: Framework, n_draws: int) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    rng = np.random.default_rng(SEED + n_dept)
    n_obj = 2 * n_dept
    index = pd.Index([f"o{u:05d}" for u in range(n_obj)], name="unit")
    units = pd.DataFrame({"department": [f"D{u // 2:04d}" for u in range(n_obj)]}, index=index)
    quality = rng.normal(0, 1, n_obj)
    wide = pd.DataFrame(
        {c: 50 + 10 * quality + rng.normal(0, 8, n_obj) for c in fw.indicator_codes}, index=index
    )
    counts = pd.DataFrame(
        rng.integers(5, 80, (n_obj, 5)), index=index, columns=["n1", "n2", "n3", "n4", "n5"]
    )
    counts["offered"] = counts.sum(axis=1) * 4
    draws = indicator_draws(fw, posterior_draws(counts, n_draws, seed=1, min_ratings=0))
    for code, measure in RATING.items():  # the nominal value: the observed measure
        n = counts[["n1", "n2", "n3", "n4", "n5"]].sum(axis=1)
        wide[code] = {
            "share_satisfied": (counts["n4"] + counts["n5"]) / n * 100,
            "mean_level": (counts[["n1", "n2", "n3", "n4", "n5"]] * np.arange(1, 6)).sum(axis=1) / n,
            "bad_share": (counts["n1"] + counts["n2"]) / n * 100,
            "response_rate": n / counts["offered"] * 100,
        }[measure]
    mask = rng.random(wide.shape) < 0.03
    mask[:, [fw.indicator_codes.index(c) for c in RATING]] = False
    return wide.mask(mask), units, draws


OPTIONS: dict[str, Any] = {
    "weight_noise": 0.25,
    "normalisations": ["minmax", {"method": "zscore", "mean": 20.0, "sd": 2.0}, "rank"],
    "aggregations": ["arithmetic", "geometric"],
    "imputations": ["mean", "median"],
    "seed": 1,
}


def timed(func: Callable[[], Any], repeat: int) -> tuple[float, float, Any]:
    times, out = [], None
    for _ in range(repeat):
        t = time.perf_counter()
        out = func()
        times.append(time.perf_counter() - t)
    return statistics.median(times), min(times), out


def baseline(
    data: pd.DataFrame,
    units: pd.DataFrame,
    fw: Framework,
    draws: pd.DataFrame,
    res: UncertaintyResult,
    k: int,
) -> float:
    """The first k sampled configurations through `evaluate`, one at a time; checks ranks."""
    t = time.perf_counter()
    for r in range(k):
        row = res.samples.iloc[r]
        nodes = dict(fw.nodes)
        for table in res.weights.values():
            for child, w in table.iloc[r].items():
                nodes[str(child)] = dataclasses.replace(nodes[str(child)], weight=float(w))
        methods = {
            s: res.alternatives[s][int(row[s])] for s in ("normalisation", "aggregation", "imputation")
        }
        wide = data.copy()
        for code in RATING:
            drawn = draws[code].iloc[int(row["rating_draw"])].reindex(wide.index)
            wide[code] = drawn.where(wide[code].notna())
        got = evaluate(wide, dataclasses.replace(fw, nodes=nodes), EvaluationSpec(methods=methods), units)
        assert got.department_ranks is not None
        expected = got.department_ranks["index"].reindex(res.ranks.columns)
        if not (res.ranks.iloc[r] == expected).all():
            raise SystemExit(f"replication {r}: Monte Carlo ranks differ from evaluate's")
    return (time.perf_counter() - t) / k


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=1000, help="replications")
    ap.add_argument("--repeat", type=int, default=3, help="timings per measurement")
    ap.add_argument("--baseline", type=int, default=20, help="replications through evaluate (extrapolated)")
    args = ap.parse_args()
    fw = make_framework()
    n = args.n
    print(f"numpy {np.__version__}, pandas {pd.__version__}; {n} replications, {N_IND} indicators")

    def run(data: pd.DataFrame, units: pd.DataFrame, draws: pd.DataFrame, ns: int) -> UncertaintyResult:
        return monte_carlo(data, fw, None, units, n=n, rating_draws=draws, sensitivity_n=ns, **OPTIONS)

    data, units, draws = make_inputs(40, fw, n)
    med, best, res = timed(lambda: run(data, units, draws, 0), args.repeat)
    print(f"40 departments (80 objects), uncertainty only: {med * 1000:.0f} ms (fastest {best * 1000:.0f} ms), "
          f"{res.settings['model_runs']} model runs")  # fmt: skip
    med_s, best_s, res_s = timed(lambda: run(data, units, draws, n), args.repeat)
    print(f"40 departments, with sensitivity (base {n}): {med_s * 1000:.0f} ms (fastest {best_s * 1000:.0f} ms), "
          f"{res_s.settings['model_runs']} model runs, {len(res_s.sensitivity)} inputs")  # fmt: skip
    per = baseline(data, units, fw, draws, res, args.baseline)
    print(f"baseline: evaluate per replication {per * 1000:.1f} ms → {per * n:.1f} s for {n} "
          f"(ranks of {args.baseline} replications checked equal); Monte Carlo is {per * n / med:.0f}× faster")  # fmt: skip
    for n_dept in (200, 2000):
        d, u, dr = make_inputs(n_dept, fw, n)
        m, b, r = timed(lambda d=d, u=u, dr=dr: run(d, u, dr, 0), 1 if n_dept > 200 else args.repeat)  # type: ignore[misc]
        print(f"{n_dept} departments ({2 * n_dept} objects), uncertainty only: {m * 1000:.0f} ms "
              f"(fastest {b * 1000:.0f} ms), {r.settings['model_runs']} model runs")  # fmt: skip


if __name__ == "__main__":
    main()
