"""Who may do what: every route of `egov serve` (the rating API, the widget, the /reports/
pages with their login and logout) for every way of calling it, as one table.

The columns (`WHO`): no credentials; a citizen's genuine rating token sent as a key; HTTP
Basic credentials; a revoked key; the report session cookie of the department key (the
browser's way in: the /reports/ pages accept it, the API does not); and the keys of a
department (SAFP), another department (DSAT), an assessor, an admin and a lead (the government
body of the assessment cycle: no rating API route but /me; the report pages of runs that are
final or published). Each row names its route, so `test_every_route_has_a_row` fails when
an endpoint ships without its row.

The database is the Macau demo (its cycles: 2022 published, 2023's draft in department review;
bad-rating cases; DSAT renamed to text that looks like HTML), on SQLite and on PostgreSQL: `{run}`
is the 2023 draft (a department key reads its own report of it only; the lead nothing of it),
`{run2022}` the published 2022 run (every key; a department key its own report and the
ranking). Who reads which run through a cycle's moves is tested in tests/egov/test_cycle.py. A cell that changes something (a rating,
a case move, a review, a revoked key, a logout) gets fresh things of its own.
"""

from __future__ import annotations

import contextlib
import itertools
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlmodel import col

from tests.helpers.databases import create_pg_database, release
from tests.helpers.department_db import EVIL_NAME, DemoDb

WHO = (
    "none",
    "citizen",
    "basic",
    "revoked",
    "session",
    "department",
    "other_department",
    "assessor",
    "admin",
    "lead",
)
NO_KEY = ("none", "citizen", "basic", "revoked")  # no valid key anywhere
KEYS = ("department", "other_department", "assessor", "admin", "lead")


@dataclass(frozen=True)
class Row:
    method: str
    route: str  # the route's path template in the app
    url: str  # what is requested; {run}, {run2022}, {token}, {case}, {held}, {key} are filled in
    expected: dict[str, int]
    body: Any = None  # JSON body (placeholders filled in)
    form: bool = False  # the login form: the caller's key as the form field `key`
    page: str = ""  # which content checks apply to a /reports/ answer

    @property
    def id(self) -> str:
        return f"{self.method} {self.url.split('?')[0]}"


def everyone(status: int) -> dict[str, int]:
    return dict.fromkeys(WHO, status)


def api(department: int, other_department: int, assessor: int, admin: int, lead: int) -> dict[str, int]:
    """An API route needing a key: no key (and the report cookie, which the API ignores) is 401."""
    keyed = dict(zip(KEYS, (department, other_department, assessor, admin, lead), strict=True))
    return {**dict.fromkeys((*NO_KEY, "session"), 401), **keyed}


def page(department: int, other_department: int, assessor: int, admin: int, lead: int) -> dict[str, int]:
    """A report page: no key is 401; the session cookie is the department key's way in."""
    keyed = dict(zip(KEYS, (department, other_department, assessor, admin, lead), strict=True))
    return {**dict.fromkeys(NO_KEY, 401), "session": department, **keyed}


