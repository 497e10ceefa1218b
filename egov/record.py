"""The evaluation record: what a stored run was made from, and recomputing it.

A run stores its inputs (`run_input`: the long table of the period scored and of the
earlier periods used as history; `run_unit`: the unit attributes), the framework version
(its TOML and content hash) and the method spec. `load_inputs` gives them back;
`load_result` re-evaluates them with the pure engine and checks that the results hash
equals the stored one, so every number of a stored run can be reproduced and traced.
"""

from __future__ import annotations

import difflib
import hashlib
import io
import json
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
from sqlalchemy import insert
from sqlalchemy import select as sa_select
from sqlmodel import Session, col

from egov import __version__
from egov.errors import EgovError
from egov.models import EvaluationRun, FrameworkVersion, Period, RunInput, RunUnit
from egov.store import frame_hash, results_hash, run_scores
from evaluation.engine import EvaluationResult, evaluate
from evaluation.spec import EvaluationSpec, parse_spec
from indicators.framework import Framework, parse_framework

UNIT_FIELDS = ("kind", "subkind", "department", "peer_group")


@dataclass
class RunInputs:
    """Everything a run was computed from."""

    run: EvaluationRun
    period: Period
    framework: Framework
    spec: EvaluationSpec
    data: pd.DataFrame  # long: unit, indicator, value
    units: pd.DataFrame  # index unit; kind, subkind, department, peer_group
    history: list[pd.DataFrame]  # long tables of earlier periods, oldest first


def _none_if_nan(v: object) -> object:
    return None if v is None or (isinstance(v, float) and v != v) else v


def store_inputs(
    session: Session, run: EvaluationRun, data: pd.DataFrame, units: pd.DataFrame, history: list[pd.DataFrame]
) -> None:
    """Write a run's inputs (called once, when the run is stored)."""
    rows = []
    for part, frame in [("data", data), *((f"history:{i}", h) for i, h in enumerate(history))]:
        rows += [
            {"run_id": run.id, "part": part, "unit": str(u), "indicator": str(i), "value": _none_if_nan(v)}
            for u, i, v in frame[["unit", "indicator", "value"]].itertuples(index=False)
        ]
    if rows:
        session.execute(insert(RunInput), rows)
    unit_rows = [
        {"run_id": run.id, "unit": str(u), **{f: _none_if_nan(r.get(f)) for f in UNIT_FIELDS}}
        for u, r in units.iterrows()
    ]
    if unit_rows:
        session.execute(insert(RunUnit), unit_rows)
    session.flush()


def load_inputs(session: Session, run: EvaluationRun) -> RunInputs:
    """The inputs, framework and spec of a stored run."""
    fw_row = session.get(FrameworkVersion, run.framework_id)
    period = session.get(Period, run.period_id)
    if fw_row is None or period is None:
        raise EgovError(f"run {run.run_key}: its framework or period is missing from the database")
    framework = parse_framework(fw_row.toml_text, origin=f"framework {fw_row.code} {fw_row.version}")
    rows = session.execute(
        sa_select(col(RunInput.part), col(RunInput.unit), col(RunInput.indicator), col(RunInput.value))
        .where(col(RunInput.run_id) == run.id)
        .order_by(col(RunInput.id))
    ).all()
    if not rows:
        raise EgovError(f"run {run.run_key} has no stored inputs (it was made by an older version)")
    table = pd.DataFrame(rows, columns=["part", "unit", "indicator", "value"])
    data = table[table["part"] == "data"].drop(columns="part").reset_index(drop=True)
    parts = sorted((p for p in table["part"].unique() if p.startswith("history:")), key=lambda p: int(p[8:]))
    history = [table[table["part"] == p].drop(columns="part").reset_index(drop=True) for p in parts]
    unit_rows = session.execute(
        sa_select(
            col(RunUnit.unit),
            col(RunUnit.kind),
            col(RunUnit.subkind),
            col(RunUnit.department),
            col(RunUnit.peer_group),
        )
        .where(col(RunUnit.run_id) == run.id)
        .order_by(col(RunUnit.id))
    ).all()
    unit_table = pd.DataFrame(unit_rows, columns=["unit", *UNIT_FIELDS]).set_index("unit")
    spec = EvaluationSpec(**run.spec) if run.spec else EvaluationSpec()
    return RunInputs(run, period, framework, spec, data, unit_table, history)


