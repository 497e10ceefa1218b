"""`egov evaluate`: evaluate data files with no database.

Reads the data (CSV or XLSX, long `unit,indicator,value[,period]` or wide one row per unit),
splits a wide table into indicator columns and unit attributes (kind, department, peer
group, denominators, grouping variables…), optionally a separate unit table and a table of
supplied values, evaluates each period (earlier periods are the history for
previous-period imputation) and writes every stage as CSV.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from egov.cells import write_csv
from egov.errors import EgovError
from egov.reader import read_table
from evaluation.coherence import coherence
from evaluation.engine import EvaluationResult, evaluate
from evaluation.spec import EvaluationSpec
from indicators.framework import Framework

UNIT_CANDIDATES = ("unit", "ucode", "code", "id")


@dataclass
class FileEvaluation:
    """The results of `evaluate_files`: one result per period (key None without periods)."""

    results: dict[str | None, EvaluationResult]
    notes: list[str] = field(default_factory=list)


def _unit_column(df: pd.DataFrame, name: str, unit_column: str | None) -> str:
    cols = {str(c).lower(): str(c) for c in df.columns}
    if unit_column is None:
        return next((cols[c] for c in UNIT_CANDIDATES if c in cols), str(df.columns[0]))
    if unit_column not in df.columns:
        raise EgovError(
            f"{name}: no column '{unit_column}' (columns: {', '.join(map(str, df.columns[:12]))})"
        )
    return unit_column


def _is_long(df: pd.DataFrame) -> bool:
    return {"unit", "indicator", "value"} <= {str(c).lower() for c in df.columns}


def read_units_table(path: Path, unit_column: str | None = None) -> pd.DataFrame:
    """A unit attribute table (one row per unit), indexed by unit."""
    df = read_table(path)
    col = _unit_column(df, path.name, unit_column)
    _no_empty_units(df, col, path.name)
    out = df.set_index(col)
    out.index = out.index.map(str)
    if out.index.has_duplicates:
        raise EgovError(f"{path.name}: duplicate units: {', '.join(out.index[out.index.duplicated()][:5])}")
    return out


def _no_empty_units(df: pd.DataFrame, col: str, name: str) -> None:
    if df[col].isna().any():
        line = int(df.index[df[col].isna()][0]) + 2
        raise EgovError(f"{name} line {line}: empty unit in column '{col}'")


def _split(
    df: pd.DataFrame, name: str, framework: Framework, unit_column: str | None, period_column: str | None
) -> tuple[pd.DataFrame, pd.DataFrame, list[str]]:
    """(data with unit/period, unit attributes, notes) from one table."""
    notes: list[str] = []
    if period_column is not None and period_column not in df.columns:
        raise EgovError(f"{name}: no period column '{period_column}'")
    if _is_long(df):
        cols = {str(c).lower(): c for c in df.columns}
        rename = {cols["unit"]: "unit", cols["indicator"]: "indicator", cols["value"]: "value"}
        if period_column is not None:
            rename[period_column] = "period"
        long = df.rename(columns=rename)
        _no_empty_units(long, "unit", name)
        keep = ["unit", "indicator", "value", *(["period"] if period_column else [])]
        long["unit"] = long["unit"].map(str)
        return long[keep], pd.DataFrame(index=pd.Index(sorted(long["unit"].unique()), name="unit")), notes
    col = _unit_column(df, name, unit_column)
    _no_empty_units(df, col, name)
    df = df.copy()
    df[col] = df[col].map(str)
    indicator_cols = [c for c in df.columns if c in framework.nodes and framework.nodes[c].is_indicator]
    attr_cols = [c for c in df.columns if c not in indicator_cols and c not in (col, period_column)]
    data = df[[col, *indicator_cols, *([period_column] if period_column else [])]].rename(
        columns={col: "unit", **({period_column: "period"} if period_column else {})}
    )
    attrs = df[[col, *attr_cols]].rename(columns={col: "unit"})
    attrs = attrs.drop_duplicates(subset="unit", keep="last").set_index("unit")
    used = _used_attributes(framework)
    unused = [str(c) for c in attr_cols if str(c) not in used]
    if unused:
        shown = ", ".join(unused[:8]) + (f" (+{len(unused) - 8} more)" if len(unused) > 8 else "")
        notes.append(
            f"{len(unused)} column(s) are not indicators of the framework; kept as unit attributes: {shown}"
        )
    return data, attrs, notes


def _used_attributes(framework: Framework) -> set[str]:
    used = {"kind", "subkind", "department", "peer_group", "volume"}
    used |= {n.denominator for n in framework.indicators if n.denominator}
    return used


def _first_word(word: str) -> str:
    parts = str(word).split(maxsplit=1)
    return parts[0] if parts else ""


def match_first_word(df: pd.DataFrame, name: str, framework: Framework) -> pd.DataFrame:
    """Name indicator data by the first word of their header ("1a1 At least basic digital
    skills" → `1a1`): wide columns, or the `indicator` values of a long table. A header that
    is already a code, or whose first word is not an indicator code, is left as it is."""
    codes = set(framework.indicator_codes)
    if _is_long(df):
        col = next(c for c in df.columns if str(c).lower() == "indicator")
        mapped = df[col].map(lambda v: v if v in codes or pd.isna(v) else _first_word(v))
        return df.assign(**{str(col): mapped.where(mapped.isin(codes), df[col])})
    rename = {c: _first_word(c) for c in df.columns if str(c) not in codes and _first_word(str(c)) in codes}
    targets = [*rename.values(), *(str(c) for c in df.columns if str(c) in codes)]
    clash = sorted({t for t in targets if targets.count(t) > 1})
    if clash:
        shown = "; ".join(
            f"{code}: "
            + ", ".join(repr(str(c)) for c in df.columns if str(c) == code or rename.get(c) == code)
            for code in clash[:5]
        )
        raise EgovError(f"{name}: several columns name the same indicator by their first word ({shown})")
    return df.rename(columns=rename)


def _read_data(path: Path, last_row: int | None) -> pd.DataFrame:
    """The data table; with `last_row`, only the spreadsheet rows 2..last_row (line 1 is the
    header), so that other tables further down the same sheet are ignored."""
    if last_row is None:
        return read_table(path)
    if last_row < 2:
        raise EgovError(f"--last-row {last_row}: the first data row is row 2 (row 1 is the header)")
    df = read_table(path, keep_blank_lines=True).iloc[: last_row - 1]
    df = df.dropna(how="all").copy()
    for col in df.columns:  # columns read as text because of the rows below: numbers again
        if not pd.api.types.is_numeric_dtype(df[col]) and _numeric_text(df[col]):
            df[col] = pd.to_numeric(df[col])
    return df


def _numeric_text(col: pd.Series) -> bool:
    present = col.dropna()
    return bool(len(present)) and bool(pd.to_numeric(present, errors="coerce").notna().all())


def _wide(data: pd.DataFrame) -> pd.DataFrame:
    if "indicator" in data.columns:
        return data[["unit", "indicator", "value"]]
    return data.drop(columns=[c for c in ("period",) if c in data.columns]).set_index("unit")


def evaluate_files(
    framework: Framework,
    data_path: Path,
    *,
    spec: EvaluationSpec | None = None,
    unit_column: str | None = None,
    units_path: Path | None = None,
    supplied_path: Path | None = None,
    period_column: str | None = None,
    period: str | None = None,
    first_word: bool = False,
    last_row: int | None = None,
) -> FileEvaluation:
    """Evaluate a data file (every period, or one) with optional unit and supplied tables.

    `first_word`: match data columns (and those of the supplied table) to indicators by the
    first word of their header; `last_row`: the data table ends at this spreadsheet row."""
    raw = _read_data(data_path, last_row)
    if first_word:
        raw = match_first_word(raw, data_path.name, framework)
    data, attrs, notes = _split(raw, data_path.name, framework, unit_column, period_column)
    if units_path is not None:
        extra = read_units_table(units_path)
        attrs = attrs.combine_first(extra) if not attrs.empty else extra
    supplied = None
    if supplied_path is not None:
        sraw = read_table(supplied_path)
        if first_word:
            sraw = match_first_word(sraw, supplied_path.name, framework)
        supplied, _, _ = _split(sraw, supplied_path.name, framework, unit_column, period_column)

    if period_column is None:
        units = attrs.reindex(sorted(set(data["unit"])))
        sup = _wide(supplied) if supplied is not None else None
        result = evaluate(_wide(data), framework, spec, units, supplied=sup)
        return FileEvaluation({None: result}, notes)

    periods = sorted(data["period"].dropna().map(str).unique())
    if not periods:
        raise EgovError(f"{data_path.name}: the period column '{period_column}' is empty")
    if period is not None and period not in periods:
        raise EgovError(f"{data_path.name}: no period '{period}' (periods: {', '.join(periods)})")
    data = data.assign(period=data["period"].map(str))
    results: dict[str | None, EvaluationResult] = {}
    history: list[pd.DataFrame] = []
    for p in periods:
        rows = data[data["period"] == p]
        if period is None or p == period:
            sup = None
            if supplied is not None:
                srows = supplied[supplied["period"].map(str) == p]
                sup = _wide(srows) if not srows.empty else None
            units = attrs.reindex(sorted(set(rows["unit"])))
            results[p] = evaluate(_wide(rows), framework, spec, units, supplied=sup, history=list(history))
        history.append(_wide(rows))
    return FileEvaluation(results, notes)


def _with_period(df: pd.DataFrame, period: str | None, index_label: str) -> pd.DataFrame:
    out = df.copy()
    out.index.name = index_label
    out = out.reset_index()
    if period is not None:
        out.insert(0, "period", period)
    return out


def write_results(evaluation: FileEvaluation, out: Path) -> list[Path]:
    """Write every stage of every period's result as CSV files into `out`."""
    tables: dict[str, list[pd.DataFrame]] = {}

    def add(name: str, df: pd.DataFrame) -> None:
        tables.setdefault(name, []).append(df)

    for period, res in evaluation.results.items():
        order = res.table().index
        add("scores.csv", _with_period(res.table(coverage=res.coverage_matters), period, "unit"))
        add("ranks.csv", _with_period(res.ranks.loc[order], period, "unit"))
        for stage in ("raw", "denominated", "imputed", "treated", "normalised"):
            frame: pd.DataFrame = getattr(res, stage)
            add(
                f"{stage}.csv",
                _with_period(frame.reindex(frame.index.intersection(res.raw.index)), period, "unit"),
            )
        add("flags.csv", _with_period(res.flags(), period, "unit"))
        if not res.treatment.empty:
            add("treatment.csv", _with_period(res.treatment, period, "indicator"))
        weights = [
            pd.DataFrame({"node": node, "child": w.index, "weight": w.to_numpy()})
            for node, w in res.weights.items()
        ]
        w = pd.concat(weights, ignore_index=True)
        w["effective_weight"] = w["child"].map(res.effective_weights)
        add("weights.csv", w.assign(period=period) if period is not None else w)
        long = res.long()
        add("results_long.csv", long.assign(period=period) if period is not None else long)
        for name, table in coherence(res).items():  # coherence_correlations/alpha/pca/flags.csv
            add(f"coherence_{name}.csv", table.assign(period=period) if period is not None else table)
        if res.department_scores is not None:
            add(
                "department_scores.csv",
                _with_period(res.table("department", coverage=True), period, "department"),
            )
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for name, frames in tables.items():
        path = out / name
        table = pd.concat(frames, ignore_index=True)
        every_column = name == "ranks.csv"  # units × nodes: every column but the labels holds ranks
        write_csv(
            table,
            path,
            index=False,
            ranks=table.columns.drop(["period", "unit"], errors="ignore") if every_column else None,
        )
        written.append(path)
    warnings = [
        f"{p}: {w}" if p is not None else w for p, r in evaluation.results.items() for w in r.warnings
    ]
    (out / "warnings.txt").write_text("".join(f"{w}\n" for w in warnings), encoding="utf-8")
    written.append(out / "warnings.txt")
    return written