TOKEN_BODY = {"object": "ONE_ACCOUNT", "transaction_ref": "{ref}"}
VALUES_BODY = {
    "period": "2031",
    "values": [{"object": "ONE_ACCOUNT", "indicator": "app_takeup", "value": 56.0}],
}
DEPT_PAGE = "/reports/{run_key}/departments/{department}"
MATRIX: list[Row] = [
    # --- the rating API: public ---------------------------------------------------------------
    Row("GET", "/api/v1/health", "/api/v1/health", everyone(200)),
    Row("GET", "/api/v1/questions", "/api/v1/questions", everyone(200)),
    Row("GET", "/widget/{object_code}", "/widget/ONE_ACCOUNT?token={token}", everyone(200)),
    Row("POST", "/api/v1/ratings", "/api/v1/ratings", everyone(200), {"token": "{token}", "level": 5}),
    Row(
        "POST",
        "/api/v1/ratings/batch",
        "/api/v1/ratings/batch",
        everyone(200),
        {"items": [{"token": "{token}", "level": 5}]},
    ),
    # --- the rating API: keys -----------------------------------------------------------------
    Row("GET", "/api/v1/me", "/api/v1/me", api(200, 200, 200, 200, 200)),
    Row("POST", "/api/v1/tokens", "/api/v1/tokens", api(200, 403, 403, 403, 403), TOKEN_BODY),
    Row(
        "POST",
        "/api/v1/tokens/batch",
        "/api/v1/tokens/batch",
        api(200, 403, 403, 403, 403),
        {"items": [TOKEN_BODY]},
    ),
    Row("GET", "/api/v1/ratings/held", "/api/v1/ratings/held", api(403, 403, 200, 403, 403)),
    Row(
        "POST",
        "/api/v1/ratings/{rating_id}/review",
        "/api/v1/ratings/{held}/review",
        api(403, 403, 200, 403, 403),
        {"decision": "accept"},
    ),
    Row("GET", "/api/v1/ratings/export", "/api/v1/ratings/export", api(403, 403, 200, 403, 403)),
    Row("GET", "/api/v1/measures", "/api/v1/measures", api(200, 200, 200, 403, 403)),
    Row("GET", "/api/v1/cases", "/api/v1/cases", api(200, 200, 200, 403, 403)),
    # {case} is an open case of SAFP: another department's case is not disclosed (404)
    Row("GET", "/api/v1/cases/{case_id}", "/api/v1/cases/{case}", api(200, 404, 200, 403, 403)),
    Row(
        "POST",
        "/api/v1/cases/{case_id}/transition",
        "/api/v1/cases/{case}/transition",
        api(200, 404, 403, 403, 403),
        {"to": "verified"},
    ),
    Row("GET", "/api/v1/case-metrics", "/api/v1/case-metrics", api(200, 200, 200, 403, 403)),
    Row("GET", "/api/v1/audit", "/api/v1/audit", api(403, 403, 200, 200, 403)),
    # values with evidence (issue 16.3): a department submits its own objects' values (SAFP owns
    # ONE_ACCOUNT; DSAT's key is refused), department and assessor keys list and attach evidence
    Row("POST", "/api/v1/values", "/api/v1/values", api(200, 403, 403, 403, 403), VALUES_BODY),
    Row("GET", "/api/v1/values", "/api/v1/values?period=2023", api(200, 200, 200, 403, 403)),
    Row(
        "POST",
        "/api/v1/values/{value_id}/evidence",
        "/api/v1/values/{value}/evidence",
        api(200, 403, 200, 403, 403),
        {"reference": "https://example.org/evidence"},
    ),
    # the department review's objections (egov.objections): 2022 is published, so a department's
    # objection to it is refused as "not now" (409; raising one during 2023's review:
    # tests/egov/test_objections.py) and the answer to an objection that does not exist is 404
    Row("GET", "/api/v1/objections", "/api/v1/objections", api(200, 200, 200, 403, 403)),
    Row(
        "POST",
        "/api/v1/objections",
        "/api/v1/objections",
        api(409, 409, 403, 403, 403),
        {"period": "2022", "object": "ONE_ACCOUNT", "indicator": "app_takeup", "text": "too low"},
    ),
    Row(
        "POST",
        "/api/v1/objections/{objection_id}/answer",
        "/api/v1/objections/999999/answer",
        api(403, 403, 404, 403, 403),
        {"decision": "reject", "reason": "as scored"},
    ),
    Row("GET", "/api/v1/keys", "/api/v1/keys", api(403, 403, 403, 200, 403)),
    Row("POST", "/api/v1/keys", "/api/v1/keys", api(403, 403, 403, 200, 403), {"role": "assessor"}),
    Row("POST", "/api/v1/keys/{key_id}/revoke", "/api/v1/keys/{key}/revoke", api(403, 403, 403, 200, 403)),
    # --- the public site: no key needed, none used; 2023 is in department review in these worlds, so
    # its pages are a 404 for every caller (tests/reports/test_public.py serves a published period)
    Row("GET", "/public/", "/public/?lang=en", everyone(200)),
    Row("GET", "/public/{period}/", "/public/2023/", everyone(404)),
    Row("GET", "/public/{period}/methodology", "/public/2023/methodology", everyone(404)),
    Row("GET", "/public/{period}/departments/{code}", "/public/2023/departments/SAFP", everyone(404)),
    Row("GET", "/public/{period}/open-data.zip", "/public/2023/open-data.zip", everyone(404)),
    # the public rating results (docs/ratings.md "Public results"): no key, the demo's 2023 ratings;
    # the demo has no service-item catalogue, so a service item is a 404 for everyone
    Row("GET", "/public/ratings/", "/public/ratings/?lang=en", everyone(200)),
    Row("GET", "/public/ratings/{period}/", "/public/ratings/2023/", everyone(200)),
    Row(
        "GET",
        "/public/ratings/{period}/departments/{code}",
        "/public/ratings/2023/departments/SAFP?lang=en",
        everyone(200),
    ),
    Row(
        "GET", "/public/ratings/{period}/services/{code}", "/public/ratings/2023/services/NOPE", everyone(404)
    ),
    Row(  # the demo's transactions name service items (egov/data/macau_services.toml)
        "GET",
        "/public/ratings/{period}/services/{code}",
        "/public/ratings/2023/services/DSF_VEHICLE_TAX?lang=en",
        everyone(200),
    ),
    Row("GET", "/public/ratings/{period}/open-data.zip", "/public/ratings/2023/open-data.zip", everyone(200)),
    # --- the report pages ---------------------------------------------------------------------
    Row("GET", "/reports/login", "/reports/login?lang=en", everyone(200), page="login"),
    Row(
        "POST",
        "/reports/login",
        "/reports/login?lang=en",
        {**dict.fromkeys((*NO_KEY, "session"), 401), **dict.fromkeys(KEYS, 303)},
        form=True,
        page="login_post",
    ),
    Row("POST", "/reports/logout", "/reports/logout?lang=en", everyone(303), page="logout"),
    Row("GET", "/reports/", "/reports/?lang=en", page(200, 200, 200, 200, 200), page="index"),
    # the 2023 draft in department review: no department's, nor the lead's, to read whole
    Row(
        "GET",
        "/reports/{run_key}/ranking",
        "/reports/{run}/ranking?lang=en",
        page(404, 404, 200, 200, 404),
        page="ranking",
    ),
    Row(
        "GET",
        "/reports/{run_key}/ranking",
        "/reports/{run2022}/ranking?lang=en",
        page(200, 200, 200, 200, 200),
        page="ranking",
    ),
    Row(
        "GET",
        "/reports/{run_key}/ranking",
        "/reports/nosuchrun/ranking?lang=en",
        page(404, 404, 404, 404, 404),
        page="refused",
    ),
    Row(
        "GET",
        "/reports/{run_key}/assessor",
        "/reports/{run}/assessor?lang=en",
        page(403, 403, 200, 200, 404),
        page="assessor",
    ),
    Row(
        "GET",
        "/reports/{run_key}/assessor",
        "/reports/{run2022}/assessor?lang=en",
        page(403, 403, 200, 200, 200),
        page="assessor",
    ),
    # the department report of every run ("latest" too: the newest the key may read): SAFP's key
    # reads SAFP's only; the lead nothing of the 2023 draft in review
    *(
        Row("GET", DEPT_PAGE, f"/reports/{run}/departments/{dept}?lang=en", statuses, page="department")
        for run, lead in (("{run}", 404), ("{run2022}", 200), ("latest", 200))
        for dept, statuses in (
            ("SAFP", page(200, 403, 200, 200, lead)),
            ("DSAT", page(403, 200, 200, 200, lead)),
            # an unknown department: refused to department keys before anything is looked up
            ("NOPE", page(403, 403, 404, 404, 404)),
        )
    ),
    Row(
        "GET",
        DEPT_PAGE,
        "/reports/nosuchrun/departments/SAFP?lang=en",
        page(404, 403, 404, 404, 404),
        page="refused",
    ),
    # the cycle pages (reports/web/cycle): every key lists the cycles; a department's pages are
    # department keys', the verification and the answers the assessor's, the moves the lead's and
    # the assessor's (403 for any other role); period 2031 has no cycle, so it is a 404 for the
    # roles that may see the page (the demo's cycles' pages: tests/reports/test_cycle_pages.py
    # and the demo's tests)
    Row("GET", "/reports/cycle/", "/reports/cycle/?lang=en", page(200, 200, 200, 200, 200), page="cycles"),
    *(
        Row(method, f"/reports/cycle/{{period}}/{name}", f"/reports/cycle/2031/{name}?lang=en", statuses)
        for name, statuses in (
            ("values", page(404, 404, 403, 403, 403)),
            ("review", page(404, 404, 403, 403, 403)),
            ("verify", page(403, 403, 404, 403, 403)),
            ("objections", page(403, 403, 404, 403, 403)),
        )
        for method in ("GET", "POST")
    ),
    Row(
        "POST",
        "/reports/cycle/{period}/evidence",
        "/reports/cycle/2031/evidence?lang=en",
        page(404, 404, 403, 403, 403),
    ),
    Row(
        "POST",
        "/reports/cycle/{period}/move",
        "/reports/cycle/2031/move?lang=en",
        page(403, 403, 404, 403, 404),
    ),
    # the case desk (tests/reports/test_case_desk.py): department keys their own cases, assessors
    # all; an empty form is a 400 once the case may be seen
    Row("GET", "/reports/desk/", "/reports/desk/?lang=en", page(200, 200, 200, 403, 403)),
    Row(
        "GET",
        "/reports/desk/ledger.xlsx",
        "/reports/desk/ledger.xlsx?lang=en&from=2026-01-01&to=2026-12-31",
        page(200, 200, 200, 403, 403),
        page="ledger",
    ),
    Row("GET", "/reports/desk/{case_id}", "/reports/desk/{case}?lang=en", page(200, 404, 200, 403, 403)),
    Row(
        "POST",
        "/reports/desk/{case_id}",
        "/reports/desk/{case}?lang=en",
        page(400, 404, 400, 403, 403),
        page="desk_form",
    ),
    # the citizen's status page: public (an unknown receipt is a 404 for everyone)
    Row("GET", "/status/", "/status/?lang=en", everyone(200)),
    Row("GET", "/status/{receipt}", "/status/00000000000000000000000000000000?lang=en", everyone(404)),
    # the counter channel (docs/ratings.md "Channels: counter kiosk and hotline"): a department
    # registers its kiosks and reads its figures by window or staff; the kiosk routes take a
    # kiosk's device key only (no caller here has one: 401); the kiosk's page is public
    Row("GET", "/kiosk/{object_code}", "/kiosk/ONE_ACCOUNT?lang=en", everyone(200)),
    Row(
        "POST",
        "/api/v1/kiosks",
        "/api/v1/kiosks",
        api(200, 403, 403, 403, 403),
        {"code": "K-{ref}", "object": "ONE_ACCOUNT", "window": "1"},
    ),
    Row("GET", "/api/v1/kiosks", "/api/v1/kiosks", api(200, 200, 403, 403, 403)),
    Row(
        "POST", "/api/v1/kiosks/{code}/revoke", "/api/v1/kiosks/NO-SUCH/revoke", api(404, 404, 403, 403, 403)
    ),
    Row("GET", "/api/v1/kiosk/ticket", "/api/v1/kiosk/ticket", everyone(401)),
    Row(
        "POST",
        "/api/v1/kiosk/ticket/{receipt}/dismiss",
        "/api/v1/kiosk/ticket/00000000000000000000000000000000/dismiss",
        everyone(401),
    ),
    Row("GET", "/api/v1/subjects", "/api/v1/subjects?by=staff", api(200, 200, 403, 403, 403)),
]
# every cell on SQLite (the demo database with its runs); the API's cells on PostgreSQL too (the
# report pages' department check runs on both engines in tests/reports/test_web_pages.py)
REPORT_PAGES = ("/reports/{run_key}/departments/", "/reports/{run_key}/assessor")  # rendered: seconds each