def load_result(session: Session, run: EvaluationRun, verify: bool = True) -> EvaluationResult:
    """Recompute a stored run from its inputs; with `verify`, its results hash must match."""
    inputs = load_inputs(session, run)
    result = evaluate(inputs.data, inputs.framework, inputs.spec, units=inputs.units, history=inputs.history)
    if verify:
        if inputs.framework.content_hash != session.get(FrameworkVersion, run.framework_id).content_hash:  # type: ignore[union-attr]
            raise EgovError(f"run {run.run_key}: the stored framework no longer matches its content hash")
        got = results_hash(result)
        if got != run.results_hash:
            raise EgovError(
                f"run {run.run_key}: recomputing gives results hash {got[:12]}, stored {run.results_hash[:12]}"
            )
    return result


def inputs_hash_of(data: pd.DataFrame, units: pd.DataFrame, history: list[pd.DataFrame]) -> str:
    """The inputs hash as `egov score` computes it (egov.scoring.score_period)."""
    return frame_hash(data, units, *history)


# --- comparing two runs ------------------------------------------------------------------------
@dataclass
class RunDiff:
    """What differs between two stored runs (a → b)."""

    a: EvaluationRun
    b: EvaluationRun
    identity: pd.DataFrame  # field, a, b, differs: period, framework, software, hashes, who/when
    framework_text: list[str]  # unified diff of the two framework files ([] when the same)
    spec: pd.DataFrame  # key (dotted), a, b — only keys whose value differs
    inputs: pd.DataFrame  # unit, department, indicator, change (added|removed|changed), a, b
    # department, node, level, score_a, score_b, score_change, rank_a, rank_b, rank_change
    results: pd.DataFrame
    notes: list[str] = field(default_factory=list)  # e.g. a run made before inputs were stored

    @property
    def same_results(self) -> bool:
        return self.a.results_hash == self.b.results_hash


def _flatten(d: Any, prefix: str = "") -> dict[str, Any]:
    """Nested spec tables → {"methods.normalisation.method": "zscore", …} (empty tables vanish)."""
    if isinstance(d, dict):
        out: dict[str, Any] = {}
        for k in sorted(d):
            out.update(_flatten(d[k], f"{prefix}.{k}" if prefix else str(k)))
        return out
    return {prefix: d}


def _same(x: object, y: object) -> bool:
    nan_x = x is None or (isinstance(x, float) and x != x)
    nan_y = y is None or (isinstance(y, float) and y != y)
    return (nan_x and nan_y) or (not nan_x and not nan_y and x == y)


def _show(v: object) -> object:
    return None if v is None or (isinstance(v, float) and v != v) else v


