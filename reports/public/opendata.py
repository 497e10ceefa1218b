"""The open-data package of a published period (`egov publish package PERIOD --out DIR`, and
/public/PERIOD/open-data.zip): the published results as CSV and JSON, a data dictionary, a
README with the licence note, the verifiable run bundle (`egov.bundle`, checked with `egov
runs verify DIR/bundle`) and `manifest.json` with the SHA-256 of every other file.

Files (each table as .csv and .json, the same rows):
- `departments`: every department's score, rank and peer rank at every node, its coverage
  (categories scored of the framework's, ranked overall or not) and, on the index, the Monte
  Carlo rank interval;
- `objects`: every assessed object's score and rank at every node;
- `indicator-values`: the values the run used (object, indicator, value in the indicator's
  unit, its source and the metric value's status);
- `objections`: the objection log's summary (`reports.public.data.objection_summary`);
- `data-dictionary`: every column of every table: name, type, unit, description in zh-Hant,
  pt and en (`reports.public.labels.COLUMNS`).
CSV text is formula-injection safe (`egov.cells.write_csv`); the bundle's files are machine
input written as they are (`egov.bundle`), as `egov runs export` writes them.
"""

from __future__ import annotations

import hashlib
import io
import json
import math
import threading
import zipfile
from pathlib import Path
from typing import Any

import pandas as pd
from sqlalchemy import select
from sqlmodel import Session, col

from egov import __version__
from egov.bundle import bundle_files
from egov.cells import write_csv
from egov.errors import EgovError
from egov.models import AssessedObject, MetricValue
from reports.public.data import PublicRun, file_safe, names_by_language, objection_summary, public_run
from reports.public.labels import COLUMNS

BUNDLE_DIR = "bundle"
MANIFEST = "manifest.json"
DICTIONARY = "data-dictionary"
README = "README.txt"
PACKAGE_FORMAT = "egov-open-data"

README_TEXT = """\
電子政務績效評估結果：開放數據包 / Resultados da avaliação do governo electrónico: pacote de
dados abertos / E-government evaluation results: open-data package

Period / 評估期 / Período: {period}    Run / 評估批次 / Avaliação: {run}
Results hash / 結果雜湊值 / Hash dos resultados: {results_hash}
Made by egov-eval {software}.

Files (each table as CSV, UTF-8, and as JSON with the same rows; every column is described in
data-dictionary.csv in Chinese, Portuguese and English):
  departments.*        scores (0–100) and ranks of every department at every framework node,
                       with coverage and, on the index, the Monte Carlo rank interval
  objects.*            scores and ranks of every assessed object
  indicator-values.*   the indicator values the results were computed from, in their units,
                       with their source and status
  objections.*         summary of the objections raised in the department review
  data-dictionary.*    every column: name, type, unit, description (zh-Hant, pt, en)
  bundle/              the verifiable run bundle: framework, inputs, method spec, results
  manifest.json        SHA-256 of every other file of this package

Verify (no database needed): pip install egov-eval=={software}; egov runs verify bundle
It recomputes the results from the bundle's inputs and checks the results hash above.
Check the files: each file's SHA-256 (sha256sum FILE) is in manifest.json.

In CSV files a text cell that a spreadsheet would run as a formula (beginning with = + - @)
starts with an apostrophe; the JSON files hold the text as it is.

Licence / 使用條款 / Licença: published government information; it may be reused, copied and
redistributed freely, citing the source and the period. 本數據可自由使用、複製及轉載，惟須註明出處
及評估期。Os dados podem ser reutilizados, copiados e redistribuídos livremente, citando a fonte e
o período.
"""

_zips: dict[tuple[str, str], bytes] = {}
_zips_lock = threading.Lock()


def _sha(b: bytes) -> str:
    return hashlib.sha256(b).hexdigest()


def _csv(df: pd.DataFrame) -> bytes:
    buffer = io.StringIO()
    write_csv(df, buffer, index=False, lineterminator="\n", float_format="%.10g")
    return buffer.getvalue().encode("utf-8")


def _json(df: pd.DataFrame) -> bytes:
    def clean(v: Any) -> Any:
        if isinstance(v, float) and not math.isfinite(v):
            return None
        if v is pd.NA:
            return None
        if hasattr(v, "item"):  # numpy scalars
            return clean(v.item())
        return v

    records = [{k: clean(v) for k, v in row.items()} for row in df.astype(object).to_dict("records")]
    return (json.dumps(records, ensure_ascii=False, indent=1) + "\n").encode("utf-8")