def _cell_marks(row: Row, who: str) -> list[pytest.MarkDecorator]:
    """A report page rendered for the caller takes seconds: `slow`."""
    rendered = row.route.startswith(REPORT_PAGES) and row.expected[who] == 200
    return [pytest.mark.slow] if rendered else []


CELLS = [
    *(
        pytest.param("sqlite", row, who, id=f"sqlite-{row.id}-{who}", marks=_cell_marks(row, who))
        for row in MATRIX
        for who in WHO
    ),
    *(
        pytest.param("postgresql", row, who, id=f"postgresql-{row.id}-{who}", marks=pytest.mark.postgres)
        for row in MATRIX
        # the PostgreSQL world has no ratings: a period's rating results are a 404 there
        # (tests/reports/test_public_ratings.py serves them on PostgreSQL)
        if not row.route.startswith(("/reports", "/public/ratings/{period}"))
        for who in WHO
    ),
]


# --- the world: the demo database, its keys, and fresh things for the cells ---------------------
@dataclass
class World:
    client: Any
    db: DemoDb
    url: str
    citizen_token: str = ""
    serial: Iterator[int] = field(default_factory=itertools.count)

    def ref(self) -> str:
        return f"matrix-{next(self.serial)}"

    def token(self) -> str:
        r = self.client.post(
            "/api/v1/tokens",
            json={"object": "ONE_ACCOUNT", "transaction_ref": self.ref()},
            headers={"Authorization": f"Bearer {self.db.keys['department']}"},
        )
        assert r.status_code == 200, r.text
        return str(r.json()["token"])

    def _object_id(self, s: Any, code: str) -> int:
        from egov.models import AssessedObject

        return int(
            s.execute(select(col(AssessedObject.id)).where(col(AssessedObject.code) == code)).scalar_one()
        )

    def case(self) -> int:
        """A new open case of SAFP (a bad rating of ONE_ACCOUNT)."""
        from egov.clock import local_day
        from egov.db import session_scope
        from egov.models import Rating, RatingCase
        from surveys.cases import open_cases

        with session_scope(self.url) as s:
            rating = Rating(
                object_id=self._object_id(s, "ONE_ACCOUNT"),
                level=1,
                drivers="-efficiency",
                day=local_day(),
                transaction_ref=self.ref(),
            )
            s.add(rating)
            s.flush()
            open_cases(s, [int(rating.id or 0)], local_day())
            s.flush()
            return int(
                s.execute(
                    select(col(RatingCase.id)).where(col(RatingCase.rating_id) == rating.id)
                ).scalar_one()
            )

    def held(self) -> int:
        """A new rating held for review by burst detection."""
        from egov.clock import local_day
        from egov.db import session_scope
        from egov.models import Rating

        with session_scope(self.url) as s:
            rating = Rating(
                object_id=self._object_id(s, "ONE_ACCOUNT"),
                level=5,
                day=local_day(),
                transaction_ref=self.ref(),
                flags="burst",
            )
            s.add(rating)
            s.flush()
            return int(rating.id or 0)

    def value(self) -> int:
        """A new submitted value of ONE_ACCOUNT (SAFP) / app_takeup in period 2031."""
        from egov.db import session_scope
        from egov.store import add_metric_values, period_for_import
        from egov.values import find_value

        with session_scope(self.url) as s:
            row = {"object": "ONE_ACCOUNT", "indicator": "app_takeup", "value": 50.0}
            add_metric_values(s, period_for_import(s, "2031"), [row], source_file="matrix")
            return int(find_value(s, None, "2031", "ONE_ACCOUNT", "app_takeup").id or 0)

    def spare_key(self) -> int:
        from egov.auth import create_key
        from egov.db import session_scope

        with session_scope(self.url) as s:
            _key, row = create_key(s, "assessor", label="to revoke")
            return int(row.id or 0)

    def session_cookie(self) -> str:
        """A new report session of the department key (as the login form makes one)."""
        from egov.auth import authenticate
        from egov.db import session_scope
        from reports.web import COOKIE, start_session

        with session_scope(self.url) as s:
            principal = authenticate(s, self.db.keys["department"])
            assert principal is not None
            return f"{COOKIE}={start_session(s, principal)}"

    def credential(self, who: str) -> str:
        """What the caller presents as its key (header or login form); empty for none."""
        others = {"none": "", "session": "", "citizen": self.citizen_token, "basic": "dXNlcjpwYXNz"}
        return others[who] if who in others else self.db.keys[who]

    def headers(self, who: str) -> dict[str, str]:
        if who == "basic":
            return {"Authorization": f"Basic {self.credential(who)}"}
        if who == "session":  # sent to every route: the API must ignore it
            return {"Cookie": self.session_cookie()}
        key = self.credential(who)
        return {"Authorization": f"Bearer {key}"} if key else {}

    def fill(self, value: Any, ids: dict[str, Any]) -> Any:
        if isinstance(value, str):
            for name, make in ids.items():
                if "{" + name + "}" in value:
                    value = value.replace("{" + name + "}", str(make()))
            return value
        if isinstance(value, dict):
            return {k: self.fill(v, ids) for k, v in value.items()}
        if isinstance(value, list):
            return [self.fill(v, ids) for v in value]
        return value

    def send(self, row: Row, who: str) -> Any:
        ids = {
            "run": lambda: self.db.runs["2023"],
            "run2022": lambda: self.db.runs["2022"],
            "token": self.token,
            "case": self.case,
            "held": self.held,
            "key": self.spare_key,
            "ref": self.ref,
            "value": self.value,
        }
        url = self.fill(row.url, ids)
        if row.form:  # the login form: the credential is the form field; no header
            return self.client.post(url, data={"key": self.credential(who)}, follow_redirects=False)
        headers = self.headers(who)
        return self.client.request(
            row.method, url, json=self.fill(row.body, ids), headers=headers, follow_redirects=False
        )


