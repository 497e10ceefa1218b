"""Values with evidence (issue 16, point 3; egov.values, egov.evidence, egov.sample, the values
API): a department submits and cannot verify its own value; only the assessor verifies,
adjusts (the original kept) or rejects; evidence is stored once by its hash, within its size
and types; the sample audit is reproducible by its seed; the framework's rule for unverified
and disputed values changes the score exactly as docs/assessment.md says. A tiny world of three
objects and two indicators, on SQLite and PostgreSQL."""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from sqlmodel import Session, col, select

from egov.cycle import Actor, advance, open_cycle, publish
from egov.errors import EgovError
from egov.evidence import Caller, NotYours, add_file, add_reference, evidence_of
from egov.models import AuditLog, MetricValue
from egov.models_values import Evidence, ValueReview
from egov.sample import draw_positions, draw_sample, record_outcome, samples
from egov.values import find_value, list_values, review, run_flags, scoring_values, verify_values
from indicators.framework import parse_framework

ASSESSOR = Actor("test:assessor", "assessor")
D1 = Caller("key 1 (department:D1)", "department", "D1")
VALUES = {
    ("A", "up"): 90.0,
    ("B", "up"): 95.0,
    ("C", "up"): 100.0,
    ("A", "fast"): 10.0,
    ("B", "fast"): 20.0,
    ("C", "fast"): 30.0,
}


def _name(code: str) -> str:
    return f"name = {{ zh-Hant = '{code}', pt = '{code}', en = '{code}' }}\n"


def tiny_toml(unverified: str = "use", disputed: str = "use") -> str:
    """One category of infrastructure, two indicators (min-max 0–100, no imputation)."""
    ind = "unit = '%'\ndirection = 1\nweight = 1\nsource = 'metric'\nrange = [0, 100]\nrationale = 'test'\n"
    return (
        f"[framework]\ncode = 'tiny'\nversion = '1'\n{_name('Tiny')}"
        "[index]\ncode = 'idx'\n"
        "[methods]\nnormalisation = { method = 'minmax', lower = 0, upper = 100 }\n"
        f"[assessment]\nunverified = '{unverified}'\ndisputed = '{disputed}'\n"
        f"[categories.infra]\n{_name('infra')}applies_to = 'infrastructure'\n"
        f"[categories.infra.indicators.up]\n{_name('up')}{ind}"
        f"[categories.infra.indicators.fast]\n{_name('fast')}{ind}"
    )


def world(url: str) -> None:
    """Departments D1 (objects A, B) and D2 (C), the tiny framework, period 2025's values."""
    from egov.db import init_db, session_scope
    from egov.store import add_metric_values, load_register, period_for_import, store_framework

    init_db(url)
    with session_scope(url) as s:
        load_register(
            s,
            {
                "departments": {"D1": {"name": {"en": "One"}}, "D2": {"name": {"en": "Two"}}},
                "objects": {
                    "A": {"department": "D1", "kind": "infrastructure"},
                    "B": {"department": "D1", "kind": "infrastructure"},
                    "C": {"department": "D2", "kind": "infrastructure"},
                },
            },
        )
        store_framework(s, parse_framework(tiny_toml()), tiny_toml())
        rows = [{"object": o, "indicator": i, "value": v} for (o, i), v in VALUES.items()]
        add_metric_values(s, period_for_import(s, "2025"), rows, source_file="t.csv")


def session(url: str) -> Any:
    from egov.db import session_scope

    return session_scope(url)


def value(s: Session, obj: str, ind: str) -> MetricValue:
    return find_value(s, None, "2025", obj, ind)