def departments_table(pr: PublicRun, names: dict[str, dict[str, str]]) -> pd.DataFrame:
    """Every department at every node: score, rank, peer rank, coverage, rank interval."""
    r, fw = pr.result, pr.framework
    long = r.long()
    df = long[long["entity_type"] == "department"].rename(columns={"entity": "department"}).copy()
    covered = r.categories_scored("department")
    ranked = r.ranked_overall("department")
    df["department"] = df["department"].astype(str)
    peers = r.units["peer_group"].groupby(r.units["department"].astype(str)).first()
    df["peer_group"] = df["department"].map(peers)
    for lang, suffix in (("zh-Hant", "zh"), ("pt", "pt"), ("en", "en")):
        df[f"department_name_{suffix}"] = df["department"].map(
            lambda d, lang=lang: names.get(d, {}).get(lang, d)
        )
        df[f"node_name_{suffix}"] = df["node"].map(lambda n, lang=lang: fw.nodes[n].label(lang))
    df["categories_scored"] = df["department"].map(covered).astype(int)
    df["categories_total"] = len(fw.categories)
    df["ranked_overall"] = df["department"].map(ranked).astype(bool)
    u = pr.uncertainty
    for c in ("rank_p05", "rank_p95", "median_rank"):
        on_index = df["node"] == fw.index_code
        values = df["department"].map(u[c]) if u is not None and c in u.columns else math.nan
        df[c] = pd.Series(values, index=df.index).where(on_index).astype(float)
    df["period"], df["run_key"] = pr.period, pr.run.run_key
    cols = [
        "period",
        "run_key",
        "department",
        "department_name_zh",
        "department_name_pt",
        "department_name_en",
    ]
    cols += ["peer_group", "node", "node_name_zh", "node_name_pt", "node_name_en", "level", "score", "rank"]
    cols += [
        "peer_rank",
        "categories_scored",
        "categories_total",
        "ranked_overall",
        *("rank_p05", "rank_p95", "median_rank"),
    ]
    return df[cols].sort_values(
        ["level", "node", "rank", "department"],
        ascending=[False, True, True, True],
        na_position="last",
        kind="mergesort",
    )


def objects_table(session: Session, pr: PublicRun) -> pd.DataFrame:
    """Every assessed object at every node: score and rank (within its kind), with names."""
    r = pr.result
    long = r.long()
    df = long[long["entity_type"] != "department"].rename(columns={"entity": "object"}).copy()
    df["object"] = df["object"].astype(str)
    names = _object_names(session)
    for lang, suffix in (("zh-Hant", "zh"), ("pt", "pt"), ("en", "en")):
        df[f"object_name_{suffix}"] = df["object"].map(lambda o, lang=lang: names.get(o, {}).get(lang, o))
    df["department"] = df["object"].map(r.units["department"].rename(index=str))
    df["kind"] = df["object"].map(r.units["kind"].rename(index=str))
    df["period"], df["run_key"] = pr.period, pr.run.run_key
    cols = ["period", "run_key", "object", "object_name_zh", "object_name_pt", "object_name_en", "department"]
    cols += ["kind", "node", "level", "score", "rank"]
    return df[cols].sort_values(["object", "level", "node"], ascending=[True, False, True], kind="mergesort")


def _object_names(session: Session) -> dict[str, dict[str, str]]:
    rows = session.execute(
        select(
            col(AssessedObject.code),
            col(AssessedObject.name_zh),
            col(AssessedObject.name_pt),
            col(AssessedObject.name_en),
        )
    ).all()
    return {str(c): {"zh-Hant": zh or c, "pt": pt or c, "en": en or c} for c, zh, pt, en in rows}


def values_table(session: Session, pr: PublicRun) -> pd.DataFrame:
    """The values the run used: object, indicator, value in its unit, source, status (the
    current metric value's; empty for rating-derived and derived values)."""
    data = pr.inputs.data[["unit", "indicator", "value"]].rename(columns={"unit": "object"}).copy()
    rows = session.execute(
        select(col(AssessedObject.code), col(MetricValue.indicator), col(MetricValue.status))
        .join(AssessedObject, col(AssessedObject.id) == col(MetricValue.object_id))
        .where(col(MetricValue.period_id) == pr.run.period_id, col(MetricValue.superseded_at).is_(None))
    ).all()
    status = {(str(o), str(i)): str(s) for o, i, s in rows}
    nodes = pr.framework.nodes
    data["object"] = data["object"].astype(str)
    data["department"] = data["object"].map(pr.inputs.units["department"].rename(index=str))
    data["unit"] = data["indicator"].map(lambda i: nodes[i].unit if i in nodes else "")
    data["source"] = data["indicator"].map(lambda i: nodes[i].source if i in nodes else "")
    data["status"] = [
        status.get((o, i), "") if src == "metric" else ""
        for o, i, src in zip(data["object"], data["indicator"], data["source"], strict=True)
    ]
    data["period"], data["run_key"] = pr.period, pr.run.run_key
    cols = ["period", "run_key", "object", "department", "indicator", "unit", "value", "source", "status"]
    return data[cols].sort_values(["object", "indicator"], kind="mergesort")