def _pg_database(admin_url: str) -> tuple[str, Any]:
    """A fresh PostgreSQL database for this module, and its release."""
    url = create_pg_database(admin_url)
    return url, lambda: release(url, admin_url)


@contextlib.contextmanager
def _world(engine: str, tmp: Path, pg_admin: str | None, template: DemoDb) -> Iterator[World]:
    """The app on a fresh database of the engine (settings pointed at it while it lives)."""
    from fastapi.testclient import TestClient

    from egov.db import dispose_engines
    from egov.settings import reset_settings

    drop = None
    if engine == "sqlite":
        url = f"sqlite:///{tmp / 'egov.db'}"
    else:
        assert pg_admin is not None
        url, drop = _pg_database(pg_admin)
    try:
        with pytest.MonkeyPatch.context() as mp:
            mp.setenv("EGOV_DATABASE_URL", url)
            mp.setenv("EGOV_SECRET_KEY", "test-secret-not-for-production")
            mp.setenv("EGOV_RATE_LIMIT_CLIENT", "100000")  # every cell comes from one client
            mp.chdir(tmp)
            reset_settings()
            db = _populate(engine, url, tmp, template)
            from egov.app import create_app

            try:
                with TestClient(create_app()) as client:
                    world = World(client, db, url)
                    world.citizen_token = world.token()
                    yield world
            finally:
                dispose_engines()
                reset_settings()
    finally:
        if drop is not None:
            drop()