def diff_runs(session: Session, a: EvaluationRun, b: EvaluationRun) -> RunDiff:
    """Everything that differs between runs `a` and `b`: identity (framework code, version and
    hash, period, software, hashes), the framework files line by line, the method spec key by
    key, the input values of the scored period (added, removed, changed, with unit and
    indicator) and the department scores and ranks at every node."""
    notes: list[str] = []

    def inputs_of(run: EvaluationRun) -> tuple[str, pd.DataFrame, pd.DataFrame]:
        """(period code, long data, units) — empty for a run made before inputs were stored."""
        try:
            got = load_inputs(session, run)
            return got.period.code, got.data, got.units
        except EgovError as exc:
            notes.append(f"{exc}; its input values cannot be compared")
            period = session.get(Period, run.period_id)
            empty = pd.DataFrame({"unit": [], "indicator": [], "value": []})
            return (period.code if period else "?"), empty, pd.DataFrame({"department": []})

    (pa, data_a, units_a), (pb, data_b, units_b) = inputs_of(a), inputs_of(b)
    fa = session.get(FrameworkVersion, a.framework_id)
    fb = session.get(FrameworkVersion, b.framework_id)
    assert fa is not None and fb is not None
    fields = [
        ("period", pa, pb),
        ("framework code", fa.code, fb.code),
        ("framework version", fa.version, fb.version),
        ("framework hash", fa.content_hash, fb.content_hash),
        ("software version", a.software_version, b.software_version),
        ("inputs hash", a.inputs_hash, b.inputs_hash),
        ("results hash", a.results_hash, b.results_hash),
        ("created at", a.created_at.isoformat(), b.created_at.isoformat()),
        ("created by", a.created_by, b.created_by),
    ]
    identity = pd.DataFrame(fields, columns=["field", "a", "b"])
    identity["differs"] = identity["a"] != identity["b"]
    framework_text: list[str] = []
    if fa.content_hash != fb.content_hash or fa.toml_text != fb.toml_text:
        framework_text = list(
            difflib.unified_diff(
                fa.toml_text.splitlines(),
                fb.toml_text.splitlines(),
                f"framework {fa.code} {fa.version} (run {a.run_key})",
                f"framework {fb.code} {fb.version} (run {b.run_key})",
                lineterm="",
            )
        )
    sa, sb = _flatten(a.spec), _flatten(b.spec)
    spec_rows = [
        (k, sa.get(k), sb.get(k)) for k in sorted(set(sa) | set(sb)) if not _same(sa.get(k), sb.get(k))
    ]
    spec = pd.DataFrame(spec_rows, columns=["key", "a", "b"], dtype=object)

    va = data_a.set_index(["unit", "indicator"])["value"]
    vb = data_b.set_index(["unit", "indicator"])["value"]
    keys = sorted(set(va.index) | set(vb.index))
    depts = {**units_a["department"].to_dict(), **units_b["department"].to_dict()}
    rows = []
    for key in keys:
        x = va.get(key) if key in va.index else None
        y = vb.get(key) if key in vb.index else None
        if key not in va.index:
            change = "added"
        elif key not in vb.index:
            change = "removed"
        elif _same(x, y):
            continue
        else:
            change = "changed"
        rows.append((key[0], depts.get(key[0]), key[1], change, _show(x), _show(y)))
    inputs = pd.DataFrame(rows, columns=["unit", "department", "indicator", "change", "a", "b"])

    both = run_scores(session, a, "department").merge(
        run_scores(session, b, "department"), on=["entity", "node"], how="outer", suffixes=("_a", "_b")
    )
    both["level"] = both["level_a"].fillna(both["level_b"])
    both["score_change"] = both["score_b"] - both["score_a"]
    both["rank_change"] = both["rank_a"] - both["rank_b"]  # positive: moved up
    differs = ~(
        (both["score_a"] == both["score_b"])
        & ((both["rank_a"] == both["rank_b"]) | (both["rank_a"].isna() & both["rank_b"].isna()))
    )
    results = both[differs].rename(columns={"entity": "department"})
    results = results[
        [
            "department",
            "node",
            "level",
            "score_a",
            "score_b",
            "score_change",
            "rank_a",
            "rank_b",
            "rank_change",
        ]
    ].sort_values(
        ["level", "node", "rank_b", "department"], ascending=[False, True, True, True], kind="mergesort"
    )
    return RunDiff(a, b, identity, framework_text, spec, inputs, results.reset_index(drop=True), notes)


# --- the self-contained bundle -----------------------------------------------------------------
BUNDLE_FORMAT = "egov-run-bundle"
BUNDLE_FORMAT_VERSION = 1
MANIFEST = "manifest.json"
UNITS_FILE = "inputs/units.csv"
DATA_FILE = "inputs/data.csv"
RESULTS_FILE = "results/scores.csv"
FRAMEWORK_FILE = "framework.toml"
README_FILE = "README.txt"
RESULT_KEYS = ["entity_type", "entity", "node"]

BUNDLE_README = """\
Evaluation run {run_key} (period {period}) — a self-contained bundle made by egov-eval
{software} (`egov runs export`). It holds everything the run was computed from and what
it produced:

  manifest.json        run key, period, framework code/version/content hash, the method
                       spec, software version, created at/by, inputs hash, results hash,
                       the SHA-256 of every other file, and manifest_digest
  framework.toml       the framework file exactly as stored
  inputs/data.csv      unit, indicator, value of the period scored (floats written with
                       17 significant digits, so they read back bit for bit)
  inputs/history_N.csv earlier periods used as history (previous-period imputation), oldest first
  inputs/units.csv     unit, kind, subkind, department, peer_group as they were at the run
  results/scores.csv   every score and rank: entity_type, entity, node, level, score, rank,
                       peer_rank (objects and departments)

How to verify (no database needed):

  pip install egov-eval=={software}
  egov runs verify {name} [--digest SHA256-OF-manifest.json]

`egov runs verify` checks the SHA-256 of every file, parses framework.toml and checks its
content hash, recomputes the inputs hash, re-evaluates the inputs with the spec and
compares the results hash and every score and rank with results/scores.csv. It prints
VERIFIED, or exactly what differs (exit code 1).

The checksums protect against accidental changes; to know the bundle is the one the
assessor published, compare the SHA-256 of manifest.json with the digest published in
their report (pass it as --digest; `sha256sum manifest.json` gives the same figure).
"""


