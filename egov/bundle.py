"""The self-contained run bundle: a stored run's framework, inputs, spec and results as
files with a manifest of checksums (`export_bundle`), which a third party verifies
without the database by recomputing it (`verify_bundle`; docs/record.md).
"""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
from sqlmodel import Session

from egov import __version__
from egov.cells import plain_pair
from egov.errors import EgovError
from egov.models import EvaluationRun, FrameworkVersion
from egov.reader import size_text
from egov.record import UNIT_FIELDS, inputs_hash_of, load_inputs
from egov.settings import get_settings
from egov.store import results_hash, run_scores
from evaluation.engine import evaluate, older_rankings
from evaluation.spec import parse_spec
from indicators.framework import Framework, parse_framework

BUNDLE_FORMAT = "egov-run-bundle"
BUNDLE_FORMAT_VERSION = 1
MANIFEST = "manifest.json"
UNITS_FILE = "inputs/units.csv"
DATA_FILE = "inputs/data.csv"
RESULTS_FILE = "results/scores.csv"
FRAMEWORK_FILE = "framework.toml"
README_FILE = "README.txt"
RESULT_KEYS = ["entity_type", "entity", "node"]
MAX_BUNDLE_MEMBERS = 1_000  # files of a bundle (history files included)
BUNDLE_BOMB_RATIO = 200  # a member expanding more than this …
BUNDLE_BOMB_MIN_BYTES = 1_000_000  # … and to more than this is refused as a zip bomb
MAX_BUNDLE_DIRECTORY_BYTES = 1_000_000  # a zip directory of MAX_BUNDLE_MEMBERS entries, long names
EOCD_SEARCH = 65_536 + 22  # the end record and the longest archive comment

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
    """The files of a bundle (a folder or a .zip): relative name → content. Bounded before
    anything is read: a zip directory of at most MAX_BUNDLE_DIRECTORY_BYTES, at most
    MAX_BUNDLE_MEMBERS files, EGOV_MAX_BUNDLE_BYTES in all, and for a zip no member expanding
    more than BUNDLE_BOMB_RATIO-fold; a zip member is read in chunks and never past its
    declared size (a hostile bundle gets an error, not MemoryError)."""
    if not path.exists():
        raise EgovError(f"{path}: no such bundle")
    limit = get_settings().max_bundle_bytes
    if path.is_dir():
        return _read_folder(path, limit)
    directory = _zip_directory_bytes(path)
    if directory is not None and directory > MAX_BUNDLE_DIRECTORY_BYTES:
        raise EgovError(
            f"{path}: the zip directory is {size_text(directory)} (limit {size_text(MAX_BUNDLE_DIRECTORY_BYTES)}); "
            "a run bundle lists a handful of files"
        )
    try:
        with zipfile.ZipFile(path) as zf:
            infos = [i for i in zf.infolist() if not i.is_dir()]
            _check_members(path, [(i.filename, i.file_size, i.compress_size) for i in infos], limit)
            return {info.filename: _read_member(path, zf, info) for info in infos}
    except zipfile.BadZipFile as exc:
        raise EgovError(f"{path}: neither a bundle folder nor a zip file ({exc})") from exc


def _zip_directory_bytes(path: Path) -> int | None:
    """The size of a zip's central directory as its end record declares it (zipfile reads it
    whole, whatever number of entries it claims), before zipfile does; None if not found."""
    with path.open("rb") as fh:
        size = fh.seek(0, io.SEEK_END)
        fh.seek(max(0, size - EOCD_SEARCH))
        tail = fh.read()
        at = tail.rfind(b"PK\x05\x06")
        if at < 0 or len(tail) - at < 22:
            return None
        directory = int.from_bytes(tail[at + 12 : at + 16], "little")
        locator = tail.rfind(b"PK\x06\x07", 0, at)
        if directory == 0xFFFFFFFF and locator >= 0:  # ZIP64: the size is in its own end record
            fh.seek(int.from_bytes(tail[locator + 8 : locator + 16], "little"))
            record = fh.read(56)
            if record[:4] == b"PK\x06\x06":
                directory = int.from_bytes(record[40:48], "little")
    return directory