# --- a department submits; only the assessor decides ------------------------------------------------
def test_a_department_cannot_verify_its_own_value(db_url: str, tmp_path: Path) -> None:
    """The template's or a CSV file's status `verified` is refused naming the file and the cell."""
    from egov.imports.metrics import import_metrics

    world(db_url)
    csv = tmp_path / "values.csv"
    csv.write_text("object,indicator,value,status\nA,up,91,verified\nB,up,96,\n", encoding="utf-8")
    with session(db_url) as s:
        fw = parse_framework(tiny_toml())
        with pytest.raises(EgovError) as caught:
            import_metrics(s, csv, "2025", fw)
        text = str(caught.value) + " ".join(caught.value.problems)
        assert "values.csv" in text and "line 2" in text and "cannot verify its own value" in text
        csv.write_text("object,indicator,value,status\nA,up,91,submitted\nB,up,96,\n", encoding="utf-8")
        import_metrics(s, csv, "2025", fw)
        assert {r.status for r in list_values(s, "2025")} == {"submitted"}


def test_the_assessor_verifies_adjusts_keeping_the_original_and_rejects(db_url: str) -> None:
    world(db_url)
    with session(db_url) as s:
        a = value(s, "A", "up")
        with pytest.raises(EgovError, match="assessor's to do"):
            review(s, a, "verify", Actor("cli:x", "lead"))
        assert review(s, a, "verify", ASSESSOR).status == "verified"
        b = value(s, "B", "up")
        with pytest.raises(EgovError, match="reason"):
            review(s, b, "adjust", ASSESSOR, "", 94.0)
        new = review(s, b, "adjust", ASSESSOR, "log shows 94", 94.0)
        assert (new.value, new.status, new.replaces_id) == (94.0, "adjusted", b.id)
        s.refresh(b)
        assert b.superseded_at is not None and b.value == 95.0  # the original is kept
        assert value(s, "B", "up").id == new.id
        c = value(s, "C", "up")
        assert review(s, c, "reject", ASSESSOR, "no evidence").status == "rejected"
        with pytest.raises(EgovError, match="cannot be verified"):
            review(s, c, "verify", ASSESSOR)
        actions = s.exec(
            select(AuditLog.action, AuditLog.detail).where(col(AuditLog.action).startswith("value."))
        ).all()
        assert [a for a, _ in actions] == ["value.verify", "value.adjust", "value.reject"]
        assert "reason=no evidence" in actions[-1][1]
        shown = {(r.object, r.indicator): r.status for r in list_values(s, "2025")}
        assert shown[("A", "up")] == "verified" and shown[("B", "up")] == "adjusted"
        assert [r.object for r in list_values(s, "2025", status="rejected")] == ["C"]


def test_many_values_are_verified_at_once_as_one_by_one_all_or_nothing(db_url: str) -> None:
    """`verify_values` (the demo verifies a period's values with it): each value verified with
    its own decision and audit line, as `review` records them; a value that is not verifiable
    (rejected, superseded) or a role other than the assessor's: refused, nothing verified."""
    world(db_url)
    with session(db_url) as s:
        every = [value(s, o, i) for o, i in VALUES]
        with pytest.raises(EgovError, match="assessor's to do"):
            verify_values(s, every, Actor("cli:x", "lead"))
        review(s, every[1], "dispute", ASSESSOR, "unclear")
        review(s, every[2], "reject", ASSESSOR, "no evidence")
        with pytest.raises(EgovError, match=f"value {every[2].id} is rejected"):
            verify_values(s, every, ASSESSOR)
        assert {r.status for r in list_values(s, "2025")} == {"submitted", "disputed", "rejected"}
        chosen = [v for k, v in enumerate(every) if k != 2]
        assert verify_values(s, chosen, ASSESSOR, "checked") == 5
        shown = {(r.object, r.indicator): r.status for r in list_values(s, "2025")}
        assert sorted(shown.values()) == ["rejected", *["verified"] * 5]
        decisions = s.exec(select(ValueReview).where(col(ValueReview.action) == "verify")).all()
        assert sorted((d.value_id, d.from_status) for d in decisions) == sorted(
            (v.id, "disputed" if k == 1 else "submitted") for k, v in enumerate(chosen)
        )
        assert {(d.actor, d.role, d.to_status, d.reason) for d in decisions} == {
            ("test:assessor", "assessor", "verified", "checked")
        }
        lines = s.exec(select(AuditLog.target_id).where(col(AuditLog.action) == "value.verify")).all()
        assert sorted(lines) == sorted(str(v.id) for v in chosen)
        with pytest.raises(EgovError, match="cannot be verified"):  # verified already
            verify_values(s, chosen[:1], ASSESSOR)


