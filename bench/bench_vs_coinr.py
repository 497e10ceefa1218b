"""Side by side with COINr (not a test): COINr 1.1.14 and egov-eval on the same workloads,
interleaved, in one run; each row prints COINr's time, egov-eval's and the ratio COINr ÷
egov-eval (above 1: egov-eval is faster), each time the fastest of --repeat runs.

Rows (the table of issue 18):
- ASEM V2, in process: min-max [0, 100] + weighted arithmetic mean on COINr's ASEM data
  (51 units × 49 indicators). COINr: `Normalise` + `Aggregate` of a coin built once;
  egov-eval: `evaluate` of the data already read.
- ASEM V2 with missing data, in process: the same with 10 % of the indicator values removed
  (seeded, written to one CSV that both read).
- ASEM V1, in process: COINr's full example pipeline (`build_example_coin`: new_coin,
  Denominate, Impute by group, Screen, Treat, Normalise, Aggregate) against `evaluate` with
  examples/coinr-asem/v1.toml (the pipeline tests/conformance/test_coinr_v1_v5.py checks).
- 2,000 units × 100 indicators, in process: min-max + arithmetic on bench/bench_engine.py's
  seeded framework and data (written as COINr's iMeta/iData CSVs for COINr).
- uncertainty, ASEM, N = 100 and N = 1,000: COINr `get_sensitivity(SA_type = "UA")` with the
  four uncertain inputs of ../shared/anchors/coinr/coinr_uncertainty.R (winsorisation points
  1–5, min-max [1, 100] vs z-score (10, 2), noisy weights ±25 %, arithmetic vs geometric
  mean) against `monte_carlo` with the same four on the V1 pipeline (egov-eval's weight
  noise applies to every aggregate's weights, COINr's to levels 2–3).
- whole process: `egov framework import` + `egov evaluate` (two commands), `egov evaluate`
  on the indicator table and the data (one command, the table imported in the process, as
  COINr's `new_coin(iData, iMeta)` does) and `egov evaluate` on the imported framework alone,
  run as `python3 cli.py …`, against one `Rscript bench/coinr_bench.R build`
  (read both CSVs, build, normalise, aggregate, write the results: COINr has no separate
  import step, so its time is the same job in the three rows).

COINr runs inside one R process (`Rscript bench/coinr_bench.R serve`, which times each piece
of work itself and answers one line); egov-eval's in-process rows inside this process. A
round of the short rows (V2: 10 runs, V1: 5) keeps each side's fastest run of the round. The R
library comes from --r-libs, else R_LIBS. Without Rscript or COINr nothing is installed: the
run says so and prints egov-eval's figures alone (exit 0).

Usage (from the project root; about 5 minutes with COINr, most of it COINr's N = 1,000):

    R_LIBS=/path/to/rlib python3 bench/bench_vs_coinr.py [--repeat 5] [--slow-repeat 1]
        [--rows v2,v2_missing,v1,big,ua100,ua1000,import_evaluate,table_evaluate,evaluate]
"""

from __future__ import annotations

import argparse
import inspect
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.bench_engine import make_data, make_framework
from egov.reader import read_table
from evaluation.engine import evaluate
from evaluation.spec import load_spec
from evaluation.uncertainty import monte_carlo
from indicators.framework import Framework
from indicators.importer import import_table

ROOT = Path(__file__).resolve().parents[1]
ASEM = ROOT.parent / "shared" / "reference" / "coinr-asem"
R_SCRIPT = ROOT / "bench" / "coinr_bench.R"
V1_SPEC = ROOT / "examples" / "coinr-asem" / "v1.toml"
MISSING_SHARE, MISSING_SEED = 0.10, 18
SLOW = ("ua1000",)
# runs of a short piece of work inside one timed round, each side keeping its fastest: a
# round of a few tens of milliseconds would otherwise measure the neighbours' load
INNER = {
    "v2": 10,
    "v2_missing": 10,
    "v1": 5,
}  # rows where one COINr run takes minutes: --slow-repeat runs of each side
TARGETS = {"v2": 2, "v2_missing": 2, "v1": 2, "big": 2, "ua100": 100, "ua1000": 100}
TARGETS |= {"import_evaluate": 1, "table_evaluate": 1, "evaluate": 1}
LABELS = {
    "v2": "ASEM V2 (min-max + mean), in process",
    "v2_missing": f"ASEM V2, {MISSING_SHARE:.0%} of values missing, in process",
    "v1": "ASEM V1 (COINr's full example pipeline), in process",
    "big": "2,000 units × 100 indicators, in process",
    "ua100": "uncertainty, ASEM, N = 100, 4 uncertain inputs",
    "ua1000": "uncertainty, ASEM, N = 1,000, 4 uncertain inputs",
    "import_evaluate": "`egov framework import` + `egov evaluate`, whole process",
    "table_evaluate": "`egov evaluate` on the indicator table and the data (one command), whole process",
    "evaluate": "`egov evaluate`, whole process",
}


