"""The assessment cycle (egov.cycle, `egov cycle`, issue 16): every move allowed to its owner
only, the append-only history, the review deadline in Macau working days, who reads which run
over HTTP, and a published period that can no longer change. On SQLite and PostgreSQL."""

from __future__ import annotations

import itertools
import re
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func
from sqlmodel import Session, col, select

from egov.cycle import STATES, TRANSITIONS, Actor, advance, cycle_status, open_cycle, publish, run_access
from egov.errors import EgovError
from egov.models import AssessmentCycle, AuditLog, CycleEvent, EvaluationRun, FrameworkVersion
from tests.helpers.cli import EgovCli
from tests.helpers.department_db import DemoDb, populate

ROLES = ("department", "assessor", "lead", "admin")
PATH = list(itertools.pairwise(STATES))  # collecting → verifying, …, final → published


def actor(role: str) -> Actor:
    return Actor(f"test:{role}", role)


def fake_run(s: Session, period: str) -> str:
    """A bare stored run of `period` (the moves name a run; they never read its results)."""
    from egov.store import period_for_import

    fw = FrameworkVersion(code="t", version="1", content_hash=f"h{period}", toml_text="")
    s.add(fw)
    p = period_for_import(s, period)
    s.flush()
    key = f"run{period}"
    s.add(
        EvaluationRun(
            run_key=key,
            framework_id=int(fw.id or 0),
            period_id=int(p.id or 0),
            inputs_hash="i",
            results_hash="r",
            software_version="t",
        )
    )
    s.flush()
    return key


def events(s: Session) -> list[tuple[str, str, str, str]]:
    rows = s.exec(select(CycleEvent).order_by(col(CycleEvent.id))).all()
    return [(e.role, e.from_state, e.to_state, e.reason) for e in rows]


def test_every_move_only_by_its_owner_and_only_one_step(db_url: str) -> None:
    from egov.db import init_db, session_scope

    init_db(db_url)
    with session_scope(db_url) as s:
        run = fake_run(s, "2025")
        for role in ("department", "assessor", "admin"):
            with pytest.raises(EgovError, match="lead's to do"):
                open_cycle(s, "2025", actor(role))
        open_cycle(s, "2025", actor("lead"), "programme 2025")
        with pytest.raises(EgovError, match="has a cycle already"):
            open_cycle(s, "2025", actor("lead"))
        for frm, to in PATH:
            owner = TRANSITIONS[(frm, to)]
            for role in ROLES:
                if role != owner:
                    with pytest.raises(EgovError, match=f"{owner}'s to do, not the {role}'s"):
                        advance(s, "2025", to, actor(role), "not mine", run if to == "draft" else None)
            for other in STATES:  # no skipping, no going back, no staying
                if other != to:
                    with pytest.raises(EgovError, match="cannot move"):
                        advance(s, "2025", other, actor(owner), "skip", run if other == "draft" else None)
            assert s.exec(select(AssessmentCycle)).one().state == frm  # refusals change nothing
            advance(s, "2025", to, actor(owner), f"to {to}", run if to == "draft" else None)
            assert s.exec(select(AssessmentCycle)).one().state == to
        with pytest.raises(EgovError, match="none: it is published"):
            advance(s, "2025", "final", actor("assessor"), "reopen")
        # only the allowed moves were recorded, in order, with their roles and reasons
        assert events(s) == [
            ("lead", "", "collecting", "programme 2025"),
            *[(TRANSITIONS[(f, t)], f, t, f"to {t}") for f, t in PATH],
        ]


