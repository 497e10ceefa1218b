"""The department review's objections (egov.objections, egov.review, `egov objections`, the
/api/v1/objections API; issue 16 point 5), on a small world: three departments, six objects,
the built-in framework, one scored draft in review. Raising only in review, on or before the
deadline and only on the department's own values and results; another department neither sees
nor answers; an accepted value supersedes the old one and a new run scores it; a rejected one
changes nothing; the final run records the diff draft → final and the objection log; every
raise and answer in the audit trail. On SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from sqlmodel import Session, col, select

from egov.cycle import Actor, advance, open_cycle
from egov.db import init_db, session_scope
from egov.errors import EgovError
from egov.models import AssessedObject, AuditLog, EvaluationRun, MetricValue
from egov.models_objections import ReviewRecord
from egov.objections import (
    Caller,
    Conflict,
    NotFound,
    Refused,
    answer_objection,
    get_objection,
    list_objections,
    raise_objection,
)
from egov.review import draft_view, finalise, record_review, review_summary
from egov.scoring import score_period
from egov.settings import reset_settings
from egov.store import (
    add_metric_values,
    latest_framework,
    load_register,
    metric_history,
    period_for_import,
    store_framework,
)
from egov.values import reviews_of
from indicators.framework import builtin_path, load_framework
from tests.helpers.cli import EgovCli

REGISTER = {
    "departments": {"D1": {"name": {"en": "D1"}}, "D2": {"name": {"en": "D2"}}, "D3": {"name": {"en": "D3"}}},
    "objects": {
        "APP1": {"name": {"en": "A1"}, "department": "D1", "kind": "application"},
        "APP2": {"name": {"en": "A2"}, "department": "D2", "kind": "application"},
        "APP3": {"name": {"en": "A3"}, "department": "D3", "kind": "application"},
    },
}
VALUES = [
    ("APP1", "app_takeup", 40.0),
    ("APP2", "app_takeup", 60.0),
    ("APP3", "app_takeup", 70.0),
    ("APP1", "app_wcag", 90.0),
    ("APP2", "app_wcag", 70.0),
    ("APP3", "app_wcag", 55.0),
]
OPENED = date(2025, 12, 1)  # a Monday; 10 Macau working days: the deadline is Tuesday 16 December
DEADLINE = date(2025, 12, 16)
D1, D2 = Caller("test:D1", "department", "D1"), Caller("test:D2", "department", "D2")
ASSESSOR = Caller("test:assessor", "assessor")
ACTOR = Actor("test:assessor", "assessor")


def _score(s: Session) -> str:
    row, fw = latest_framework(s)
    return score_period(s, row, fw, period_for_import(s, "2025")).run.run_key


def build(url: str, state: str = "review") -> str:
    """The world, its cycle moved to `state` (up to review, opened on OPENED); the draft's key."""
    init_db(url)
    path = builtin_path("macau")
    with session_scope(url) as s:
        store_framework(s, load_framework(path), path.read_text(encoding="utf-8"))
        load_register(s, REGISTER)
        values = [{"object": o, "indicator": i, "value": v} for o, i, v in VALUES]
        add_metric_values(s, period_for_import(s, "2025"), values, source_file="collected.xlsx")
        run = _score(s)
        open_cycle(s, "2025", Actor("test:lead", "lead"), "2025")
        moves = ("verifying", "draft", "review")
        for to in moves[: moves.index(state) + 1]:
            advance(s, "2025", to, ACTOR, f"to {to}", run if to == "draft" else None, OPENED)
    return run