class Worlds:
    """One world at a time, made on first use of its engine (the cells come engine by engine)."""

    def __init__(self, tmp_path_factory: pytest.TempPathFactory, template: DemoDb) -> None:
        self.tmp_path_factory = tmp_path_factory
        self.template = template
        self.stack = contextlib.ExitStack()
        self.engine = ""
        self.world: World | None = None

    def get(self, engine: str, pg_admin: str | None) -> World:
        if self.world is None or engine != self.engine:
            self.close()
            tmp = self.tmp_path_factory.mktemp(f"matrix-{engine}")
            self.world = self.stack.enter_context(_world(engine, tmp, pg_admin, self.template))
            self.engine = engine
        return self.world

    def close(self) -> None:
        self.stack.close()
        self.stack = contextlib.ExitStack()
        self.world = None


@pytest.fixture(scope="module")
def worlds(tmp_path_factory: pytest.TempPathFactory, department_template: DemoDb) -> Iterator[Worlds]:
    made = Worlds(tmp_path_factory, department_template)
    try:
        yield made
    finally:
        made.close()


def _populate(engine: str, url: str, tmp: Path, template: DemoDb) -> DemoDb:
    """SQLite: the Macau demo (runs for the report pages; a copy of the session's template at
    tmp/egov.db, the database of `url`). PostgreSQL, where only the API's cells run: the
    register, the framework and the keys."""
    if engine == "sqlite":
        return template.copy(tmp / "egov.db")
    from egov.auth import create_key
    from egov.db import session_scope
    from tests.helpers.register import setup_register

    db = DemoDb(tmp / "unused.db", keys=setup_register(url))
    with session_scope(url) as s:
        db.keys["lead"], _ = create_key(s, "lead", label="SAFP as lead")
        db.keys["revoked"], row = create_key(s, "department", "SAFP", "revoked")
        row.revoked_at = row.created_at
        s.add(row)
    return db