def test_moves_need_a_reason_and_the_draft_a_run_of_its_period(db_url: str) -> None:
    from egov.db import init_db, session_scope

    init_db(db_url)
    with session_scope(db_url) as s:
        run, other = fake_run(s, "2025"), fake_run(s, "2024")
        open_cycle(s, "2025", actor("lead"))
        with pytest.raises(EgovError, match="reason"):
            advance(s, "2025", "verifying", actor("assessor"), "  ")
        with pytest.raises(EgovError, match="takes none"):
            advance(s, "2025", "verifying", actor("assessor"), "ok", run)
        advance(s, "2025", "verifying", actor("assessor"), "ok")
        with pytest.raises(EgovError, match="--run RUN"):
            advance(s, "2025", "draft", actor("assessor"), "draft")
        with pytest.raises(EgovError, match="not a run of period 2025"):
            advance(s, "2025", "draft", actor("assessor"), "draft", other)
        with pytest.raises(EgovError, match="state 'drafted'"):
            advance(s, "2025", "drafted", actor("assessor"), "draft", run)
        advance(s, "2025", "draft", actor("assessor"), "draft", run)
        status = cycle_status(s, "2025")
        assert (status.state, status.run_key, status.draft_run_key) == ("draft", run, run)
        assert status.next_moves == [("review", "assessor")]
        with pytest.raises(EgovError, match="no assessment cycle"):
            advance(s, "2024", "verifying", actor("assessor"), "none")


def test_the_history_is_append_only_and_in_the_audit_trail(db_url: str) -> None:
    """Every move appends; nothing in the project updates or deletes an event."""
    from egov.db import init_db, session_scope

    init_db(db_url)
    with session_scope(db_url) as s:
        run = fake_run(s, "2025")
        open_cycle(s, "2025", actor("lead"), "opened")
        for frm, to in PATH:
            advance(s, "2025", to, actor(TRANSITIONS[(frm, to)]), f"why {to}", run if to == "draft" else None)
    with session_scope(db_url) as s:
        status = cycle_status(s, "2025")
        assert [(e.from_state, e.to_state) for e in status.events] == [("", "collecting"), *PATH]
        assert all(e.actor.startswith("test:") for e in status.events)
        assert [e.run_key for e in status.events] == [None, None, run, run, run, run]
        assert status.events[-1].reason == "why published" and status.events[-1].role == "lead"
        assert [e.at for e in status.events] == sorted(e.at for e in status.events)
        trail = s.exec(
            select(AuditLog.action).where(col(AuditLog.target_type) == "cycle").order_by(col(AuditLog.id))
        ).all()
        assert list(trail) == [f"cycle.{state}" for state in STATES]
    # no code path changes or removes an event; the one exception is the demo's clearing of
    # its own cycles before it is built again (egov.demo_cycle; the test that a cycle it did not
    # open keeps its history: tests/egov/test_demo_realism.py)
    root = Path(__file__).resolve().parents[2]
    pattern = r"(update|delete)\(CycleEvent|(UPDATE|DELETE FROM)\s+cycle_event"
    for path in [*root.glob("egov/**/*.py"), *root.glob("reports/**/*.py"), *root.glob("surveys/**/*.py")]:
        found = re.findall(pattern, path.read_text(encoding="utf-8"))
        if path == root / "egov" / "demo_cycle.py":
            assert len(found) == 1, path  # delete(CycleEvent) of the demo's own cycles, once
        else:
            assert not found, path


def test_review_deadline_in_macau_working_days(use_db: str, egov: EgovCli) -> None:
    """Opened on Monday 1 December 2025 with 10 working days: Monday 8 December (Immaculate
    Conception, a public holiday of Macau) does not count, so the window closes on Tuesday 16
    December, not Monday 15 (surveys/data/macau_holidays.toml)."""
    from egov.db import init_db, session_scope

    init_db(use_db)
    with session_scope(use_db) as s:
        run = fake_run(s, "2025")
        open_cycle(s, "2025", actor("lead"), "", review_days=10)
        advance(s, "2025", "verifying", actor("assessor"), "in")
        advance(s, "2025", "draft", actor("assessor"), "drafted", run)
        advance(s, "2025", "review", actor("assessor"), "to the departments", today=date(2025, 12, 1))
        status = cycle_status(s, "2025")
    assert (status.review_opened, status.review_deadline) == (date(2025, 12, 1), date(2025, 12, 16))
    r = egov(["cycle", "status", "2025", "--lang", "en"])
    assert r.code == 0, r.err
    assert "10 Macau working days: from 2025-12-01 to 2025-12-16" in r.out
    assert "Department review" in r.out and "Final (by the Assessor)" in r.out