def _read_folder(path: Path, limit: int) -> dict[str, bytes]:
    found: list[Path] = []
    for p in path.rglob("*"):
        if p.is_file():
            found.append(p)
            if len(found) > MAX_BUNDLE_MEMBERS:
                break
    members: list[tuple[str, int, int | None]] = [
        (p.relative_to(path).as_posix(), p.stat().st_size, None) for p in sorted(found)
    ]
    _check_members(path, members, limit)
    return {name: (path / name).read_bytes() for name, _, _ in members}


def _check_members(path: Path, members: list[tuple[str, int, int | None]], limit: int) -> None:
    """(name, size, compressed size or None) of every file: count, total, ratio."""
    if len(members) > MAX_BUNDLE_MEMBERS:
        raise EgovError(
            f"{path}: more than {MAX_BUNDLE_MEMBERS} files; a run bundle has a handful "
            "(manifest, framework, README, inputs, results)"
        )
    total = 0
    for name, size, packed in members:
        if packed is not None and size > BUNDLE_BOMB_MIN_BYTES and size > BUNDLE_BOMB_RATIO * max(packed, 1):
            raise EgovError(
                f"{path}: refused as a zip bomb — member {name} expands {size / max(packed, 1):.0f}-fold "
                f"to {size_text(size)} (a bundle's files compress at most ~{BUNDLE_BOMB_RATIO}-fold)"
            )
        total += size
        if total > limit:
            raise EgovError(
                f"{path}: refused — its files would unpack to more than {size_text(limit)} "
                f"(at {name}; setting EGOV_MAX_BUNDLE_BYTES)"
            )


def _read_member(path: Path, zf: zipfile.ZipFile, info: zipfile.ZipInfo) -> bytes:
    """A member's bytes, read in chunks and never past its declared size."""
    buf = io.BytesIO()
    try:
        with zf.open(info) as fh:
            while chunk := fh.read(1 << 20):
                buf.write(chunk)
                if buf.tell() > info.file_size:
                    raise EgovError(
                        f"{path}: member {info.filename} inflates past its declared size of "
                        f"{info.file_size} bytes; the bundle is damaged or hostile"
                    )
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError, NotImplementedError) as exc:
        raise EgovError(
            f"{path}: member {info.filename} does not unpack ({exc}); the bundle is damaged"
        ) from exc
    return buf.getvalue()


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
            was, now = plain_pair(x[key], y[key], missing="missing")
            problems.append(
                f"{RESULTS_FILE}: {' '.join(key)} {column} is {was} in the bundle, {now} recomputed"
            )
    return problems


def verify_bundle(path: Path, digest: str | None = None) -> BundleCheck:
    """Recompute a bundle from its own files alone (no database) and say what differs.

    Checks, in order: the manifest (format, its own digest, the published `digest` when
    given), the SHA-256 of every file it lists (and files it does not list), the
    framework's content hash, the inputs hash, then re-evaluates the inputs with the spec
    and compares the results hash and every score and rank of results/scores.csv."""
    files = read_bundle(path)
    manifest, found_digest = _read_manifest(path, files)
    check = BundleCheck(manifest=manifest, digest=found_digest, problems=[], notes=[])
    _check_manifest_and_files(check, files, digest)
    framework = _check_framework(check, files)
    if framework is None:
        return check
    inputs = _read_inputs(check, files)
    if inputs is None:
        return check
    data, history, units = inputs
    got_inputs = inputs_hash_of(data, units, history)
    if got_inputs != manifest.get("inputs_hash"):
        check.problems.append(
            f"inputs: hash is {got_inputs}, the manifest says {manifest.get('inputs_hash')} "
            "(an input value, unit or history file differs from the run's)"
        )
    _recompute(check, files, framework, data, history, units)
    return check


