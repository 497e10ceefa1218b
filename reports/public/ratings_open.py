"""The open data of the public rating results of a period (`egov publish ratings --period P --out
DIR`, and /public/ratings/PERIOD/open-data.zip): each table as CSV (UTF-8, formula-safe text,
`egov.cells.write_csv`) and JSON with the same rows, the data dictionary in zh-Hant, pt and en
(`reports.public.ratings_labels.COLUMNS`), a README and a manifest of SHA-256.

- `departments`: per department, the ratings of its objects (`objects_*`), of the service items
  it owns (`services_*`) and the bad-rating cases it handles (`cases_*`);
- `services`: per service item, its owner, catalogue channels, ratings (`rating_*`) and the cases
  of its bad ratings (`cases_*`);
- `service-channels`: per service item and rating channel, the ratings;
- `objects`: per assessed object, the ratings given on it.
No personal data: the tables are made from the roll-ups and the cases' dates and states.
"""

from __future__ import annotations

import hashlib
import io
import json
import math
import zipfile
from pathlib import Path
from typing import Any

import pandas as pd
from sqlmodel import Session

from egov import __version__
from egov.cells import write_csv
from egov.errors import EgovError
from reports.public.data import file_safe
from reports.public.ratings_data import PublicRatings, public_ratings
from reports.public.ratings_labels import COLUMNS

DICTIONARY = "data-dictionary"
README = """\
市民評價結果（好差評）開放數據 / Avaliações dos cidadãos: dados abertos / Citizen rating results: open data

Period / 期間 / Período: {period} ({start} – {end}); figures up to / 數據截至 / dados até {through}
Minimum count / 最低評價數 / Número mínimo: {min} (below it the shares and the mean are empty)
Made by egov-eval {software}.

  departments.*       per department: ratings of its objects (objects_*), of the service items it
                      owns (services_*: a rating counts for the item's owner wherever it was
                      given), and the bad-rating cases it handles (cases_*; days are calendar days)
  services.*          per service item: owner, channels, ratings (rating_*), cases of its bad ratings
  service-channels.*  per service item and rating channel: ratings
  objects.*           per assessed object (app, site, counter, kiosk): ratings given on it
  data-dictionary.*   every column: type, unit, description (zh-Hant, pt, en)
  manifest.json       SHA-256 of every other file

No personal data: no comment, pseudonym, staff label or transaction reference is in these files.
In CSV files a text cell that a spreadsheet would run as a formula starts with an apostrophe.
Licence / 使用條款 / Licença: free reuse citing the source and the period. 可自由使用，須註明出處及期間。
Reutilização livre, citando a fonte e o período.
"""


def _csv(df: pd.DataFrame) -> bytes:
    buffer = io.StringIO()
    write_csv(df, buffer, index=False, lineterminator="\n", float_format="%.10g")
    return buffer.getvalue().encode("utf-8")


def _clean(v: Any) -> Any:
    if v is None or v is pd.NA or (isinstance(v, float) and not math.isfinite(v)):
        return None
    if hasattr(v, "item"):  # numpy scalars
        return _clean(v.item())
    return v


def _json(df: pd.DataFrame) -> bytes:
    records = [{k: _clean(v) for k, v in row.items()} for row in df.astype(object).to_dict("records")]
    return (json.dumps(records, ensure_ascii=False, indent=1) + "\n").encode("utf-8")


def tables(pr: PublicRatings) -> dict[str, pd.DataFrame]:
    """The period's tables, each with the period, its first day and the last day counted."""

    def framed(df: pd.DataFrame) -> pd.DataFrame:
        df = df.reset_index() if df.index.name else df.reset_index(drop=True)
        df.insert(0, "through", pr.through.isoformat())
        df.insert(0, "start", pr.start.isoformat())
        df.insert(0, "period", pr.period)
        return df

    return {
        "departments": framed(pr.departments),
        "services": framed(pr.services),
        "service-channels": framed(pr.channels),
        "objects": framed(pr.objects),
    }


def dictionary(tabs: dict[str, pd.DataFrame]) -> pd.DataFrame:
    cols = ["file", "column", "type", "unit", "description_zh", "description_pt", "description_en"]
    rows = []
    for name, df in [*tabs.items(), (DICTIONARY, pd.DataFrame(columns=cols))]:
        for column in df.columns:
            if column not in COLUMNS:
                raise EgovError(f"the data dictionary does not describe column {column!r} of {name}")
            rows.append((f"{name}.csv", column, *COLUMNS[column]))
    return pd.DataFrame(rows, columns=cols)


def ratings_files(session: Session, period: str) -> dict[str, bytes]:
    """The open data of `period`: name → content (manifest.json last); `NoPublicRatings` for a
    period without public figures."""
    pr = public_ratings(session, period)
    tabs = tables(pr)
    tabs[DICTIONARY] = dictionary(tabs)
    files: dict[str, bytes] = {}
    for name, df in tabs.items():
        files[f"{name}.csv"] = _csv(df)
        files[f"{name}.json"] = _json(df)
    files["README.txt"] = README.format(
        period=pr.period,
        start=pr.start,
        end=pr.end,
        through=pr.through,
        min=pr.min_ratings,
        software=__version__,
    ).encode("utf-8")
    manifest = {
        "format": "egov-rating-results",
        "period": pr.period,
        "through": pr.through.isoformat(),
        "software_version": __version__,
        "files": {k: hashlib.sha256(v).hexdigest() for k, v in sorted(files.items())},
    }
    files["manifest.json"] = (json.dumps(manifest, indent=2, ensure_ascii=False) + "\n").encode("utf-8")
    return files


def write_ratings(session: Session, period: str, out: Path) -> tuple[Path, int]:
    """Write the open data of `period` into the folder `out` (new or empty)."""
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise EgovError(f"{out} exists and is not an empty folder; choose a new folder")
    files = ratings_files(session, period)
    out.mkdir(parents=True, exist_ok=True)
    for name, content in files.items():
        (out / name).write_bytes(content)
    return out, len(files)


def ratings_zip(session: Session, period: str) -> bytes:
    """The open data as one zip file (fixed timestamps: the same figures, the same bytes)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for name, content in ratings_files(session, period).items():
            info = zipfile.ZipInfo(
                f"egov-ratings-{file_safe(period)}/{name}", date_time=(1980, 1, 1, 0, 0, 0)
            )
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            zf.writestr(info, content)
    return buffer.getvalue()