def test_cli_walks_a_cycle_as_the_declared_role(
    use_db: str, egov: EgovCli, monkeypatch: pytest.MonkeyPatch
) -> None:
    from egov.db import init_db, session_scope
    from egov.settings import reset_settings

    init_db(use_db)
    with session_scope(use_db) as s:
        run = fake_run(s, "2025")
    no_role = egov(["cycle", "open", "2025"])
    assert no_role.code == 1 and "act as lead or assessor" in no_role.err
    assert egov(["cycle", "open", "2025", "--as", "department"]).code == 1
    opened = egov(["cycle", "open", "2025", "--as", "lead", "--lang", "pt"])
    assert opened.code == 0 and "Ciclo 2025 aberto: Recolha" in opened.out
    monkeypatch.setenv("EGOV_ROLE", "assessor")  # the setting, when --as is not given
    reset_settings()
    steps = [["--to", "verifying"], ["--to", "draft", "--run", run], ["--to", "review"], ["--to", "final"]]
    for step in steps:
        r = egov(["cycle", "advance", "2025", *step, "--reason", "checked", "--lang", "en"])
        assert r.code == 0, r.err
    assert "Department review → Final" in r.out
    refused = egov(["cycle", "publish", "2025", "--reason", "mine"])
    assert refused.code == 1 and "lead's to do, not the assessor's" in refused.err
    done = egov(["cycle", "publish", "2025", "--reason", "approved", "--as", "lead"])
    assert done.code == 0 and "已公佈" in done.out  # EGOV_LANG's default: zh-Hant
    shown = egov(["cycle", "status", "--lang", "en"])
    assert shown.code == 0 and "Published" in shown.out and "none (published)" in shown.out
    history = egov(["cycle", "status", "2025", "--lang", "en"])
    assert history.out.count("cli:pytest") == 6 and "approved" in history.out


def test_a_published_period_cannot_change(use_db: str, egov: EgovCli, tmp_path: Path) -> None:
    """Values are imported and the period scored during the cycle; once published, a new import
    or a new score of the period is refused and the published run is the cycle's run still."""
    from egov.db import session_scope
    from tests.helpers.register import setup_register

    setup_register(use_db)
    csv = tmp_path / "values.csv"
    csv.write_text("object,indicator,value\nGOV_CLOUD,infra_uptime,99.9\nONE_ACCOUNT,app_takeup,61\n")
    assert egov(["cycle", "open", "2025", "--as", "lead"]).code == 0
    assert egov(["import", "metrics", csv, "--period", "2025"]).code == 0
    assert egov(["score", "--period", "2025"]).code == 0
    with session_scope(use_db) as s:
        key = s.exec(select(EvaluationRun.run_key)).one()
    for step in (["verifying"], ["draft", "--run", key], ["review"], ["final"]):
        r = egov(
            ["cycle", "advance", "2025", "--to", step[0], *step[1:], "--reason", "r", "--as", "assessor"]
        )
        assert r.code == 0, r.err
    assert egov(["cycle", "publish", "2025", "--reason", "approved", "--as", "lead"]).code == 0
    score = egov(["score", "--period", "2025"])
    assert score.code == 1 and "2025 is published" in score.err
    again = egov(["import", "metrics", csv, "--period", "2025"])
    assert again.code == 1 and "2025 is published" in again.err
    with session_scope(use_db) as s:
        assert s.exec(select(func.count()).select_from(EvaluationRun)).one() == 1
        assert cycle_status(s, "2025").run_key == key


# --- who reads which run over HTTP ----------------------------------------------------------------
def _get(client: Any, db: DemoDb, who: str, url: str) -> int:
    r = client.get(url, headers={"Authorization": f"Bearer {db.keys[who]}"})
    return int(r.status_code)


def _listed(client: Any, db: DemoDb, who: str) -> set[str]:
    r = client.get("/reports/?lang=en", headers={"Authorization": f"Bearer {db.keys[who]}"})
    assert r.status_code == 200
    return {period for period, key in db.runs.items() if key in r.text}


def _move(url: str, period: str, to: str, run: str | None = None) -> None:
    from egov.db import session_scope

    with session_scope(url) as s:
        who = "lead" if to in ("collecting", "published") else "assessor"
        if to == "collecting":
            open_cycle(s, period, actor(who))
        elif to == "published":
            publish(s, period, actor(who), "approved")
        else:
            advance(s, period, to, actor(who), f"to {to}", run, today=date(2025, 12, 1))