# --- the tests ------------------------------------------------------------------------------------
@pytest.mark.parametrize(("engine", "row", "who"), CELLS)
def test_role_matrix(request: pytest.FixtureRequest, worlds: Worlds, engine: str, row: Row, who: str) -> None:
    pg_admin = str(request.getfixturevalue("pg_server")) if engine == "postgresql" else None
    world = worlds.get(engine, pg_admin)
    r = world.send(row, who)
    expected = row.expected[who]
    assert r.status_code == expected, f"{who} {row.method} {row.url}: {r.status_code} {r.text[:300]}"
    if row.route.startswith("/reports"):
        _check_report_answer(world, row, who, r)
    elif row.route.startswith("/public"):
        assert "frame-ancestors 'none'" in r.headers["content-security-policy"]
        assert (
            r.headers["cache-control"] == "no-store"
            if r.status_code == 404
            else "public" in r.headers["cache-control"]
        )
    elif r.status_code in (401, 403):
        assert isinstance(r.json()["detail"], str)
        if r.status_code == 401:
            assert r.headers["www-authenticate"] == "Bearer"


def _check_report_answer(world: World, row: Row, who: str, r: Any) -> None:
    """Headers of every report answer; what a refusal hides; what each page shows."""
    assert r.headers["cache-control"] == "no-store"
    assert "frame-ancestors 'none'" in r.headers["content-security-policy"]
    if r.status_code == 303:
        assert "set-cookie" in r.headers
        return
    if row.page == "ledger" and r.status_code == 200:  # the case desk's Excel download
        assert r.headers["content-type"].startswith("application/vnd.openxmlformats")
        return
    assert r.headers["content-type"].startswith("text/html")
    body = r.text
    if row.page == "desk_form" and r.status_code == 400:
        # a refused desk form, by a key that may see the case: the case again, with the message
        assert 'role="alert"' in body
        return
    if r.status_code == 401:
        assert r.headers["www-authenticate"].startswith("Bearer")
        if row.page == "login_post":
            assert "Unknown or revoked key" in body and "set-cookie" not in r.headers
        else:
            assert "Please log in" in body and "/reports/login" in body
    if r.status_code == 403:
        assert "may not see this page" in body
    if r.status_code != 200 or row.page == "login":
        # a refusal (or the login form) shows nothing of the reports, nor another department's name
        assert "Standing overall" not in body and "SAFP" not in body.replace("/SAFP", "")
        assert EVIL_NAME not in body and "&lt;script&gt;" not in body
        return
    if row.page == "ranking":
        assert "Department ranking" in body and "data-egov-chart" in body
        # every department is listed; a department key links to its own report only
        links = {d for d in ("SAFP", "DSAT", "DSI") if f"/departments/{d}?" in body}
        own = {"department": {"SAFP"}, "session": {"SAFP"}, "other_department": {"DSAT"}}
        assert links == own.get(who, {"SAFP", "DSAT", "DSI"})
    if row.page == "department":
        assert "Standing overall and by category" in body
        assert "Improvement priorities" in body and "Open bad-rating cases" in body
    if row.page == "assessor":
        assert "E-government evaluation report" in body
    if row.page == "cycles":  # the demo's cycles: 2022 published, 2023 in department review
        assert "Assessment cycles" in body and "2022" in body and "2023" in body
    if row.page == "index":  # the lead does not see the 2023 draft in review
        assert world.db.runs["2022"] in body and (world.db.runs["2023"] in body) == (who != "lead")