def _read_manifest(path: Path, files: dict[str, bytes]) -> tuple[dict[str, Any], str]:
    """The bundle's manifest and the SHA-256 of manifest.json; an error when it is not an
    egov run bundle."""
    if MANIFEST not in files:
        raise EgovError(f"{path}: no {MANIFEST}; not an egov run bundle")
    raw_manifest = files[MANIFEST]
    try:
        manifest = json.loads(raw_manifest.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise EgovError(f"{path}: {MANIFEST} is not valid JSON ({exc})") from exc
    if not isinstance(manifest, dict) or manifest.get("format") != BUNDLE_FORMAT:
        raise EgovError(f"{path}: {MANIFEST} is not an {BUNDLE_FORMAT} manifest")
    return manifest, _sha(raw_manifest)


def _check_manifest_and_files(check: BundleCheck, files: dict[str, bytes], digest: str | None) -> None:
    """The manifest's own digest and the published one, the SHA-256 of every file it
    lists, files it does not list, and the software version (a note)."""
    manifest, problems = check.manifest, check.problems
    if digest is not None and digest.lower() != check.digest:
        problems.append(f"{MANIFEST}: SHA-256 is {check.digest}, the published digest is {digest.lower()}")
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


def _check_framework(check: BundleCheck, files: dict[str, bytes]) -> Framework | None:
    """The bundle's framework, checked against the manifest (None when it cannot be read)."""
    fw_info = check.manifest.get("framework") or {}
    problems = check.problems
    try:
        framework = parse_framework(files[FRAMEWORK_FILE], origin=FRAMEWORK_FILE)
    except KeyError:
        problems.append(f"{FRAMEWORK_FILE}: missing")
        return None
    except EgovError as exc:
        problems.append(f"{FRAMEWORK_FILE}: does not parse: {exc}")
        return None
    if framework.content_hash != fw_info.get("content_hash"):
        problems.append(
            f"{FRAMEWORK_FILE}: content hash is {framework.content_hash}, the manifest says "
            f"{fw_info.get('content_hash')}"
        )
    for key, got in (("code", framework.code), ("version", framework.version)):
        if got != fw_info.get(key):
            problems.append(f"{FRAMEWORK_FILE}: {key} is {got!r}, the manifest says {fw_info.get(key)!r}")
    return framework


def _read_inputs(
    check: BundleCheck, files: dict[str, bytes]
) -> tuple[pd.DataFrame, list[pd.DataFrame], pd.DataFrame] | None:
    """(data, history, units) from the bundle's input files (None when one is missing or
    does not read)."""
    names = check.manifest.get("inputs") or {}
    try:
        data = _read_long(files[names.get("data", DATA_FILE)])
        history = [_read_long(files[h]) for h in names.get("history", [])]
        units = _read_units(files[names.get("units", UNITS_FILE)])
    except KeyError as exc:
        check.problems.append(f"input file {exc.args[0]} is missing")
        return None
    except (EgovError, ValueError) as exc:
        check.problems.append(f"an input file does not read: {exc}")
        return None
    return data, history, units


def _recompute(
    check: BundleCheck,
    files: dict[str, bytes],
    framework: Framework,
    data: pd.DataFrame,
    history: list[pd.DataFrame],
    units: pd.DataFrame,
) -> None:
    """Re-evaluate the inputs with the spec; compare the results hash and every score and
    rank with the bundle's results file."""
    manifest, problems = check.manifest, check.problems
    try:
        spec = parse_spec(manifest.get("spec") or {}, origin=f"{MANIFEST} spec")
        result = evaluate(data, framework, spec, units=units, history=history)
    except EgovError as exc:
        problems.append(f"re-evaluation failed: {exc}" + "".join(f"\n  {p}" for p in exc.problems))
        return
    check.recomputed_results_hash = results_hash(result)
    if check.recomputed_results_hash != manifest.get("results_hash"):
        for note, before in older_rankings(result):  # a run made under an earlier ranking rule
            if results_hash(before) == manifest.get("results_hash"):
                result, check.recomputed_results_hash = before, results_hash(before)
                check.notes.append(note)
                break
    if check.recomputed_results_hash != manifest.get("results_hash"):
        problems.append(
            f"results: recomputing gives results hash {check.recomputed_results_hash}, the manifest says "
            f"{manifest.get('results_hash')}"
        )
    results_name = manifest.get("results", RESULTS_FILE)
    if results_name not in files:
        problems.append(f"{results_name}: missing")
        return
    try:
        bundled = _read_results(files[results_name])
    except ValueError as exc:
        problems.append(f"{results_name}: does not read: {exc}")
    else:
        problems.extend(_compare_results(bundled, result.long().reset_index(drop=True)))