# --- COINr ------------------------------------------------------------------------------
class CoinrServer:
    """One R process running bench/coinr_bench.R in serve mode: a command in, "TIME s" out."""

    def __init__(self, env: dict[str, str]) -> None:
        self.proc = subprocess.Popen(
            ["Rscript", str(R_SCRIPT), "serve"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
            env=env,
        )

    def time(self, command: str) -> float:
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.write(command + "\n")
        self.proc.stdin.flush()
        answer = self.proc.stdout.readline().strip()
        if not answer.startswith("TIME "):
            raise RuntimeError(f"COINr: {command!r} answered {answer or 'nothing (R stopped)'}")
        return float(answer.split()[1])

    def close(self) -> None:
        if self.proc.stdin is not None:
            self.proc.stdin.write("quit\n")
            self.proc.stdin.close()
        self.proc.wait(timeout=60)


def coinr_env(r_libs: str | None) -> tuple[dict[str, str] | None, str]:
    """(the environment R runs with, "") when Rscript and COINr are there, else (None, why)."""
    if shutil.which("Rscript") is None:
        return None, "Rscript is not on PATH"
    env = dict(os.environ)
    if r_libs:
        env["R_LIBS"] = r_libs
    check = subprocess.run(
        ["Rscript", "-e", "suppressMessages(library(COINr)); cat(as.character(packageVersion('COINr')))"],
        capture_output=True,
        text=True,
        env=env,
    )
    if check.returncode != 0:
        where = f"R_LIBS={r_libs}" if r_libs else "the default R library (no --r-libs, no R_LIBS)"
        return None, f"COINr is not installed in {where}"
    return env, check.stdout.strip()


# --- egov-eval's workloads -----------------------------------------------------------------
@dataclass
class Table:
    """A wide CSV read as the engine takes it: indicator columns and unit attributes."""

    data: pd.DataFrame
    units: pd.DataFrame


def read_wide(path: Path, fw: Framework, unit_column: str) -> Table:
    df = read_table(path)
    df[unit_column] = df[unit_column].map(str)
    df = df.set_index(unit_column)
    codes = [c for c in df.columns if c in fw.nodes and fw.nodes[c].is_indicator]
    return Table(df[codes], df.drop(columns=codes).sort_index())


def write_missing(path: Path) -> None:
    """ASEM_iData with MISSING_SHARE of the indicator values removed (seeded)."""
    meta = pd.read_csv(ASEM / "ASEM_iMeta.csv")
    data = pd.read_csv(ASEM / "ASEM_iData.csv")
    codes = list(meta.loc[meta["Type"] == "Indicator", "iCode"])
    rng = np.random.default_rng(MISSING_SEED)
    block = data[codes].astype(float)
    data[codes] = block.mask(rng.random(block.shape) < MISSING_SHARE)
    data.to_csv(path, index=False, float_format="%.17g")


def write_coinr_tables(fw: Framework, wide: pd.DataFrame, meta: Path, data: Path) -> None:
    """A framework and its data as COINr's iMeta and iData."""
    levels = fw.levels()
    parent = {c: n.code for n in fw.nodes.values() for c in n.children}
    rows = [
        {
            "Level": levels[code],
            "iCode": code,
            "iName": code,
            "Direction": node.direction if node.is_indicator else 1,
            "Weight": node.weight,
            "Parent": parent.get(code),
            "Type": "Indicator" if node.is_indicator else "Aggregate",
        }
        for code, node in fw.nodes.items()
    ]
    pd.DataFrame(rows).sort_values("Level", kind="mergesort").to_csv(meta, index=False, na_rep="NA")
    out = wide.copy()
    out.insert(0, "uName", out.index)
    out.insert(1, "uCode", out.index)
    out.to_csv(data, index=False, float_format="%.17g")


class Workloads:
    """What each row runs on each side, prepared once (files in `tmp`)."""

    def __init__(self, tmp: Path) -> None:
        self.tmp = tmp
        self.asem = import_table(ASEM / "ASEM_iMeta.csv").framework
        self.v2 = read_wide(ASEM / "ASEM_iData.csv", self.asem, "uCode")
        write_missing(tmp / "ASEM_iData_missing.csv")
        self.missing = read_wide(tmp / "ASEM_iData_missing.csv", self.asem, "uCode")
        self.v1_spec = load_spec(V1_SPEC)
        self.big_fw = make_framework(100)
        self.big, _ = make_data(self.big_fw, 2000)
        write_coinr_tables(self.big_fw, self.big, tmp / "big_iMeta.csv", tmp / "big_iData.csv")
        self.framework_file = tmp / "asem.toml"
        self.egov_import()

    def coinr_command(self, row: str) -> str:
        meta = ASEM / "ASEM_iMeta.csv"
        k = INNER.get(row, 1)
        return {
            "v2": f"normagg {meta} {ASEM / 'ASEM_iData.csv'} {k}",
            "v2_missing": f"normagg {meta} {self.tmp / 'ASEM_iData_missing.csv'} {k}",
            "v1": f"example {k}",
            "big": f"normagg {self.tmp / 'big_iMeta.csv'} {self.tmp / 'big_iData.csv'}",
            "ua100": "ua 100",
            "ua1000": "ua 1000",
        }[row]

    def egov(self, row: str) -> Callable[[], Any]:
        return {
            "v2": lambda: evaluate(self.v2.data, self.asem, None, self.v2.units),
            "v2_missing": lambda: evaluate(self.missing.data, self.asem, None, self.missing.units),
            "v1": lambda: evaluate(self.v2.data, self.asem, self.v1_spec, self.v2.units),
            "big": lambda: evaluate(self.big, self.big_fw),
            "ua100": lambda: self.uncertainty(100),
            "ua1000": lambda: self.uncertainty(1000),
            "import_evaluate": self.egov_import_evaluate,
            "table_evaluate": self.egov_table_evaluate,
            "evaluate": self.egov_evaluate,
        }[row]

    def uncertainty(self, n: int) -> Any:
        # a checkout without treatment alternatives (before issue 18) runs the other three inputs
        treatments: dict[str, Any] = {"treatments": [{"method": "coinr", "winmax": k} for k in range(1, 6)]}
        if "treatments" not in inspect.signature(monte_carlo).parameters:
            treatments = {}
        return monte_carlo(
            self.v2.data,
            self.asem,
            self.v1_spec,
            self.v2.units,
            n=n,
            seed=1,
            weight_noise=0.25,
            normalisations=["minmax", "zscore"],  # [1, 100] and (10, 2): COINr's alternatives
            aggregations=["arithmetic", "geometric"],
            **treatments,
            level="unit",
            sensitivity_n=0,  # COINr's SA_type = "UA": no sensitivity indices
        )

    def egov_import(self) -> None:
        cli(["framework", "import", str(ASEM / "ASEM_iMeta.csv"), "--out", str(self.framework_file)])

    def egov_import_evaluate(self) -> None:
        self.egov_import()
        self.egov_evaluate()

    def egov_table_evaluate(self) -> None:
        table, data = str(ASEM / "ASEM_iMeta.csv"), str(ASEM / "ASEM_iData.csv")
        cli(["evaluate", table, data, "--out", str(self.tmp / "egov_out_table")])

    def egov_evaluate(self) -> None:
        data = str(ASEM / "ASEM_iData.csv")
        cli(["evaluate", str(self.framework_file), data, "--out", str(self.tmp / "egov_out")])


# as an installed command runs: Python keeps its compiled modules (a shell or CI that sets
# PYTHONDONTWRITEBYTECODE would make every run compile the project's modules again)
INSTALLED_ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def cli(args: list[str]) -> None:
    done = subprocess.run(
        [sys.executable, str(ROOT / "cli.py"), *args, "--lang", "en"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=INSTALLED_ENV,
    )
    if done.returncode != 0:
        raise RuntimeError(f"egov {' '.join(args[:2])} failed: {done.stderr or done.stdout}")


def whole_coinr(env: dict[str, str], tmp: Path) -> float:
    t0 = time.perf_counter()
    done = subprocess.run(
        [
            "Rscript",
            str(R_SCRIPT),
            "build",
            str(ASEM / "ASEM_iMeta.csv"),
            str(ASEM / "ASEM_iData.csv"),
            str(tmp / "coinr_out"),
        ],
        capture_output=True,
        text=True,
        env=env,
    )
    seconds = time.perf_counter() - t0
    if done.returncode != 0:
        raise RuntimeError(f"Rscript build failed: {done.stderr}")
    return seconds


def timed(fn: Callable[[], Any], k: int = 1) -> float:
    """The fastest of k calls."""
    best = float("inf")
    for _ in range(k):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


# --- the run ------------------------------------------------------------------------------
def measure(
    row: str, work: Workloads, server: CoinrServer | None, env: dict[str, str] | None, repeat: int
) -> tuple[float | None, float]:
    """(COINr's fastest, egov-eval's fastest) of `repeat` interleaved runs of one row."""
    egov_fn = work.egov(row)
    whole = row in ("import_evaluate", "table_evaluate", "evaluate")
    if not whole:
        egov_fn()  # warm: the first call pays for imports and caches, as COINr's loaded package did
    coinr_times: list[float] = []
    egov_times: list[float] = []
    for _ in range(repeat):
        if whole and env is not None:
            coinr_times.append(whole_coinr(env, work.tmp))
        elif server is not None:
            coinr_times.append(server.time(work.coinr_command(row)))
        egov_times.append(timed(egov_fn, INNER.get(row, 1)))
    return (min(coinr_times) if coinr_times else None), min(egov_times)


def show(seconds: float | None) -> str:
    if seconds is None:
        return "–"
    return f"{seconds * 1000:.1f} ms" if seconds < 1 else f"{seconds:.2f} s"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    ap.add_argument(
        "--repeat", type=int, default=5, help="interleaved runs of each side per row (fastest kept)"
    )
    ap.add_argument(
        "--slow-repeat", type=int, default=1, help=f"runs per side for the slow rows ({', '.join(SLOW)})"
    )
    ap.add_argument("--rows", default=",".join(LABELS), help="rows to run, comma-separated")
    ap.add_argument(
        "--r-libs", default=os.environ.get("R_LIBS"), help="R library holding COINr (default: R_LIBS)"
    )
    args = ap.parse_args(argv)
    rows = [r.strip() for r in args.rows.split(",") if r.strip()]
    unknown = [r for r in rows if r not in LABELS]
    if unknown:
        ap.error(f"unknown rows: {', '.join(unknown)} (rows: {', '.join(LABELS)})")
    if not ASEM.is_dir():
        print(f"the ASEM reference data is not at {ASEM}; nothing to compare", file=sys.stderr)
        return 1

    if "treatments" not in inspect.signature(monte_carlo).parameters:
        for row in ("ua100", "ua1000"):
            LABELS[row] = LABELS[row].replace(
                "4 uncertain inputs", "3 inputs (no treatment alternatives here)"
            )
    env, found = coinr_env(args.r_libs)
    if env is None:
        print(f"COINr side skipped: {found}. Nothing is installed by this bench; install COINr as")
        print("../shared/anchors/coinr/README.md says and pass --r-libs. egov-eval's figures alone:")
    else:
        print(f"COINr {found} (R_LIBS={env.get('R_LIBS', '')}) against egov-eval, interleaved runs")
    print(f"python {sys.version.split()[0]}, pandas {pd.__version__}, numpy {np.__version__}; fastest of")
    print(f"{args.repeat} runs a side ({args.slow_repeat} for {', '.join(SLOW)}); ratio = COINr ÷ egov-eval")
    print()
    print("| workload | COINr | egov-eval | ratio | target |\n|---|---|---|---|---|")
    with tempfile.TemporaryDirectory(prefix="bench-coinr-") as tmpdir:
        work = Workloads(Path(tmpdir))
        server = CoinrServer(env) if env is not None else None
        try:
            for row in rows:
                repeat = args.slow_repeat if row in SLOW else args.repeat
                coinr_s, egov_s = measure(row, work, server, env, repeat)
                ratio = f"{coinr_s / egov_s:.1f}" if coinr_s is not None else "–"
                print(
                    f"| {LABELS[row]} | {show(coinr_s)} | {show(egov_s)} | {ratio} | ≥ {TARGETS[row]} |",
                    flush=True,
                )
        finally:
            if server is not None:
                server.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