def objections_table(session: Session, pr: PublicRun) -> pd.DataFrame:
    rows = objection_summary(session, pr.run)
    df = pd.DataFrame(
        [(pr.period, o.department, o.subject, o.outcome, o.answer) for o in rows],
        columns=["period", "department", "subject", "outcome", "answer"],
    )
    return df.astype(object)


def dictionary_table(tables: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """Every column of every table (and of the dictionary itself) with its type, unit and
    descriptions; an error for a column the dictionary does not describe."""
    dictionary_columns = [
        "file",
        "column",
        "type",
        "unit",
        "description_zh",
        "description_pt",
        "description_en",
    ]
    rows = []
    for name, df in [*tables.items(), (DICTIONARY, pd.DataFrame(columns=dictionary_columns))]:
        for column in df.columns:
            if column not in COLUMNS:
                raise EgovError(f"the data dictionary does not describe column {column!r} of {name}")
            kind, unit, zh, pt, en = COLUMNS[column]
            rows.append((f"{name}.csv", column, kind, unit, zh, pt, en))
    return pd.DataFrame(rows, columns=dictionary_columns)


def package_files(session: Session, period: str) -> dict[str, bytes]:
    """The package of the published period `period`: name → content (manifest.json last);
    `NotPublished` for any period that is not published."""
    pr = public_run(session, period)
    names = names_by_language(session)
    tables = {
        "departments": departments_table(pr, names),
        "objects": objects_table(session, pr),
        "indicator-values": values_table(session, pr),
        "objections": objections_table(session, pr),
    }
    tables[DICTIONARY] = dictionary_table(tables)
    files: dict[str, bytes] = {}
    for name, df in tables.items():
        files[f"{name}.csv"] = _csv(df)
        files[f"{name}.json"] = _json(df)
    files[README] = README_TEXT.format(
        period=pr.period, run=pr.run.run_key, results_hash=pr.run.results_hash, software=__version__
    ).encode("utf-8")
    for name, content in bundle_files(session, pr.run).items():
        files[f"{BUNDLE_DIR}/{name}"] = content
    manifest = {
        "format": PACKAGE_FORMAT,
        "period": pr.period,
        "run_key": pr.run.run_key,
        "results_hash": pr.run.results_hash,
        "inputs_hash": pr.run.inputs_hash,
        "bundle_manifest_sha256": _sha(files[f"{BUNDLE_DIR}/manifest.json"]),
        "software_version": __version__,
        "files": {k: _sha(v) for k, v in sorted(files.items())},
    }
    files[MANIFEST] = (json.dumps(manifest, indent=2, ensure_ascii=False) + "\n").encode("utf-8")
    return files


def write_package(session: Session, period: str, out: Path) -> tuple[Path, int, str]:
    """Write the package of `period` into the folder `out` (new or empty). Returns (folder,
    number of files, the run's results hash)."""
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise EgovError(f"{out} exists and is not an empty folder; choose a new folder")
    files = package_files(session, period)
    for name, content in files.items():
        path = out / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)
    manifest = json.loads(files[MANIFEST])
    return out, len(files), str(manifest["results_hash"])


def package_zip(session: Session, period: str) -> bytes:
    """The package as one zip file (fixed timestamps: the same bytes every time), made once
    per process and published run."""
    pr = public_run(session, period)
    key = (str(session.get_bind().engine.url), pr.run.run_key)
    with _zips_lock:
        if key in _zips:
            return _zips[key]
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for name, content in package_files(session, period).items():
            info = zipfile.ZipInfo(
                f"egov-open-data-{file_safe(pr.period)}/{name}", date_time=(1980, 1, 1, 0, 0, 0)
            )
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            zf.writestr(info, content)
    data = buffer.getvalue()
    with _zips_lock:
        while len(_zips) >= 8:
            _zips.pop(next(iter(_zips)))
        _zips[key] = data
    return data