# --- evidence ----------------------------------------------------------------------------------------
def test_evidence_is_stored_once_by_hash_within_size_and_types(
    db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from egov.settings import reset_settings

    monkeypatch.setenv("EGOV_EVIDENCE_DIR", str(tmp_path / "ev"))
    monkeypatch.setenv("EGOV_EVIDENCE_MAX_BYTES", "1000")
    reset_settings()
    world(db_url)
    pdf = b"%PDF-1.4 uptime log"
    with session(db_url) as s:
        a, b, c = value(s, "A", "up"), value(s, "B", "up"), value(s, "C", "up")
        first = add_file(s, [a], pdf, "../../etc/up time?.pdf", D1)
        again = add_file(s, [b], pdf, "copy.pdf", ASSESSOR_CALLER)
        assert first.id == again.id and first.filename == "up time_.pdf"
        stored = list((tmp_path / "ev").rglob("*"))
        assert [p.name for p in stored if p.is_file()] == [first.sha256]
        assert len(s.exec(select(Evidence)).all()) == 1
        with pytest.raises(EgovError, match="at most 1,000"):
            add_file(s, [a], b"%PDF-" + b"x" * 1000, "big.pdf", D1)
        with pytest.raises(EgovError, match=r"type \.exe not allowed"):
            add_file(s, [a], b"MZ...", "run.exe", D1)
        with pytest.raises(EgovError, match=r"not a \.pdf file"):
            add_file(s, [a], b"<html>", "fake.pdf", D1)
        with pytest.raises(NotYours, match="not of department D1"):
            add_reference(s, [c], "https://example.org/c", D1)
        add_reference(s, [a, b], "Despacho n.º 12/2025", D1)
        assert [e.kind for _, e in evidence_of(s, [int(a.id or 0)])] == ["file", "document"]
        assert {(r.object, r.evidence) for r in list_values(s, "2025") if r.indicator == "up"} == {
            ("A", 2),
            ("B", 2),
            ("C", 0),
        }
    reset_settings()


ASSESSOR_CALLER = Caller("test:assessor", "assessor")


# --- the sample audit --------------------------------------------------------------------------------
def test_the_sample_is_reproducible_by_its_seed(db_url: str) -> None:
    world(db_url)
    with session(db_url) as s:
        first = draw_sample(s, "2025", 3, 7, ASSESSOR)
        second = draw_sample(s, "2025", 3, 7, ASSESSOR)
        other = draw_sample(s, "2025", 6, 8, ASSESSOR)
        found = {x.sample.id: x for x in samples(s, "2025")}
        drawn = [[i.value_id for i in found[x.id].items] for x in (first, second, other)]
        ids = sorted(int(m.id or 0) for m in s.exec(select(MetricValue)).all())
        assert drawn[0] == drawn[1] == [ids[k] for k in draw_positions(6, 3, 7)]
        assert sorted(drawn[2]) == ids  # n = population: every value once
        items = found[first.id].items
        record_outcome(s, items[0].item_id, "confirmed", "log", ASSESSOR)
        record_outcome(s, items[1].item_id, "corrected", "was 90", ASSESSOR)
        with pytest.raises(EgovError, match="outcome already"):
            record_outcome(s, items[1].item_id, "confirmed", "", ASSESSOR)
        summary = next(x for x in samples(s, "2025") if x.sample.id == first.id)
        assert (summary.confirmed, summary.corrected, summary.pending, summary.correction_rate) == (
            1,
            1,
            1,
            0.5,
        )
    assert draw_positions(6, 3, 7) == draw_positions(6, 3, 7) != draw_positions(6, 3, 8)


# --- the rule ----------------------------------------------------------------------------------------
def scores(url: str, unverified: str, disputed: str) -> dict[str, float]:
    """The objects' index scores of a run of period 2025 under the rule, and its flag count."""
    from egov.models import Period
    from egov.scoring import score_period
    from egov.store import store_framework

    text = tiny_toml(unverified, disputed)
    fw = parse_framework(text)
    with session(url) as s:
        row = store_framework(s, fw, text)
        period = s.exec(select(Period).where(Period.code == "2025")).one()
        out = score_period(s, row, fw, period)
        flags = run_flags(s, out.run.id)
    index = out.result.scores[fw.index_code]
    return {**{str(k): round(float(v), 6) for k, v in index.items()}, "flags": float(len(flags))}


def test_a_disputed_value_under_exclude_changes_the_score_as_documented(db_url: str) -> None:
    """docs/assessment.md: `exclude` leaves the value out (missing; imputation none skips it and
    renormalises the weights), `use` scores it, `flag` scores it and records it with the run.
    C's `up` (100 %) disputed: with `use`, up over A, B, C = 90, 95, 100 → 0, 50, 100 and fast
    10, 20, 30 → 0, 50, 100, so B = 50; with `exclude`, up over A, B → 0, 100 and B = (100 +
    50) / 2 = 75, while C = fast alone = 100."""
    world(db_url)
    with session(db_url) as s:
        for obj, ind in VALUES:
            review(s, value(s, obj, ind), "verify", ASSESSOR)
        review(s, value(s, "C", "up"), "dispute", ASSESSOR, "figure contested")
    used = scores(db_url, "use", "use")
    excluded = scores(db_url, "use", "exclude")
    flagged = scores(db_url, "use", "flag")
    assert (used["A"], used["B"], used["C"], used["flags"]) == (0.0, 50.0, 100.0, 0.0)
    assert (excluded["A"], excluded["B"], excluded["C"], excluded["flags"]) == (0.0, 75.0, 100.0, 1.0)
    assert {k: flagged[k] for k in "ABC"} == {k: used[k] for k in "ABC"} and flagged["flags"] == 1.0


def test_unverified_values_follow_the_rule_and_rejected_ones_are_never_used(db_url: str) -> None:
    world(db_url)
    with session(db_url) as s:
        review(s, value(s, "C", "fast"), "reject", ASSESSOR, "wrong")
        review(s, value(s, "A", "up"), "verify", ASSESSOR)
        from egov.models import Period

        period = s.exec(select(Period).where(Period.code == "2025")).one()
        data, flags = scoring_values(s, parse_framework(tiny_toml("exclude", "use")), period)
        assert sorted(zip(data["unit"], data["indicator"], strict=True)) == [("A", "up")]
        assert len(flags) == 5 and set(flags["rule"]) == {"exclude"}
        data, flags = scoring_values(s, parse_framework(tiny_toml("flag", "use")), period)
        assert len(data) == 5 and ("C", "fast") not in set(zip(data["unit"], data["indicator"], strict=True))
        assert sorted(flags["rule"]) == ["exclude"] + ["flag"] * 4


def test_the_rule_is_part_of_the_framework_and_its_hash() -> None:
    with pytest.raises(EgovError) as caught:
        parse_framework(tiny_toml("maybe"))
    assert "assessment.unverified: must be one of: use, flag, exclude" in caught.value.problems
    assert parse_framework(tiny_toml("flag")).content_hash != parse_framework(tiny_toml("use")).content_hash
    macau = parse_framework(Path("indicators/frameworks/macau.toml").read_text(encoding="utf-8"))
    assert (macau.value_rule("submitted"), macau.value_rule("disputed"), macau.value_rule("rejected")) == (
        "flag",
        "exclude",
        "exclude",
    )


# --- the values API ------------------------------------------------------------------------------------
def test_the_api_takes_a_departments_own_values_only_while_collecting(
    db_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from egov.auth import create_key
    from tests.helpers.register import make_client

    world(db_url)
    with session(db_url) as s:
        key, _ = create_key(s, "department", "D1", "D1")
        assessor, _ = create_key(s, "assessor")
    client = make_client(monkeypatch, database_url=db_url, evidence_dir=str(tmp_path / "ev"))
    hdr = {"Authorization": f"Bearer {key}"}

    def post(period: str, obj: str, v: float = 92.0, who: dict[str, str] = hdr) -> Any:
        body = {"period": period, "values": [{"object": obj, "indicator": "up", "value": v}]}
        return client.post("/api/v1/values", json=body, headers=who)

    r = post("2025", "A")
    assert r.status_code == 200, r.text
    new_id = r.json()["ids"][0]
    assert post("2025", "C").status_code == 403  # another department's object
    assert post("2025", "A", who={"Authorization": f"Bearer {assessor}"}).status_code == 403
    assert post("2025", "A", 150.0).status_code == 422  # out of range
    listed = client.get("/api/v1/values?period=2025", headers=hdr).json()
    assert {v["object"] for v in listed} == {"A", "B"} and {v["status"] for v in listed} == {"submitted"}
    pdf = base64.b64encode(b"%PDF-1.7 x").decode()
    r = client.post(
        f"/api/v1/values/{new_id}/evidence",
        json={"file": {"name": "a.pdf", "content_base64": pdf}},
        headers=hdr,
    )
    assert r.status_code == 200 and r.json()["kind"] == "file", r.text
    with session(db_url) as s:
        other = value(s, "C", "up").id
        open_cycle(s, "2026", Actor("t", "lead"))
        advance(s, "2026", "verifying", ASSESSOR, "in")
    r = client.post(f"/api/v1/values/{other}/evidence", json={"reference": "x"}, headers=hdr)
    assert r.status_code == 403
    assert post("2026", "A").status_code == 422 and "collecting" in post("2026", "A").text
    client.close()


def test_submission_is_refused_in_a_published_period(db_url: str) -> None:
    from egov.imports.submission import submit_values

    world(db_url)
    fw = parse_framework(tiny_toml())
    item = [{"object": "A", "indicator": "up", "value": 93.0}]
    with session(db_url) as s:
        submit_values(s, "2025", item, D1, fw)  # no cycle: as today
        open_cycle(s, "2025", Actor("t", "lead"))
        submit_values(s, "2025", item, D1, fw)  # collecting
        from egov.models import AssessmentCycle

        cycle = s.exec(select(AssessmentCycle)).one()
        cycle.state = "final"
        s.add(cycle)
        s.flush()
        publish(s, "2025", Actor("t", "lead"), "ok")
        with pytest.raises(EgovError, match="published"):
            submit_values(s, "2025", item, D1, fw)


# --- the flags are visible ----------------------------------------------------------------------------
def test_runs_show_and_the_reports_list_the_flagged_values(
    db_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, egov: Any
) -> None:
    """Under `unverified = "flag"` every submitted value is scored and flagged: `egov runs show`
    prints the count and the values; the department report shows its own department's only."""
    from egov.store import get_run
    from reports.department import department_report, render_department_report
    from tests.helpers.demo import point_settings

    world(db_url)
    with session(db_url) as s:
        for obj, ind in VALUES:
            if obj != "A":
                review(s, value(s, obj, ind), "verify", ASSESSOR)
        review(s, value(s, "C", "fast"), "dispute", ASSESSOR, "unclear")
    used = scores(db_url, "flag", "exclude")
    assert used["flags"] == 3.0  # A's two submitted values flagged, C's disputed one left out
    point_settings(monkeypatch, db_url, tmp_path)
    r = egov(["runs", "show", "--lang", "en"])
    assert r.code == 0, r.err
    assert "2 value(s) used and flagged, 1 left out" in r.out
    assert "Submitted (unverified)" in r.out and "Disputed" in r.out and "left out (missing)" in r.out
    with session(db_url) as s:
        run = get_run(s, None)
        page = render_department_report(department_report(s, run, "D1"), "en")
        other = render_department_report(department_report(s, run, "D2"), "en")
    assert "Unverified or disputed values" in page and "2 value(s) used and flagged, 0 left out" in page
    assert "0 value(s) used and flagged, 1 left out" in other
    # the assessor's workbook lists them too, each with its unit, status and what the rule did
    r = egov(["report", "latest", "--out", tmp_path / "rep", "--lang", "en", "--mc", "0"])
    assert r.code == 0, r.err
    book = openpyxl.load_workbook(next((tmp_path / "rep").glob("*.xlsx")))
    sheet = book["Unverified or disputed"]
    rows = [[c.value for c in row] for row in sheet.iter_rows()]
    assert rows[0] == ["Department", "Object", "Indicator", "Value", "Unit", "Status", "Rule"]
    assert sorted(r[1] for r in rows[1:4]) == ["A", "A", "C"]
    assert {r[5] for r in rows[1:4]} == {"Submitted (unverified)", "Disputed"}
    assert rows[-1][0] == "2 value(s) used and flagged, 1 left out"
    data = book["Indicator data"]
    status = [c.value for c in data[1]].index("Status")
    assert {row[status].value for row in data.iter_rows(min_row=2)} >= {"Verified", "Disputed"}


def test_the_command_line_walks_values_evidence_and_the_sample_audit(
    db_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, egov: Any
) -> None:
    from tests.helpers.demo import point_settings

    world(db_url)
    point_settings(monkeypatch, db_url, tmp_path)
    monkeypatch.setenv("EGOV_EVIDENCE_DIR", str(tmp_path / "ev"))
    r = egov(["values", "verify", "2025", "--object", "A", "--indicator", "up", "--lang", "en"])
    assert r.code == 1 and "--as ROLE or EGOV_ROLE" in r.err  # a decision needs the declared role
    en = ["--as", "assessor", "--lang", "en"]
    r = egov(["values", "verify", "2025", "--object", "A", "--indicator", "up", *en])
    assert r.code == 0 and "Verified" in r.out, r.err
    with session(db_url) as s:
        b = int(value(s, "B", "up").id or 0)
    r = egov(["values", "adjust", "--id", b, "--value", "94", "--reason", "log", *en])
    assert r.code == 0 and "adjusted to 94" in r.out and "the original is kept" in r.out, r.err
    (tmp_path / "log.txt").write_text("uptime 99.9\n", encoding="utf-8")
    r = egov(["values", "evidence", "add", "--id", b, "--file", tmp_path / "log.txt", *en])
    assert r.code == 0 and "attached to 1 value(s)" in r.out, r.err
    r = egov(["values", "evidence", "list", "--id", b, "--lang", "en"])
    assert r.code == 0 and "log.txt" in r.out
    r = egov(["values", "list", "2025", "--status", "adjusted", "--lang", "en"])
    assert r.code == 0 and "Adjusted by the assessor" in r.out and " % " in r.out, r.out
    r = egov(["audit", "sample", "2025", "--n", "2", "--seed", "3", *en])
    assert r.code == 0 and "2 of 4 submitted values drawn (seed 3)" in r.out, r.err
    r = egov(["audit", "record", "1", "--outcome", "confirmed", "--note", "ok", *en])
    assert r.code == 0, r.err
    r = egov(["audit", "show", "2025", "--lang", "en"])
    assert "2 drawn: 1 confirmed, 0 corrected, 0 not checkable, 1 pending; correction rate 0%" in r.out
