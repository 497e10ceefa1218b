"""The cycle pages (/reports/cycle/, issue 16 point 7) through the TestClient on a small world
(tests/helpers/cycle_world.py), on SQLite and PostgreSQL: each page per role; a department
submits a value with an evidence file and a reference, only while collecting and only for its
own objects; the assessor verifies, adjusts, rejects; a department raises an objection in the
review and the assessor answers it (accept with a value, reject); refusals (no key 401, wrong
role 403, another department's value 403 / objection 404, a cycle that does not exist 404, not
now 409, invalid 400, a form from another site 403) shown as a message, never a traceback;
messages in zh-Hant, pt and en; stored text escaped."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.helpers.cycle_world import PERIOD, build_world, to_review

BASE = f"/reports/cycle/{PERIOD}"
PDF = b"%PDF-1.4\n% evidence\n"


@dataclass
class Site:
    client: Any
    keys: dict[str, str]
    url: str

    def h(self, who: str | None) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.keys[who]}"} if who else {}

    def get(self, path: str, who: str | None) -> Any:
        return self.client.get(path, headers=self.h(who))

    def post(self, path: str, who: str | None, data: dict[str, str], files: Any = None) -> Any:
        return self.client.post(path, headers=self.h(who), data=data, files=files, follow_redirects=False)

    def values(self, department: str | None = None) -> list[Any]:
        from egov.db import session_scope
        from egov.values import list_values

        with session_scope(self.url) as s:
            return list_values(s, PERIOD, department=department)


@pytest.fixture
def site(db_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Site]:
    from fastapi.testclient import TestClient

    from egov.app import create_app
    from egov.settings import reset_settings

    monkeypatch.setenv("EGOV_DATABASE_URL", db_url)
    monkeypatch.setenv("EGOV_SECRET_KEY", "test-secret")
    monkeypatch.setenv("EGOV_EVIDENCE_DIR", str(tmp_path / "evidence"))
    monkeypatch.setenv("EGOV_EVIDENCE_MAX_BYTES", "200000")
    monkeypatch.chdir(tmp_path)
    reset_settings()
    keys = build_world(db_url)
    with TestClient(create_app()) as client:
        yield Site(client, keys, db_url)
    reset_settings()


def _id(site: Site, obj: str, indicator: str) -> int:
    return next(v.id for v in site.values() if v.object == obj and v.indicator == indicator)


def test_pages_by_role_and_refusals(site: Site) -> None:
    listing = site.get("/reports/cycle/?lang=en", "d1")
    assert listing.status_code == 200 and "Collecting" in listing.text
    assert f"{BASE}/values?lang=en" in listing.text and f"{BASE}/verify" not in listing.text
    assessor = site.get("/reports/cycle/?lang=en", "assessor").text
    assert f"{BASE}/verify?lang=en" in assessor and "Move to Verifying" in assessor
    assert "Move to" not in site.get("/reports/cycle/?lang=en", "lead").text
    assert site.get("/reports/cycle/?lang=en", None).status_code == 401
    # the navigation of every report page links to the cycles
    assert 'href="/reports/cycle/?lang=en"' in site.get("/reports/?lang=en", "d1").text
    expected = {
        "values": {"d1": 200, "d2": 200, "assessor": 403, "lead": 403, "admin": 403, None: 401},
        "review": {"d1": 200, "d2": 200, "assessor": 403, "lead": 403, "admin": 403, None: 401},
        "verify": {"d1": 403, "d2": 403, "assessor": 200, "lead": 403, "admin": 403, None: 401},
        "objections": {"d1": 403, "d2": 403, "assessor": 200, "lead": 403, "admin": 403, None: 401},
    }
    for name, statuses in expected.items():
        for who, status in statuses.items():
            r = site.get(f"{BASE}/{name}?lang=en", who)
            assert r.status_code == status, (name, who, r.status_code)
            assert r.headers["cache-control"] == "no-store"
        assert (
            site.get(
                f"/reports/cycle/2019/{name}?lang=en", "d1" if name in ("values", "review") else "assessor"
            ).status_code
            == 404
        )
    assert site.get(f"{BASE}/values?lang=fr", "d1").status_code == 400
    # a department sees its own values only
    d1 = site.get(f"{BASE}/values?lang=en", "d1").text
    assert "APP1" in d1 and "APP2" not in d1 and 'lang="en"' in d1
    assert '<label for="value">' in d1 and '<th scope="col">' in d1
    # every POST: no key 401, wrong role 403, another site 403
    assert site.post(f"{BASE}/values?lang=en", None, {"object": "APP1"}).status_code == 401
    assert site.post(f"{BASE}/values?lang=en", "assessor", {"object": "APP1"}).status_code == 403
    assert site.post(f"{BASE}/verify?lang=en", "d1", {"value_id": "1", "action": "verify"}).status_code == 403
    assert site.post(f"{BASE}/objections?lang=en", "d1", {"objection_id": "1"}).status_code == 403
    forged = site.client.post(
        f"{BASE}/values?lang=en",
        headers={**site.h("d1"), "Origin": "http://evil.example"},
        data={"object": "APP1", "indicator": "app_takeup", "value": "50"},
        follow_redirects=False,
    )
    assert forged.status_code == 403 and "came from another site" in forged.text


def test_department_submits_a_value_with_evidence(site: Site) -> None:
    r = site.post(
        f"{BASE}/values?lang=en",
        "d1",
        {"object": "APP1", "indicator": "app_takeup", "value": "45.5", "note": "annual report"},
        files={"file": ("report.pdf", PDF, "application/pdf")},
    )
    assert r.status_code == 303, r.text
    assert r.headers["location"] == f"{BASE}/values?lang=en&done=submitted"
    page = site.get(r.headers["location"], "d1").text
    assert 'role="status">The value was submitted.' in page
    row = next(v for v in site.values("D1") if v.indicator == "app_takeup")
    assert (row.value, row.status, row.evidence, row.unit) == (45.5, "submitted", 1, "%")
    assert "45.5 %" in page
    # a reference to an existing value
    r = site.post(
        f"{BASE}/evidence?lang=en", "d1", {"value_id": str(row.id), "reference": "https://example.org/x"}
    )
    assert r.status_code == 303 and r.headers["location"].endswith("done=evidence")
    assert next(v for v in site.values("D1") if v.id == row.id).evidence == 2
    # another department's value or object: refused (403), nothing stored
    theirs = _id(site, "APP2", "app_takeup")
    r = site.post(f"{BASE}/evidence?lang=en", "d1", {"value_id": str(theirs), "reference": "https://x.test"})
    assert r.status_code == 403 and 'role="alert"' in r.text and "not of department D1" in r.text
    r = site.post(f"{BASE}/values?lang=en", "d1", {"object": "APP2", "indicator": "app_takeup", "value": "1"})
    assert r.status_code == 403 and "not of department D1" in r.text
    assert next(v for v in site.values("D2") if v.indicator == "app_takeup").value == 60.0
    # invalid: a file that is not what its name says, both a file and a reference, not a number
    r = site.post(
        f"{BASE}/evidence?lang=en",
        "d1",
        {"value_id": str(row.id)},
        files={"file": ("x.pdf", b"MZ", "application/pdf")},
    )
    assert r.status_code == 400 and "not a .pdf file" in r.text and "Traceback" not in r.text
    r = site.post(
        f"{BASE}/evidence?lang=en",
        "d1",
        {"value_id": str(row.id), "reference": "doc 1"},
        files={"file": ("a.txt", b"hello", "text/plain")},
    )
    assert r.status_code == 400 and "Give a file or a reference" in r.text
    r = site.post(
        f"{BASE}/values?lang=pt", "d1", {"object": "APP1", "indicator": "app_takeup", "value": "abc"}
    )
    assert r.status_code == 400 and "O valor deve ser um número." in r.text
    r = site.post(
        f"{BASE}/values?lang=en", "d1", {"object": "APP1", "indicator": "app_takeup", "value": "150"}
    )
    assert r.status_code == 400 and "app_takeup" in r.text
    assert next(v for v in site.values("D1") if v.id == row.id).evidence == 2
    # once the cycle has moved on: 409
    from egov.cycle import advance
    from egov.db import session_scope
    from tests.helpers.cycle_world import ASSESSOR

    with session_scope(site.url) as s:
        advance(s, PERIOD, "verifying", ASSESSOR, "values in")
    r = site.post(
        f"{BASE}/values?lang=zh-Hant", "d1", {"object": "APP1", "indicator": "app_takeup", "value": "50"}
    )
    assert r.status_code == 409 and "只可在「收集數據」期間提交數值" in r.text
    assert "收集數據" in site.get(f"{BASE}/values?lang=zh-Hant", "d1").text


def test_assessor_verifies_adjusts_rejects(site: Site) -> None:
    up1, wcag2, up3 = (
        _id(site, "APP1", "app_takeup"),
        _id(site, "APP2", "app_wcag"),
        _id(site, "APP3", "app_takeup"),
    )
    page = site.get(f"{BASE}/verify?lang=en&department=D2", "assessor").text
    assert "APP2" in page and "APP1" not in page and f'<label for="act-{wcag2}" class="sr">' in page
    r = site.post(f"{BASE}/verify?lang=en", "assessor", {"value_id": str(up1), "action": "verify"})
    assert r.status_code == 303 and r.headers["location"].endswith("done=verify")
    assert "The value was verified." in site.get(r.headers["location"], "assessor").text
    r = site.post(
        f"{BASE}/verify?lang=en", "assessor", {"value_id": str(wcag2), "action": "adjust", "reason": "log"}
    )
    assert r.status_code == 400 and 'role="alert"' in r.text
    r = site.post(
        f"{BASE}/verify?lang=en",
        "assessor",
        {"value_id": str(wcag2), "action": "adjust", "value": "72,5", "reason": "log"},
    )
    assert r.status_code == 303
    r = site.post(f"{BASE}/verify?lang=en", "assessor", {"value_id": str(up3), "action": "reject"})
    assert r.status_code == 400 and "give the reason" in r.text
    r = site.post(
        f"{BASE}/verify?lang=en", "assessor", {"value_id": str(up3), "action": "reject", "reason": "none"}
    )
    assert r.status_code == 303
    # the superseded value cannot be decided again
    r = site.post(f"{BASE}/verify?lang=en", "assessor", {"value_id": str(wcag2), "action": "verify"})
    assert r.status_code == 400 and "not current" in r.text
    assert (
        site.post(
            f"{BASE}/verify?lang=en", "assessor", {"value_id": "999999", "action": "verify"}
        ).status_code
        == 404
    )
    shown = {(v.object, v.indicator): (v.status, v.value) for v in site.values()}
    assert shown[("APP1", "app_takeup")] == ("verified", 40.0)
    assert shown[("APP2", "app_wcag")] == ("adjusted", 72.5)
    assert shown[("APP3", "app_takeup")] == ("rejected", 70.0)
    assert "Adjusted by the assessor" in site.get(f"{BASE}/verify?lang=en&status=adjusted", "assessor").text


def test_objections_raised_and_answered(site: Site) -> None:
    run = to_review(site.url)
    review = site.get(f"{BASE}/review?lang=en", "d1").text
    assert f"/reports/{run}/departments/D1?lang=en" in review and "App" not in review.split("<main>")[0]
    assert "Your department&#x27;s draft results" in review and "APP2" not in review
    text = '<script>alert("x")</script> too low'
    r = site.post(
        f"{BASE}/review?lang=en",
        "d1",
        {
            "target": "value",
            "object": "APP1",
            "indicator": "app_takeup",
            "text": text,
            "evidence": "https://x.test/s",
        },
    )
    assert r.status_code == 303 and r.headers["location"].endswith("done=raised")
    r = site.post(
        f"{BASE}/review?lang=en",
        "d1",
        {"target": "result", "node": "egov_index", "aspect": "rank", "text": "tied"},
    )
    assert r.status_code == 303
    r = site.post(
        f"{BASE}/review?lang=en",
        "d1",
        {"target": "value", "object": "APP2", "indicator": "app_takeup", "text": "x"},
    )
    assert r.status_code == 400 and "D1 has no object" in r.text
    assert site.post(f"{BASE}/review?lang=en", "assessor", {"text": "x"}).status_code == 403
    # D2 sees none of D1's objections
    d2 = site.get(f"{BASE}/review?lang=en", "d2").text
    assert "too low" not in d2 and "No objections." in d2
    page = site.get(f"{BASE}/objections?lang=en", "assessor").text
    assert "Open objections: 2" in page and "<script>alert" not in page and "&lt;script&gt;" in page
    from egov.db import session_scope
    from egov.objections import Caller, list_objections

    with session_scope(site.url) as s:
        ids = [v.id for v in list_objections(s, Caller("t", "assessor"), PERIOD)]
    r = site.post(
        f"{BASE}/objections?lang=en",
        "assessor",
        {"objection_id": str(ids[0]), "decision": "accept", "reason": "ok"},
    )
    assert r.status_code == 400 and "new value" in r.text
    r = site.post(
        f"{BASE}/objections?lang=en",
        "assessor",
        {"objection_id": str(ids[0]), "decision": "accept", "value": "55", "reason": "counted"},
    )
    assert r.status_code == 303 and r.headers["location"].endswith("done=accepted")
    r = site.post(
        f"{BASE}/objections?lang=pt",
        "assessor",
        {"objection_id": str(ids[1]), "decision": "reject", "reason": "as is"},
    )
    assert r.status_code == 303
    assert "Objecção não aceite." in site.get(r.headers["location"], "assessor").text
    again = site.post(
        f"{BASE}/objections?lang=en",
        "assessor",
        {"objection_id": str(ids[1]), "decision": "reject", "reason": "x"},
    )
    assert again.status_code == 409 and "rejected already" in again.text
    assert (
        site.post(
            f"{BASE}/objections?lang=en",
            "assessor",
            {"objection_id": "99999", "decision": "reject", "reason": "x"},
        ).status_code
        == 404
    )
    assert next(v for v in site.values("D1") if v.indicator == "app_takeup").value == 55.0
    mine = site.get(f"{BASE}/review?lang=zh-Hant", "d1").text
    assert "已接納" in mine and "不予接納" in mine


def test_an_evidence_file_past_the_body_limit_within_the_evidence_limit(site: Site) -> None:
    """The service's body limit (64 KB) does not apply to evidence uploads: they have the
    evidence limit (EGOV_EVIDENCE_MAX_BYTES, 200 000 here; past it a 400 from the check, far
    past it a 413 before the form is read)."""
    value = str(_id(site, "APP1", "app_takeup"))
    ok = site.post(
        f"{BASE}/evidence?lang=en", "d1", {"value_id": value}, files={"file": ("log.txt", b"x" * 100_000)}
    )
    assert ok.status_code == 303, ok.text[:300]
    big = site.post(
        f"{BASE}/evidence?lang=en", "d1", {"value_id": value}, files={"file": ("log.txt", b"x" * 250_000)}
    )
    assert big.status_code == 400 and "at most 200,000" in big.text
    huge = site.post(
        f"{BASE}/evidence?lang=en", "d1", {"value_id": value}, files={"file": ("log.txt", b"x" * 400_000)}
    )
    assert huge.status_code == 413
    # the body limit still holds elsewhere
    assert site.post(f"{BASE}/review?lang=en", "d1", {"text": "x" * 70_000}).status_code == 413


@pytest.mark.parametrize(
    ("lang", "text"),
    [("zh-Hant", "數值已提交。"), ("pt", "Valor submetido."), ("en", "The value was submitted.")],
)
def test_messages_in_three_languages(site: Site, lang: str, text: str) -> None:
    r = site.get(f"{BASE}/values?lang={lang}&done=submitted", "d1")
    assert r.status_code == 200 and f'<html lang="{lang}">' in r.text and text in r.text
    assert 'role="status"' in site.get(f"{BASE}/values?lang={lang}&done=evidence", "d1").text
    assert (
        "role="
        not in site.get(f"{BASE}/values?lang={lang}&done=<b>", "d1").text.split("<h3>")[0].split("</nav>")[-1]
    )


def test_cycle_moves_by_their_owner(site: Site) -> None:
    move = f"{BASE}/move?lang=en"
    assert site.post(move, "d1", {"to": "verifying", "reason": "x"}).status_code == 403
    r = site.post(move, "lead", {"to": "verifying", "reason": "x"})
    assert r.status_code == 403 and "the assessor&#x27;s to do" in r.text
    assert site.post(move, "assessor", {"to": "verifying", "reason": ""}).status_code == 400
    r = site.post(move, "assessor", {"to": "verifying", "reason": "values in"})
    assert r.status_code == 303 and r.headers["location"] == "/reports/cycle/?lang=en&done=moved"
    page = site.get(r.headers["location"], "assessor").text
    assert "The cycle was moved." in page and "Move to Draft" in page and 'id="run-2025"' in page
    assert site.post(move, "assessor", {"to": "draft", "reason": "x"}).status_code == 400  # no run
    assert (
        site.post(
            "/reports/cycle/2019/move?lang=en", "assessor", {"to": "verifying", "reason": "x"}
        ).status_code
        == 404
    )