@pytest.mark.slow
def test_department_keys_read_published_runs_and_their_own_draft_in_review(use_db: str) -> None:
    """The demo's cycles: 2022 published (its draft superseded by the final run), 2023 in
    department review. A department key reads the published run whole and, of the 2023 draft,
    its own report only (no ranking, no other department); the lead reads the published run
    only; the superseded draft is the assessor's. 2023 moved to final: the lead's to read, no
    longer the departments'; published: everyone's (the ranking too), and a department's report
    compares it with the published 2022 final. Without any cycle (the demo's removed) every key
    reads every run, as before cycles existed."""
    from fastapi.testclient import TestClient

    from egov.app import create_app
    from egov.auth import authenticate
    from egov.db import session_scope
    from egov.demo_cycle import clear_demo_cycles

    db = populate(DemoDb(Path("unused.db")), use_db, ratings_per_period=600)  # access only: few ratings
    run, final2022 = db.runs["2023"], db.runs["2022"]
    with session_scope(use_db) as s:
        draft2022 = cycle_status(s, "2022").draft_run_key
    assert draft2022 and draft2022 != final2022
    safp, dsat = f"/reports/{run}/departments/SAFP?lang=en", f"/reports/{run}/departments/DSAT?lang=en"
    ranking, latest = f"/reports/{run}/ranking?lang=en", "/reports/latest/departments/SAFP?lang=en"

    def listing(who: str) -> str:
        return str(c.get("/reports/?lang=en", headers={"Authorization": f"Bearer {db.keys[who]}"}).text)

    with TestClient(create_app()) as c:
        assert _listed(c, db, "department") == {"2022", "2023"} and _listed(c, db, "lead") == {"2022"}
        assert _listed(c, db, "assessor") == {"2022", "2023"} and draft2022 in listing("assessor")
        assert draft2022 not in listing("department") and draft2022 not in listing("lead")
        assert _get(c, db, "department", f"/reports/{final2022}/ranking?lang=en") == 200
        assert _get(c, db, "department", f"/reports/{draft2022}/ranking?lang=en") == 404
        assert _get(c, db, "department", f"/reports/{draft2022}/departments/SAFP?lang=en") == 404
        assert _get(c, db, "lead", f"/reports/{draft2022}/ranking?lang=en") == 404
        page = c.get(safp, headers={"Authorization": f"Bearer {db.keys['department']}"})
        assert page.status_code == 200 and f"/reports/{run}/ranking" not in page.text
        assert _get(c, db, "department", dsat) == 403  # another department's draft
        assert _get(c, db, "department", ranking) == 404  # every department's draft
        assert _get(c, db, "other_department", safp) == 403
        assert _get(c, db, "lead", ranking) == 404 and _get(c, db, "lead", safp) == 404
        assert "2023 · Department review" in listing(
            "department"
        ) and f"/reports/{run}/ranking" not in listing("department")
        _move(use_db, "2023", "final")
        assert _listed(c, db, "department") == {"2022"} and _listed(c, db, "lead") == {"2022", "2023"}
        assert _get(c, db, "department", safp) == 404
        _move(use_db, "2023", "published")
        assert _listed(c, db, "department") == {"2022", "2023"}
        assert _get(c, db, "department", ranking) == 200
        report = c.get(latest, headers={"Authorization": f"Bearer {db.keys['department']}"})
        # compared with the published 2022 final run, never with its superseded draft
        assert report.status_code == 200 and run in report.text and final2022 in report.text
        assert draft2022 not in report.text
        assert _get(c, db, "department", dsat) == 403 and _get(c, db, "lead", ranking) == 200
        assert "2023 · Published" in listing("lead")
        with session_scope(use_db) as s:
            principal = authenticate(s, db.keys["department"])
            assert principal is not None
            assert run_access(s, principal).may_read(None) is False  # outside a cycle, once cycles exist
            clear_demo_cycles(s)
        for who in ("department", "lead"):
            assert _listed(c, db, who) == {"2022", "2023"} and draft2022 in listing(who)
