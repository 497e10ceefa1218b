"""The working-day calendar (issue 15): the compensatory rest days (補假) of 2022–2027 are days
off with a type and a source (2027 provisional), `egov calendar show/add/remove/import`, and
case deadlines counted by the corrected calendar with the days an administrator added — on
every path that opens a case (the DBAPI fast path, the general path), SQLite and PostgreSQL.

The dates below are the issue's list (from the published government tables and the rule of
ETAPM art. 79(4)), written out here independently of the TOML file."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from tests.helpers.cli import EgovCli
from tests.helpers.register import Env, fix_service_clock

COMPENSATORY = {
    2022: ("01-03", "04-18", "05-02", "05-09", "09-12", "10-03", "10-05", "12-26", "12-27"),
    2023: ("01-02", "01-25", "04-10", "10-03", "10-04", "12-26"),
    2024: ("02-13", "02-14", "04-01", "11-04", "12-09", "12-23"),
    2025: ("04-21", "06-02", "11-03", "12-22", "12-23"),
    2026: ("04-06", "04-07", "05-25", "09-28", "10-19", "12-21"),
    2027: ("02-09", "02-10", "03-29", "05-03", "10-04", "12-27"),
}
ALL_COMPENSATORY = [date.fromisoformat(f"{y}-{md}") for y, mds in COMPENSATORY.items() for md in mds]
TOML = Path(__file__).resolve().parents[2] / "surveys" / "data" / "macau_holidays.toml"


# --- the built-in table --------------------------------------------------------------------------
@pytest.mark.parametrize("day", ALL_COMPENSATORY, ids=str)
def test_every_compensatory_day_is_a_day_off_with_type_and_source(day: date) -> None:
    from surveys.calendar import load_calendar

    cal = load_calendar()
    entry = cal.entries[day]
    assert entry.kind == "compensatory_day"
    assert entry.source.strip()
    assert not cal.is_working_day(day)


def test_compensatory_days_are_exactly_the_published_ones_and_2027_is_provisional() -> None:
    from surveys.calendar import load_calendar

    cal = load_calendar()
    listed = sorted(d for d, e in cal.entries.items() if e.kind == "compensatory_day")
    assert listed == sorted(ALL_COMPENSATORY)
    assert {e.status for e in cal.year(2027)} == {"provisional"}
    assert all("provisional" in e.source for e in cal.year(2027) if e.kind == "compensatory_day")
    assert cal.entries[date(2023, 10, 3)].status == "unconfirmed"
    assert cal.entries[date(2023, 10, 4)].status == "published"
    assert "gov.mo 2026" in cal.entries[date(2026, 4, 6)].source
    every = [e for y in range(2022, 2028) for e in cal.year(y)]
    assert all(e.kind in ("public_holiday", "compensatory_day") and e.source for e in every)


def test_header_names_the_legal_basis_and_the_half_day_policy() -> None:
    header = TOML.read_text(encoding="utf-8").split("covered_years", 1)[0]
    assert "第60/2000號行政命令" in header and "Ordem Executiva n.º 60/2000" in header
    assert "Regulamento Administrativo n.º 60/2000" not in header
    assert "ETAPM art. 79(4)" in header
    assert "COUNTS AS A WORKING DAY" in header


def test_half_day_exemption_counts_as_a_working_day() -> None:
    from surveys.calendar import CalendarEntry, load_calendar

    cal = load_calendar()
    # Wed 2026-12-23 + 1 working day is Mon 28 (24, 25 Christmas); a half day on the 23rd or
    # the 28th moves nothing, a closure on the 28th does
    assert cal.add_working_days(date(2026, 12, 23), 1) == date(2026, 12, 28)
    half = cal.with_added([CalendarEntry(date(2026, 12, 28), "half_day", "test")])
    assert half.is_working_day(date(2026, 12, 28))
    assert half.add_working_days(date(2026, 12, 23), 1) == date(2026, 12, 28)
    closed = cal.with_added([CalendarEntry(date(2026, 12, 28), "closure", "test")])
    assert closed.add_working_days(date(2026, 12, 23), 1) == date(2026, 12, 29)


# --- egov calendar ---------------------------------------------------------------------------------
def _lines_with(out: str, day: str) -> list[str]:
    return [line for line in out.splitlines() if day in line]


def test_calendar_show_2026_lists_the_compensatory_days(use_db: str, egov: EgovCli) -> None:
    r = egov(["calendar", "show", "2026", "--lang", "en"])
    assert r.code == 0, r.err
    for md in COMPENSATORY[2026]:
        (line,) = _lines_with(r.out, f"2026-{md}")
        assert "Compensatory rest day" in line and "gov.mo 2026" in line
    # 2026: 261 weekdays, of which 14 public holidays and 6 compensatory days are off
    assert "Working days in 2026: 241 days" in r.out
    zh = egov(["calendar", "show", "2026"])
    assert zh.code == 0 and all("補假" in _lines_with(zh.out, f"2026-{md}")[0] for md in COMPENSATORY[2026])
    assert "Provisional" in egov(["calendar", "show", "2027", "--lang", "en"]).out


def test_calendar_add_show_remove(use_db: str, egov: EgovCli) -> None:
    from egov.db import session_scope

    add = ["calendar", "add", "2026-09-15", "--type", "closure", "--name", "Typhoon signal 8"]
    r = egov([*add, "--source", "SMG signal notice", "--by", "admin-a"])
    assert r.code == 0, r.err
    (line,) = _lines_with(egov(["calendar", "show", "2026", "--lang", "en"]).out, "2026-09-15")
    assert "Closure" in line and "Typhoon signal 8" in line and "Added by cli:admin-a" in line
    with session_scope() as s:
        audit = s.execute(
            text("SELECT actor, action, target_id FROM audit_log WHERE action LIKE 'calendar.%'")
        ).all()
    assert [tuple(a) for a in audit] == [("cli:admin-a", "calendar.add", "2026-09-15")]
    again = egov([*add, "--source", "x"])
    assert again.code == 1 and "already a closure" in again.err
    builtin = egov(["calendar", "add", "2026-04-06", "--type", "closure", "--source", "x"])
    assert builtin.code == 1 and "built-in" in builtin.err
    bad_type = egov(["calendar", "add", "2026-09-16", "--type", "holiday", "--source", "x"])
    assert bad_type.code == 1 and "compensatory_day" in bad_type.err
    assert egov(["calendar", "remove", "2026-04-06"]).code == 1  # built-in days stay
    assert egov(["calendar", "remove", "2026-09-15"]).code == 0
    assert not _lines_with(egov(["calendar", "show", "2026"]).out, "2026-09-15")


@pytest.mark.parametrize("name", ['=HYPERLINK("http://x")', "@SUM(A1)", "Typhoon\x1b[31m", "a\u0085b"])
def test_formula_or_control_character_in_a_name_is_refused(use_db: str, egov: EgovCli, name: str) -> None:
    r = egov(["calendar", "add", "2026-09-15", "--type", "closure", "--name", name, "--source", "SMG"])
    assert r.code == 1 and ("formula" in r.err or "control character" in r.err), r.err
    assert "Traceback" not in r.err


def _count_added() -> int:
    from egov.db import session_scope

    with session_scope() as s:
        return int(s.execute(text("SELECT COUNT(*) FROM calendar_day")).scalar_one())


def test_calendar_import_is_all_or_nothing_with_line_and_column(
    use_db: str, egov: EgovCli, tmp_path: Path
) -> None:
    bad = tmp_path / "days.csv"
    bad.write_text(
        "date,type,name,source\n"
        "2026-09-15,closure,Typhoon signal 8,SMG\n"
        "2026-13-01,closure,Typhoon,SMG\n"
        "2026-09-17,holiday,Typhoon,SMG\n"
        "2026-09-18,closure,\"=cmd|' /C calc'!A0\",SMG\n",
        encoding="utf-8",
    )
    r = egov(["calendar", "import", bad])
    assert r.code == 1
    assert "line 3 column 1" in r.err and "'2026-13-01' is not a date" in r.err
    assert "line 4 column 2" in r.err and "'holiday'" in r.err
    assert "line 5 column 3" in r.err and "formula" in r.err
    assert "nothing was imported" in r.err and _count_added() == 0
    clash = tmp_path / "clash.csv"
    clash.write_text("date,type\n2026-09-15,closure\n2026-04-06,closure\n", encoding="utf-8")
    r = egov(["calendar", "import", clash])
    assert r.code == 1 and "line 3 column 1" in r.err and "compensatory_day" in r.err
    assert _count_added() == 0
    good = tmp_path / "good.csv"
    good.write_text(
        "date,type,name,source\n2026-09-15,closure,Typhoon signal 8,SMG\n2026-04-06,compensatory_day,,gov.mo\n",
        encoding="utf-8",
    )
    r = egov(["calendar", "import", good, "--lang", "en"])
    assert r.code == 0 and "added 1 day(s); 1 already listed" in r.out, r.err
    assert _count_added() == 1


# --- deadlines -------------------------------------------------------------------------------------
# A case opened on Thursday 2026-04-02 with 15 working days: Fri 3 (Good Friday), Sat 4, Sun 5
# (Ching Ming) and the compensatory rest days Mon 6 and Tue 7 are off, so the working days are
# Apr 8–10, 13–17, 20–24, 27, 28 → due Tue 2026-04-28 (without the compensatory days it was
# Fri 24: two working days early). With a closure on Mon 20 added: Wed 29.
OPENED = datetime(2026, 4, 2, 4, 0, tzinfo=UTC)  # 12:00 in Macau


def _dues() -> list[tuple[str, date]]:
    from egov.db import session_scope

    with session_scope() as s:
        rows = s.execute(
            text(
                "SELECT r.transaction_ref, c.rectify_due FROM rating_case c JOIN rating r ON r.id = c.rating_id"
            )
        ).all()
    return sorted((str(ref), date.fromisoformat(str(due)[:10])) for ref, due in rows)


def test_deadlines_count_compensatory_days_and_added_closures(
    api: Env, egov: EgovCli, monkeypatch: pytest.MonkeyPatch
) -> None:
    import surveys.ratings_fast
    import surveys.routes.ratings

    fix_service_clock(monkeypatch, {"now": OPENED})
    spy: Counter[str] = Counter()
    real_fast = surveys.ratings_fast.submit_one_fast

    def fast(*args: Any, **kwargs: Any) -> Any:
        out = real_fast(*args, **kwargs)
        spy["fast" if out is not None else "declined"] += 1
        return out

    monkeypatch.setattr(surveys.routes.ratings, "submit_one_fast", fast)
    assert api.rate(api.token(ref="A-fast"), 1).status_code == 200
    batch = [{"token": api.token(ref="A-batch"), "level": 2, "better": ["ease"]}]
    assert api.client.post("/api/v1/ratings/batch", json={"items": batch}).json()["accepted"] == 1
    assert spy == {"fast": 1}  # the single rating took the DBAPI fast path
    assert _dues() == [("A-batch", date(2026, 4, 28)), ("A-fast", date(2026, 4, 28))]

    r = egov(
        [
            "calendar",
            "add",
            "2026-04-20",
            "--type",
            "closure",
            "--name",
            "Typhoon signal 8",
            "--source",
            "SMG",
        ]
    )
    assert r.code == 0, r.err
    assert api.rate(api.token(ref="B-fast"), 1).status_code == 200
    batch = [{"token": api.token(ref="B-batch"), "level": 1, "better": ["ease"]}]
    assert api.client.post("/api/v1/ratings/batch", json={"items": batch}).json()["accepted"] == 1
    assert spy == {"fast": 2}
    # cases opened after the closure was added are due a day later; stored deadlines stay
    assert _dues() == [
        ("A-batch", date(2026, 4, 28)),
        ("A-fast", date(2026, 4, 28)),
        ("B-batch", date(2026, 4, 29)),
        ("B-fast", date(2026, 4, 29)),
    ]


def test_return_visit_deadline_counts_added_days(use_db: str) -> None:
    from egov.db import init_db, session_scope
    from surveys.calendar_days import NewDay, add_day
    from surveys.cases import due_after

    init_db()
    with session_scope() as s:
        # Thu 2026-04-02 + 1 working day: Wed 8 (Fri 3 – Tue 7 off)
        assert due_after(s, date(2026, 4, 2), 1) == date(2026, 4, 8)
        add_day(s, NewDay(date(2026, 4, 8), "closure", "Typhoon signal 8", "SMG"), "test")
        assert due_after(s, date(2026, 4, 2), 1) == date(2026, 4, 9)
        add_day(s, NewDay(date(2026, 4, 9), "half_day", "", "dispatch"), "test")
        assert due_after(s, date(2026, 4, 2), 1) == date(2026, 4, 9)


def test_a_calendar_file_of_the_old_form_still_loads_and_a_bad_one_is_refused(tmp_path: Path) -> None:
    from egov.errors import EgovError
    from surveys.calendar import load_calendar

    old = tmp_path / "old.toml"
    old.write_text('covered_years = [2026]\n[holidays]\n2026 = ["2026-04-03"]\n', encoding="utf-8")
    cal = load_calendar(str(old))
    assert cal.entries[date(2026, 4, 3)].kind == "public_holiday"
    assert cal.entries[date(2026, 4, 3)].source == "old.toml"
    bad = tmp_path / "bad.toml"
    bad.write_text(
        '[holidays]\n2026 = ["2026-04-06"]\n[compensatory_days]\n2026 = ["2026-04-06", "2026-04-04"]\n',
        encoding="utf-8",
    )
    with pytest.raises(EgovError) as exc:
        load_calendar(str(bad))
    assert "compensatory_days.2026: 2026-04-06 is also a public_holiday" in exc.value.problems
    assert (
        "compensatory_days.2026: 2026-04-04 is a Saturday; a compensatory day is a weekday"
        in exc.value.problems
    )