def _csv(df: pd.DataFrame, index: bool = False) -> bytes:
    # %.17g: every float64 reads back bit for bit (IEEE 754 round trip)
    return df.to_csv(index=index, float_format="%.17g", lineterminator="\n").encode("utf-8")


def _sha(b: bytes) -> str:
    return hashlib.sha256(b).hexdigest()


def manifest_digest(manifest: dict[str, Any]) -> str:
    """SHA-256 of the canonical JSON of the manifest without its own `manifest_digest`."""
    body = {k: v for k, v in manifest.items() if k != "manifest_digest"}
    return _sha(json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8"))


def bundle_files(session: Session, run: EvaluationRun) -> dict[str, bytes]:
    """The files of a run's bundle: name → content (manifest.json last)."""
    inputs = load_inputs(session, run)
    fw_row = session.get(FrameworkVersion, run.framework_id)
    assert fw_row is not None
    files: dict[str, bytes] = {FRAMEWORK_FILE: fw_row.toml_text.encode("utf-8")}
    files[DATA_FILE] = _csv(inputs.data[["unit", "indicator", "value"]])
    history = []
    for i, h in enumerate(inputs.history):
        name = f"inputs/history_{i}.csv"
        files[name] = _csv(h[["unit", "indicator", "value"]])
        history.append(name)
    files[UNITS_FILE] = _csv(inputs.units.reset_index()[["unit", *UNIT_FIELDS]])
    stored = pd.concat(
        [
            run_scores(session, run, kind).assign(entity_type=kind)
            for kind in ("unit", "object", "department")
        ],
        ignore_index=True,
    )
    stored = stored[["entity_type", "entity", "node", "level", "score", "rank", "peer_rank"]]
    files[RESULTS_FILE] = _csv(stored.sort_values(RESULT_KEYS, kind="mergesort"))
    name = f"run-{run.run_key}"
    files[README_FILE] = BUNDLE_README.format(
        run_key=run.run_key, period=inputs.period.code, software=run.software_version, name=name
    ).encode("utf-8")
    manifest: dict[str, Any] = {
        "format": BUNDLE_FORMAT,
        "format_version": BUNDLE_FORMAT_VERSION,
        "run_key": run.run_key,
        "period": {
            "code": inputs.period.code,
            "start": inputs.period.start.isoformat(),
            "end": inputs.period.end.isoformat(),
        },
        "framework": {
            "code": fw_row.code,
            "version": fw_row.version,
            "content_hash": fw_row.content_hash,
            "file": FRAMEWORK_FILE,
        },
        "spec": run.spec,
        "software_version": run.software_version,
        "created_at": run.created_at.isoformat(),
        "created_by": run.created_by,
        "note": run.note,
        "inputs_hash": run.inputs_hash,
        "results_hash": run.results_hash,
        "inputs": {"data": DATA_FILE, "history": history, "units": UNITS_FILE},
        "results": RESULTS_FILE,
        "files": {k: _sha(v) for k, v in sorted(files.items())},
    }
    manifest["manifest_digest"] = manifest_digest(manifest)
    files[MANIFEST] = (json.dumps(manifest, indent=2, ensure_ascii=False) + "\n").encode("utf-8")
    return files


def export_bundle(session: Session, run: EvaluationRun, out: Path) -> tuple[Path, str]:
    """Write a run's bundle to `out`: a .zip file when `out` ends with .zip, else a folder
    (which must not exist or be empty). Returns (path, SHA-256 of manifest.json)."""
    files = bundle_files(session, run)
    if out.suffix.lower() == ".zip":
        if out.exists():
            raise EgovError(f"{out} exists; choose a new bundle name")
        out.parent.mkdir(parents=True, exist_ok=True)
        with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as zf:
            for name, content in files.items():
                info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
                info.compress_type = zipfile.ZIP_DEFLATED
                info.external_attr = 0o644 << 16
                zf.writestr(info, content)
    else:
        if out.exists() and (not out.is_dir() or any(out.iterdir())):
            raise EgovError(f"{out} exists and is not an empty folder; choose a new bundle name")
        for name, content in files.items():
            path = out / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(content)
    return out, _sha(files[MANIFEST])


def read_bundle(path: Path) -> dict[str, bytes]:
    """The files of a bundle (a folder or a .zip): relative name → content."""
    if not path.exists():
        raise EgovError(f"{path}: no such bundle")
    files: dict[str, bytes] = {}
    if path.is_dir():
        for p in sorted(path.rglob("*")):
            if p.is_file():
                files[p.relative_to(path).as_posix()] = p.read_bytes()
        return files
    try:
        with zipfile.ZipFile(path) as zf:
            for info in zf.infolist():
                if info.is_dir():
                    continue
                if info.file_size > 2_000_000_000:
                    raise EgovError(f"{path}: member {info.filename} is too large")
                files[info.filename] = zf.read(info)
    except zipfile.BadZipFile as exc:
        raise EgovError(f"{path}: neither a bundle folder nor a zip file ({exc})") from exc
    return files


@dataclass
class BundleCheck:
    """The outcome of `verify_bundle`: ok when `problems` is empty."""

    manifest: dict[str, Any]
    digest: str  # SHA-256 of manifest.json as found
    problems: list[str]
    notes: list[str]
    recomputed_results_hash: str | None = None

    @property
    def ok(self) -> bool:
        return not self.problems


def _floats(column: pd.Series) -> pd.Series:
    # Python's float() is correctly rounded, so a %.17g text reads back bit for bit
    return column.map(lambda t: float(t) if t != "" else float("nan")).astype(float)


def _read_long(content: bytes) -> pd.DataFrame:
    df = pd.read_csv(io.BytesIO(content), dtype=str, keep_default_na=False)
    if list(df.columns) != ["unit", "indicator", "value"]:
        raise EgovError(f"columns {list(df.columns)}, expected unit, indicator, value")
    df["value"] = _floats(df["value"])
    return df


def _read_units(content: bytes) -> pd.DataFrame:
    df = pd.read_csv(io.BytesIO(content), dtype=str, keep_default_na=False)
    if list(df.columns) != ["unit", *UNIT_FIELDS]:
        raise EgovError(f"columns {list(df.columns)}, expected unit, {', '.join(UNIT_FIELDS)}")
    df = df.set_index("unit")
    for c in UNIT_FIELDS:
        df[c] = df[c].astype(object).where(df[c] != "", None)
    return df


def _read_results(content: bytes) -> pd.DataFrame:
    df = pd.read_csv(io.BytesIO(content), dtype=str, keep_default_na=False)
    for c in ("level", "score", "rank", "peer_rank"):
        if c in df.columns:
            df[c] = _floats(df[c])
    return df


def _compare_results(bundled: pd.DataFrame, recomputed: pd.DataFrame, limit: int = 20) -> list[str]:
    """Row by row: what the bundle's results file says against what recomputing gives."""
    want = ["entity_type", "entity", "node", "level", "score", "rank", "peer_rank"]
    if list(bundled.columns) != want:
        return [f"{RESULTS_FILE}: columns {list(bundled.columns)}, expected {', '.join(want)}"]
    a = bundled.set_index(RESULT_KEYS)
    b = recomputed.set_index(RESULT_KEYS)
    problems = []
    for key in sorted(set(a.index) - set(b.index))[:limit]:
        problems.append(f"{RESULTS_FILE}: {' '.join(key)} is in the bundle but not recomputed")
    for key in sorted(set(b.index) - set(a.index))[:limit]:
        problems.append(f"{RESULTS_FILE}: {' '.join(key)} is recomputed but missing from the bundle")
    common = a.index.intersection(b.index)
    for column in ("level", "score", "rank", "peer_rank"):
        x = a.loc[common, column].astype(float)
        y = b.loc[common, column].astype(float)
        bad = ~((x == y) | (x.isna() & y.isna()))
        for key in list(bad[bad].index)[:limit]:
            problems.append(
                f"{RESULTS_FILE}: {' '.join(key)} {column} is {x[key]!r} in the bundle, {y[key]!r} recomputed"
            )
    return problems


def verify_bundle(path: Path, digest: str | None = None) -> BundleCheck:
    """Recompute a bundle from its own files alone (no database) and say what differs.

    Checks, in order: the manifest (format, its own digest, the published `digest` when
    given), the SHA-256 of every file it lists (and files it does not list), the
    framework's content hash, the inputs hash, then re-evaluates the inputs with the spec
    and compares the results hash and every score and rank of results/scores.csv."""
    files = read_bundle(path)
    if MANIFEST not in files:
        raise EgovError(f"{path}: no {MANIFEST}; not an egov run bundle")
    raw_manifest = files[MANIFEST]
    found_digest = _sha(raw_manifest)
    try:
        manifest = json.loads(raw_manifest.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise EgovError(f"{path}: {MANIFEST} is not valid JSON ({exc})") from exc
    if not isinstance(manifest, dict) or manifest.get("format") != BUNDLE_FORMAT:
        raise EgovError(f"{path}: {MANIFEST} is not an {BUNDLE_FORMAT} manifest")
    check = BundleCheck(manifest=manifest, digest=found_digest, problems=[], notes=[])
    problems = check.problems
    if digest is not None and digest.lower() != found_digest:
        problems.append(f"{MANIFEST}: SHA-256 is {found_digest}, the published digest is {digest.lower()}")
    if manifest.get("manifest_digest") != manifest_digest(manifest):
        problems.append(
            f"{MANIFEST}: its content does not match its manifest_digest (the manifest was edited)"
        )
    listed = manifest.get("files") or {}
    for name, sha in sorted(listed.items()):
        if name not in files:
            problems.append(f"{name}: listed in the manifest but missing from the bundle")
        elif _sha(files[name]) != sha:
            problems.append(f"{name}: SHA-256 is {_sha(files[name])}, the manifest says {sha}")
    for name in sorted(set(files) - set(listed) - {MANIFEST}):
        problems.append(f"{name}: in the bundle but not listed in the manifest")
    software = manifest.get("software_version")
    if software != __version__:
        check.notes.append(f"the bundle was made by egov-eval {software}; this is {__version__}")

    # the framework
    fw_info = manifest.get("framework") or {}
    try:
        framework = parse_framework(files[FRAMEWORK_FILE], origin=FRAMEWORK_FILE)
    except KeyError:
        problems.append(f"{FRAMEWORK_FILE}: missing")
        return check
    except EgovError as exc:
        problems.append(f"{FRAMEWORK_FILE}: does not parse: {exc}")
        return check
    if framework.content_hash != fw_info.get("content_hash"):
        problems.append(
            f"{FRAMEWORK_FILE}: content hash is {framework.content_hash}, the manifest says "
            f"{fw_info.get('content_hash')}"
        )
    for key, got in (("code", framework.code), ("version", framework.version)):
        if got != fw_info.get(key):
            problems.append(f"{FRAMEWORK_FILE}: {key} is {got!r}, the manifest says {fw_info.get(key)!r}")

    # the inputs
    names = manifest.get("inputs") or {}
    try:
        data = _read_long(files[names.get("data", DATA_FILE)])
        history = [_read_long(files[h]) for h in names.get("history", [])]
        units = _read_units(files[names.get("units", UNITS_FILE)])
    except KeyError as exc:
        problems.append(f"input file {exc.args[0]} is missing")
        return check
    except (EgovError, ValueError) as exc:
        problems.append(f"an input file does not read: {exc}")
        return check
    got_inputs = inputs_hash_of(data, units, history)
    if got_inputs != manifest.get("inputs_hash"):
        problems.append(
            f"inputs: hash is {got_inputs}, the manifest says {manifest.get('inputs_hash')} "
            "(an input value, unit or history file differs from the run's)"
        )

    # recompute
    try:
        spec = parse_spec(manifest.get("spec") or {}, origin=f"{MANIFEST} spec")
        result = evaluate(data, framework, spec, units=units, history=history)
    except EgovError as exc:
        problems.append(f"re-evaluation failed: {exc}" + "".join(f"\n  {p}" for p in exc.problems))
        return check
    check.recomputed_results_hash = results_hash(result)
    if check.recomputed_results_hash != manifest.get("results_hash"):
        problems.append(
            f"results: recomputing gives results hash {check.recomputed_results_hash}, the manifest says "
            f"{manifest.get('results_hash')}"
        )
    results_name = manifest.get("results", RESULTS_FILE)
    if results_name not in files:
        problems.append(f"{results_name}: missing")
    else:
        try:
            bundled = _read_results(files[results_name])
        except ValueError as exc:
            problems.append(f"{results_name}: does not read: {exc}")
        else:
            problems.extend(_compare_results(bundled, result.long().reset_index(drop=True)))
    return check