def test_every_row_has_every_caller() -> None:
    for row in MATRIX:
        assert set(row.expected) == set(WHO), row.id
    assert len({(row.method, row.url) for row in MATRIX}) == len(MATRIX), "a row twice"


def app_routes(routes: Any, prefix: str = "") -> Iterator[tuple[str, str]]:
    """(method, path) of every route, into included routers (which newer FastAPI versions keep
    as nodes of `app.routes` instead of copying their routes up); static mounts left out."""
    from starlette.routing import Mount

    for route in routes:
        included = getattr(route, "original_router", None)
        if included is not None:
            yield from app_routes(included.routes, prefix + route.include_context.prefix)
        elif not isinstance(route, Mount):
            for method in route.methods - {"HEAD"}:
                yield method, prefix + route.path


def test_every_route_has_a_row() -> None:
    """Every route of the app (but the API docs) has a row, and every row a route: a new
    endpoint cannot ship without saying who may call it."""
    from egov.app import create_app

    docs = {"/docs", "/docs/oauth2-redirect", "/redoc", "/openapi.json"}
    routes = {(method, path) for method, path in app_routes(create_app().routes) if path not in docs}
    assert len(routes) >= 27, f"the app's routes were not found: {sorted(routes)}"
    rows = {(row.method, row.route) for row in MATRIX}
    assert not routes - rows, f"routes without a row in MATRIX: {sorted(routes - rows)}"
    assert not rows - routes, f"rows for routes the app does not have: {sorted(rows - routes)}"
    for row in MATRIX:  # the row requests its route
        parts = re.split(r"(\{[^}]+\})", row.route)
        pattern = "".join("[^/]+" if p.startswith("{") else re.escape(p) for p in parts)
        assert re.fullmatch(pattern, re.sub(r"\{[^}]+\}", "x", row.url.split("?")[0])), row.id