@pytest.fixture
def world(db_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[str]:
    monkeypatch.setenv("EGOV_DATABASE_URL", db_url)
    monkeypatch.setenv("EGOV_OPERATOR", "op")
    monkeypatch.chdir(tmp_path)
    reset_settings()
    build(db_url)
    yield db_url
    reset_settings()


def _value(s: Session, code: str = "APP1", indicator: str = "app_takeup") -> float:
    history = metric_history(s, code, indicator, "2025")
    return float(history[history["current"]]["value"].iloc[0])


def _current_id(s: Session, code: str, indicator: str) -> int:
    row = s.exec(
        select(MetricValue)
        .join(AssessedObject, col(AssessedObject.id) == col(MetricValue.object_id))
        .where(
            col(AssessedObject.code) == code,
            col(MetricValue.indicator) == indicator,
            col(MetricValue.superseded_at).is_(None),
        )
    ).one()
    assert row.id is not None
    return row.id


def test_raise_only_in_review_and_on_or_before_the_deadline(db_url: str) -> None:
    build(db_url, "draft")
    with session_scope(db_url) as s:
        with pytest.raises(
            Conflict, match="is draft: objections are raised only during the department review"
        ):
            raise_objection(
                s, "2025", D1, "too low", object_code="APP1", indicator="app_takeup", today=OPENED
            )
        with pytest.raises(Conflict, match="no assessment cycle"):
            raise_objection(s, "2024", D1, "x", object_code="APP1", indicator="app_takeup", today=OPENED)
        advance(s, "2025", "review", ACTOR, "to the departments", today=OPENED)
    with session_scope(db_url) as s:
        later = date(2025, 12, 17)
        with pytest.raises(Conflict, match="ended on 2025-12-16"):
            raise_objection(s, "2025", D1, "late", object_code="APP1", indicator="app_takeup", today=later)
        view = raise_objection(
            s, "2025", D1, "too low", object_code="APP1", indicator="app_takeup", today=DEADLINE
        )
        assert (view.state, view.department, view.what, view.draft_value, view.unit) == (
            "open",
            "D1",
            "APP1 · app_takeup",
            40.0,
            "%",
        )


def test_a_department_objects_only_to_its_own_values_and_results(world: str) -> None:
    with session_scope(world) as s:
        with pytest.raises(EgovError, match="D1 has no object 'APP2'"):
            raise_objection(s, "2025", D1, "theirs", object_code="APP2", indicator="app_takeup", today=OPENED)
        with pytest.raises(EgovError, match="no indicator 'nope'"):
            raise_objection(s, "2025", D1, "x", object_code="APP1", indicator="nope", today=OPENED)
        with pytest.raises(EgovError, match="text of the objection"):
            raise_objection(s, "2025", D1, "  ", object_code="APP1", indicator="app_takeup", today=OPENED)
        with pytest.raises(EgovError, match="no result of D1 at node 'nope'"):
            raise_objection(s, "2025", D1, "x", node="nope", today=OPENED)
        with pytest.raises(Refused, match="raised by a department"):
            raise_objection(
                s, "2025", ASSESSOR, "x", object_code="APP1", indicator="app_takeup", today=OPENED
            )
        result = raise_objection(s, "2025", D1, "tied", node="application", aspect="rank", today=OPENED)
        assert (result.target, result.what, result.draft_value) == ("result", "application · rank", 1.0)
        view = draft_view(s, "2025", D1)
        assert view.results[0].node == "egov_index" and {u for u, _i, _v in view.values} == {"APP1"}
        with pytest.raises(Refused):
            draft_view(s, "2025", ASSESSOR)


def test_another_department_neither_sees_nor_answers(world: str) -> None:
    with session_scope(world) as s:
        mine = raise_objection(
            s, "2025", D1, "too low", object_code="APP1", indicator="app_takeup", today=OPENED
        )
        raise_objection(s, "2025", D2, "ours", object_code="APP2", indicator="app_wcag", today=OPENED)
        assert [v.department for v in list_objections(s, D2, "2025")] == ["D2"]
        assert [v.department for v in list_objections(s, ASSESSOR, "2025")] == ["D1", "D2"]
        assert list_objections(s, Caller("lead", "lead"), "2025") == []  # the lead: from the final on
        with pytest.raises(NotFound):
            get_objection(s, mine.id, D2)
        with pytest.raises(NotFound):
            answer_objection(s, mine.id, D2, True, "mine now", 99.0)
        with pytest.raises(NotFound):
            answer_objection(s, mine.id, D1, True, "I accept myself", 99.0)
        with pytest.raises(Refused, match="by the assessor"):
            answer_objection(s, mine.id, Caller("lead", "lead"), True, "x", 99.0)
        assert get_objection(s, mine.id, D1).state == "open"


def test_accept_supersedes_the_value_reject_keeps_it_and_the_final_records_the_diff(world: str) -> None:
    with session_scope(world) as s:
        up = raise_objection(
            s, "2025", D1, "too low", object_code="APP1", indicator="app_takeup", today=OPENED
        )
        no = raise_objection(
            s,
            "2025",
            D1,
            "wcag",
            object_code="APP1",
            indicator="app_wcag",
            evidence="https://x.test/a",
            today=OPENED,
        )
        original = _current_id(s, "APP1", "app_takeup")
        with pytest.raises(EgovError, match="gives the new value"):
            answer_objection(s, up.id, ASSESSOR, True, "yes")
        with pytest.raises(EgovError, match="outside the valid range"):
            answer_objection(s, up.id, ASSESSOR, True, "yes", 150.0)
        with pytest.raises(EgovError, match="no --value with --reject"):
            answer_objection(s, no.id, ASSESSOR, False, "no", 1.0)
        accepted = answer_objection(s, up.id, ASSESSOR, True, "counter transactions counted", 95.0)
        rejected = answer_objection(s, no.id, ASSESSOR, False, "the audit stands")
        assert (accepted.state, accepted.new_value, rejected.state) == ("accepted", 95.0, "rejected")
        with pytest.raises(Conflict, match="accepted already"):
            answer_objection(s, up.id, ASSESSOR, False, "again")
        history = metric_history(s, "APP1", "app_takeup", "2025")
        assert list(history["value"]) == [40.0, 95.0]  # the original kept, superseded
        assert list(history["source_file"]) == ["collected.xlsx", f"adjusted:{original}"]
        adjusted = s.exec(
            select(MetricValue).where(col(MetricValue.id) == _current_id(s, "APP1", "app_takeup"))
        ).one()
        assert (adjusted.status, adjusted.replaces_id) == ("adjusted", original)
        assert [(r.action, r.to_status, r.new_value_id, r.reason) for r in reviews_of(s, original)] == [
            ("adjust", "adjusted", adjusted.id, f"objection {up.id} accepted: counter transactions counted")
        ]
        assert _value(s, "APP1", "app_wcag") == 90.0  # rejected: unchanged
        with pytest.raises(Conflict, match="review is recorded with the final run"):
            record_review(s, "2025")
        final = _score(s)
        finalise(s, "2025", ACTOR, "objections answered", final)
    with session_scope(world) as s:
        record = s.exec(select(ReviewRecord)).one()
        assert record.diff["final_run"] == final
        assert record.diff["same_results"] is False
        assert [(i["unit"], i["indicator"], i["a"], i["b"]) for i in record.diff["inputs"]] == [
            ("APP1", "app_takeup", 40.0, 95.0)
        ]
        assert {r["department"] for r in record.diff["results"]} >= {"D1"}
        assert [(e["id"], e["state"]) for e in record.log] == [(up.id, "accepted"), (no.id, "rejected")]
        summary = review_summary(s, "2025")
        assert summary.counts == {"open": 0, "accepted": 1, "rejected": 1}
        assert [(i.department, i.what, i.state, i.reason) for i in summary.items] == [
            ("D1", "APP1 · app_takeup", "accepted", "counter transactions counted"),
            ("D1", "APP1 · app_wcag", "rejected", "the audit stands"),
        ]
        assert summary.inputs_changed == 1 and summary.results_changed > 0
        assert "test:" not in repr(summary)  # no one's name in what is published
        with pytest.raises(Conflict, match="is final: objections are answered during the review"):
            answer_objection(s, no.id, ASSESSOR, True, "late", 1.0)
        details = s.exec(select(AuditLog.detail).where(col(AuditLog.action) == "objection.accept")).all()
        assert details == ["2025 value APP1 · app_takeup reason=counter transactions counted value=95.0"]
        actions = s.exec(select(AuditLog.action).where(col(AuditLog.action).startswith("objection."))).all()
        assert sorted(actions) == sorted(
            ["objection.raise", "objection.raise", "objection.accept", "objection.reject", "objection.record"]
        )


def test_final_refused_while_open_and_recorded_when_moved_by_the_cycle(world: str) -> None:
    with session_scope(world) as s:
        raised = raise_objection(
            s, "2025", D1, "too low", object_code="APP1", indicator="app_takeup", today=OPENED
        )
        with pytest.raises(Conflict, match=f"still open in 2025: {raised.id}"):
            finalise(s, "2025", ACTOR, "close")
        advance(s, "2025", "final", ACTOR, "closed by egov cycle")  # the draft stays the final
    with session_scope(world) as s:
        summary = review_summary(s, "2025")  # recorded on first reading
        assert summary.counts["open"] == 1 and summary.same_results and summary.inputs_changed == 0
        assert summary.draft_run == summary.final_run
        assert s.exec(select(ReviewRecord)).one().log[0]["text"] == "too low"
        assert [v.id for v in list_objections(s, Caller("lead", "lead"), "2025")] == [raised.id]


def test_the_api_and_the_cli(world: str, monkeypatch: pytest.MonkeyPatch, egov: EgovCli) -> None:
    from fastapi.testclient import TestClient

    from egov.app import create_app
    from egov.auth import create_key

    with session_scope(world) as s:
        keys = {who: create_key(s, "department", who)[0] for who in ("D1", "D2")}
        keys["assessor"] = create_key(s, "assessor")[0]
    client = TestClient(create_app())

    def auth(who: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {keys[who]}"}

    body = {"period": "2025", "object": "APP1", "indicator": "app_takeup", "text": "too low"}
    monkeypatch.setattr("egov.objections.local_day", lambda: OPENED)
    r = client.post("/api/v1/objections", json=body, headers=auth("D1"))
    assert r.status_code == 200, r.text
    oid = r.json()["id"]
    assert client.post("/api/v1/objections", json=body, headers=auth("assessor")).status_code == 403
    assert (
        client.post("/api/v1/objections", json={**body, "object": "APP2"}, headers=auth("D1")).status_code
        == 422
    )
    assert client.get("/api/v1/objections", headers=auth("D2")).json() == []
    assert [
        o["id"] for o in client.get("/api/v1/objections?period=2025", headers=auth("assessor")).json()
    ] == [oid]
    answer = {"decision": "accept", "value": 80, "reason": "ok"}
    assert client.post(f"/api/v1/objections/{oid}/answer", json=answer, headers=auth("D2")).status_code == 403
    assert (
        client.post("/api/v1/objections/999/answer", json=answer, headers=auth("assessor")).status_code == 404
    )
    r = client.post(f"/api/v1/objections/{oid}/answer", json=answer, headers=auth("assessor"))
    assert (r.status_code, r.json()["state"], r.json()["new_value"]) == (200, "accepted", 80.0)
    assert (
        client.post(f"/api/v1/objections/{oid}/answer", json=answer, headers=auth("assessor")).status_code
        == 409
    )
    monkeypatch.setattr("egov.objections.local_day", lambda: date(2025, 12, 17))
    late = client.post("/api/v1/objections", json=body, headers=auth("D1"))
    assert late.status_code == 409 and "deadline" in late.json()["detail"]
    # the command line: an operator acting for D2, the assessor, the final and the summary
    run = egov  # the in-process `egov` command
    monkeypatch.setattr("egov.objections.local_day", lambda: OPENED)
    raised = run(["objections", "raise", "2025", "--as", "department", "--department", "D2", "--node", "application",
                  "--aspect", "rank", "--text", "rank", "--lang", "en"])  # fmt: skip
    assert raised.code == 0 and "application ·" in raised.out, raised.err
    draft = run(["objections", "draft", "2025", "--as", "department", "--department", "D2", "--lang", "en"])
    assert draft.code == 0 and "egov_index" in draft.out and "points (0–100)" in draft.out, draft.err
    listed = run(["objections", "list", "2025", "--state", "open", "--as", "assessor", "--lang", "en"])
    assert "D2" in listed.out and "D1" not in listed.out
    answered = run(
        ["objections", "answer", str(oid + 1), "--reject", "--reason", "as scored", "--as", "assessor"]
    )
    assert answered.code == 0, answered.err
    assert run(["objections", "answer", str(oid), "--reject", "--reason", "x", "--as", "lead"]).code == 1
    final = run(["objections", "final", "2025", "--reason", "done", "--as", "assessor", "--lang", "pt"])
    assert final.code == 0 and "Aceite" in final.out and "Não aceite" in final.out, final.err
    summary = run(["objections", "summary", "2025", "--lang", "zh-Hant"])
    assert "已接納" in summary.out and "不予接納" in summary.out and "as scored" in summary.out
    with session_scope(world) as s:
        assert s.exec(select(EvaluationRun)).all()  # the draft is the final here: nothing rescored


def test_egov_cycle_advance_to_final_closes_the_review_like_objections_final(
    world: str, egov: EgovCli
) -> None:
    with session_scope(world) as s:
        raised = raise_objection(
            s, "2025", D1, "too low", object_code="APP1", indicator="app_takeup", today=OPENED
        )
    moved = egov(["cycle", "advance", "2025", "--to", "final", "--reason", "done", "--as", "assessor"])
    assert moved.code == 1 and f"still open in 2025: {raised.id}" in moved.err
    answered = egov(
        ["objections", "answer", str(raised.id), "--reject", "--reason", "as scored", "--as", "assessor"]
    )
    assert answered.code == 0, answered.err
    moved = egov(["cycle", "advance", "2025", "--to", "final", "--reason", "done", "--as", "assessor"])
    assert moved.code == 0, moved.err
    with session_scope(world) as s:  # stored by the move itself, not on a later reading
        assert s.exec(select(ReviewRecord)).one().log[0]["state"] == "rejected"


def test_the_public_site_summarises_the_objections_of_a_published_run(world: str) -> None:
    from egov.cycle import publish
    from egov.models import EvaluationRun as Run
    from reports.public.data import objection_summary

    with session_scope(world) as s:
        raised = raise_objection(
            s, "2025", D1, "too low", object_code="APP1", indicator="app_takeup", today=OPENED
        )
        answer_objection(s, raised.id, ASSESSOR, False, "as scored")
        finalise(s, "2025", ACTOR, "closed")
        publish(s, "2025", Actor("test:lead", "lead"), "approved")
    with session_scope(world) as s:
        run = s.exec(select(Run)).one()
        rows = objection_summary(s, run)
        assert [(r.department, r.outcome, r.answer) for r in rows] == [("D1", "rejected", "as scored")]
        assert "too low" not in repr(rows)  # not the department's own text
