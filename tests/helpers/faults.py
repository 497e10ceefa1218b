"""Helpers of the fault tests (tests/surveys/test_workers_faults.py): `egov serve` as its own
process group (several workers, SIGKILL), a load generator of rating requests in threads
that records every answer, a private throw-away PostgreSQL cluster that may be stopped, and
the database checks (every acknowledged rating present once, claims consistent, roll-ups
equal to a rebuild)."""

from __future__ import annotations

import contextlib
import glob
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter, deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import httpx

from tests.helpers.servers import free_port

ROOT = Path(__file__).resolve().parents[2]
# load is not throttled: the per-client and per-issuer buckets (per worker) and burst
# detection are set far above what the tests send
UNTHROTTLED = {
    "EGOV_RATE_LIMIT_CLIENT": "100000000",
    "EGOV_RATE_LIMIT_ISSUER": "100000000",
    "EGOV_BURST_OBJECT_MAX": "100000000",
    "EGOV_BURST_ISSUER_MAX": "100000000",
}
OBJECTS = ("ONE_ACCOUNT", "OPEN_DATA_PLATFORM")  # SAFP's applications
API = "/api/v1"


def _state(pid: int) -> str | None:
    """The process state letter (R, S, Z …) or None when the process is gone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return stat.rsplit(")", 1)[1].split()[0]


def alive(pid: int) -> bool:
    return _state(pid) not in (None, "Z", "X")


# --- the server ------------------------------------------------------------------------------------
class Server:
    """`egov serve --workers N` in a subprocess that leads its own process group (the uvicorn
    parent and its worker processes), on a free port; `kill()` sends SIGKILL to the whole group."""

    def __init__(self, db_url: str, cwd: Path, workers: int = 1, **env: str) -> None:
        self.db_url, self.cwd, self.workers, self.env = db_url, cwd, workers, env
        self.proc: subprocess.Popen[bytes] | None = None
        self.base = ""

    def launch(self) -> Server:
        """Start the process (not waiting for it: the caller may prepare data meanwhile)."""
        port = self.port = free_port()
        environ = {k: v for k, v in os.environ.items() if not k.startswith("EGOV_")}
        environ.update({"EGOV_DATABASE_URL": self.db_url, "PYTHONPATH": str(ROOT), **self.env})
        self.log = self.cwd / f"serve-{port}.log"
        with self.log.open("w") as log:
            args = ["serve", "--port", str(port), "--workers", str(self.workers)]
            self.proc = subprocess.Popen(
                [sys.executable, "-c", "import cli; cli.main()", *args],
                cwd=self.cwd,
                env=environ,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group: SIGKILL reaches every worker
            )
        self.base = f"http://127.0.0.1:{port}"
        return self

    def wait_ready(self, within: float = 90) -> Server:
        assert self.proc is not None
        deadline = time.monotonic() + within
        while True:
            if self.proc.poll() is not None:
                raise AssertionError(f"egov serve exited: {self.log.read_text()}")
            try:
                if httpx.get(f"{self.base}{API}/health", timeout=2).status_code == 200:
                    return self
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise AssertionError(f"egov serve not ready in {within} s: {self.log.read_text()}")
            time.sleep(0.1)

    def start(self) -> Server:
        return self.launch().wait_ready()

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def worker_pids(self) -> list[int]:
        """The uvicorn parent's worker processes (multiprocessing spawn children; not its
        resource tracker)."""
        try:
            children = Path(f"/proc/{self.pid}/task/{self.pid}/children").read_text().split()
        except OSError:
            return []
        out = []
        for c in children:
            with contextlib.suppress(OSError):
                if b"spawn_main" in Path(f"/proc/{c}/cmdline").read_bytes() and alive(int(c)):
                    out.append(int(c))
        return sorted(out)

    def group_pids(self) -> list[int]:
        """The uvicorn parent and its worker processes."""
        return [self.pid, *self.worker_pids()]

    def pause(self) -> None:
        """SIGSTOP to the whole process group; returns once every process of it is stopped
        (state T in /proc), so that from then on no request is read or answered (until
        `kill()`: SIGKILL ends stopped processes too)."""
        pids = self.group_pids()
        os.killpg(self.pid, signal.SIGSTOP)
        deadline = time.monotonic() + 10
        while any(_state(p) not in (None, "T", "Z", "X") for p in pids):
            assert time.monotonic() < deadline, f"server processes not stopped: {[_state(p) for p in pids]}"
            time.sleep(0.005)

    def unread_requests(self) -> int:
        """Connections to the server's port whose receive queue holds bytes the server has not
        read (the kernel's count, /proc/net/tcp: ESTABLISHED, local port ours, rx_queue > 0)."""
        port = f"{self.port:04X}"
        n = 0
        for table in ("/proc/net/tcp", "/proc/net/tcp6"):
            with contextlib.suppress(OSError):
                for line in Path(table).read_text().splitlines()[1:]:
                    fields = line.split()
                    local, state, queues = fields[1], fields[3], fields[4]
                    if (
                        local.rsplit(":", 1)[1] == port
                        and state == "01"
                        and int(queues.split(":")[1], 16) > 0
                    ):
                        n += 1
        return n

    def kill(self) -> list[int]:
        """SIGKILL to the whole process group; returns the pids that were in it."""
        assert self.proc is not None
        pids = self.group_pids()
        os.killpg(self.pid, signal.SIGKILL)
        self.proc.wait(timeout=10)
        deadline = time.monotonic() + 10
        while any(alive(p) for p in pids) and time.monotonic() < deadline:
            time.sleep(0.05)
        return pids

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.pid, signal.SIGTERM)
            os.killpg(self.pid, signal.SIGCONT)  # a paused server handles the SIGTERM
        try:
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.pid, signal.SIGKILL)
            self.proc.wait(timeout=10)

    def __enter__(self) -> Server:
        """Started and ready — or, after `launch()`, as it is (call `wait_ready()`)."""
        return self if self.proc is not None else self.start()

    def __exit__(self, *_exc: object) -> None:
        self.stop()


# --- tokens and the load ---------------------------------------------------------------------------
@dataclass(frozen=True)
class Tok:
    token: str
    object: str
    ref: str
    level: int


def issue_tokens(base: str, key: str, n: int, prefix: str, seed: int) -> list[Tok]:
    """n rating tokens through the API (department key of SAFP), each with its planned level."""
    rng = random.Random(seed)
    out: list[Tok] = []
    with httpx.Client(base_url=base, timeout=30, headers={"Authorization": f"Bearer {key}"}) as http:
        for start in range(0, n, 500):
            items = [
                {"object": OBJECTS[i % len(OBJECTS)], "transaction_ref": f"{prefix}-{i}"}
                for i in range(start, min(n, start + 500))
            ]
            r = http.post(f"{API}/tokens/batch", json={"items": items})
            assert r.status_code == 200, r.text
            out += [
                Tok(t["token"], t["object"], t["transaction_ref"], rng.choice((1, 2, 3, 4, 4, 5, 5, 5)))
                for t in r.json()["items"]
            ]
    return out


def rating_body(t: Tok) -> dict[str, Any]:
    body: dict[str, Any] = {"token": t.token, "level": t.level}
    if t.level <= 2:
        body["better"] = ["efficiency"]
    return body


@dataclass
class Req:
    """One HTTP request of the load and every answer it got (status, JSON or text; status
    None: no answer — the connection failed or was cut)."""

    n: int
    method: str
    path: str
    body: dict[str, Any] | None = None
    toks: tuple[Tok, ...] = ()  # the ratings it carries
    headers: dict[str, str] = field(default_factory=dict)
    kind: str = ""
    answers: list[tuple[int | None, Any, dict[str, str]]] = field(default_factory=list)
    started: float = 0.0  # time.monotonic() when it was first sent

    @property
    def answered_ok(self) -> bool:
        return any(s is not None and 200 <= s < 300 for s, _, _ in self.answers)


def rating_plan(toks: list[Tok], seed: int, start: int = 0) -> list[Req]:
    """Single ratings and batches over the tokens, with deliberate replays: a single rating or
    a batch sent twice in a row (two threads will usually have them in flight together)."""
    rng = random.Random(seed)
    out: list[Req] = []
    i = 0
    while i < len(toks):
        n = start + len(out)
        if rng.random() < 0.6:
            t = toks[i]
            i += 1
            out.append(Req(n, "POST", f"{API}/ratings", rating_body(t), (t,), kind="single"))
            if rng.random() < 0.2:
                out.append(Req(n + 1, "POST", f"{API}/ratings", rating_body(t), (t,), kind="single-replay"))
        else:
            chunk = tuple(toks[i : i + rng.randint(2, 25)])
            i += len(chunk)
            body = {"items": [rating_body(t) for t in chunk]}
            out.append(Req(n, "POST", f"{API}/ratings/batch", body, chunk, kind="batch"))
            if rng.random() < 0.25:
                out.append(Req(n + 1, "POST", f"{API}/ratings/batch", body, chunk, kind="batch-replay"))
    return out


def mixed_plan(toks: list[Tok], seed: int, keys: dict[str, str], prefix: str) -> list[Req]:
    """A rating plan with, after every third rating request, one of: a new token (department
    key), the report index page (assessor key), the health check."""
    dep = {"Authorization": f"Bearer {keys['department']}"}
    reader = {"Authorization": f"Bearer {keys['assessor']}"}
    out: list[Req] = []
    for j, req in enumerate(rating_plan(toks, seed)):
        out.append(req)
        if j % 3 == 2:
            n, which = len(out), (j // 3) % 3
            if which == 0:
                body = {"object": "ONE_ACCOUNT", "transaction_ref": f"{prefix}-{n}"}
                out.append(Req(n, "POST", f"{API}/tokens", body, headers=dep, kind="token"))
            elif which == 1:
                out.append(Req(n, "GET", "/reports/", headers=reader, kind="report"))
            else:
                out.append(Req(n, "GET", f"{API}/health", kind="health"))
    return out


CONCURRENT = "a concurrent request used the same token"


def send(http: httpx.Client, req: Req) -> int | None:
    """Send once and record the answer; None when there was none."""
    req.started = req.started or time.monotonic()
    try:
        r = http.request(req.method, req.path, json=req.body, headers=req.headers)
    except httpx.TransportError as exc:
        req.answers.append((None, repr(exc), {}))
        return None
    try:
        payload: Any = r.json()
    except ValueError:
        payload = r.text
    req.answers.append((r.status_code, payload, dict(r.headers)))
    return r.status_code


def concurrent_conflict(req: Req) -> bool:
    """The answer says that a request with the same token was in flight (send it again)."""
    status, payload, _ = req.answers[-1]
    return status == 409 and isinstance(payload, dict) and CONCURRENT in str(payload.get("detail"))


class Load:
    """Threads sending requests from a queue, each thread with its own HTTP client. A request
    answered 409 "concurrent request" is sent again at once (what the answer asks for).
    `stop()` makes the threads finish the request in hand and leave."""

    def __init__(self, base: str, reqs: list[Req], threads: int = 8, keepalive: bool = True) -> None:
        self.base = base
        self.queue: deque[Req] = deque(reqs)
        self.lock = threading.Lock()
        self.stopped = threading.Event()
        self.acked_toks: set[Tok] = set()  # ratings acknowledged (2xx) so far
        self.sent: list[Req] = []  # every request sent, in order
        self.in_flight: dict[int, float] = {}  # id(request) → when its attempt in progress was sent
        self.limits = httpx.Limits(max_keepalive_connections=None if keepalive else 0)
        self.threads = [threading.Thread(target=self._run, daemon=True) for _ in range(threads)]

    def start(self) -> Load:
        for t in self.threads:
            t.start()
        return self

    def add_thread(self) -> None:
        """One more sending thread: it takes the next request of the queue."""
        thread = threading.Thread(target=self._run, daemon=True)
        self.threads.append(thread)
        thread.start()

    def _attempt(self, http: httpx.Client, req: Req) -> int | None:
        """`send`, counted in `in_flight` from just before the request is sent until its answer
        (or failure) is recorded."""
        with self.lock:
            self.in_flight[id(req)] = time.monotonic()
        try:
            return send(http, req)
        finally:
            with self.lock:
                del self.in_flight[id(req)]

    def sent_since(self, since: float) -> bool:
        """A request sent at or after `since` (time.monotonic()) is still waiting for its answer."""
        with self.lock:
            return any(at >= since for at in self.in_flight.values())

    def _run(self) -> None:
        with httpx.Client(base_url=self.base, timeout=30, limits=self.limits) as http:
            while not self.stopped.is_set():
                with self.lock:
                    if not self.queue:
                        return
                    req = self.queue.popleft()
                    self.sent.append(req)
                status = self._attempt(http, req)
                for _ in range(5):
                    if not concurrent_conflict(req) or self.stopped.is_set():
                        break
                    status = self._attempt(http, req)
                if status is not None and 200 <= status < 300:
                    with self.lock:
                        self.acked_toks.update(acknowledged_in(req.answers[-1], req))

    @property
    def acked(self) -> int:
        return len(self.acked_toks)

    def wait_acked(self, n: int, within: float) -> None:
        deadline = time.monotonic() + within
        while self.acked < n:
            assert time.monotonic() < deadline, f"only {self.acked} ratings acknowledged in {within} s"
            assert any(t.is_alive() for t in self.threads), "the load ended early"
            time.sleep(0.01)

    def stop(self) -> None:
        self.stopped.set()
        self.join(60)

    def join(self, within: float) -> None:
        deadline = time.monotonic() + within
        for t in self.threads:
            t.join(max(0.0, deadline - time.monotonic()))
        assert not any(t.is_alive() for t in self.threads), f"load threads still running after {within} s"


def pause_with_a_request_in_flight(server: Server, load: Load, within: float = 60) -> None:
    """Stop the server (`Server.pause`) and return once a request of the load is known to be in
    flight, never on a timer alone (`within` only bounds the wait): a load thread started after
    the stop (the running ones may all be waiting for answers to requests the server had
    already read) has sent the next request of the queue and waits for its answer, and the
    kernel holds request bytes the stopped server has not read. A SIGKILL from then on finds
    that request unanswered; the client sees no answer and must retry it."""
    with load.lock:
        assert load.queue, "the load sent everything before the server was stopped"
    server.pause()
    stopped_at = time.monotonic()
    load.add_thread()
    deadline = stopped_at + within
    while not (load.sent_since(stopped_at) and server.unread_requests() > 0):
        assert time.monotonic() < deadline, (
            f"no request reached the stopped server in {within} s "
            f"(in flight: {len(load.in_flight)}, unread: {server.unread_requests()})"
        )
        assert any(t.is_alive() for t in load.threads), "the load ended early"
        time.sleep(0.01)


def acknowledged_in(answer: tuple[int | None, Any, dict[str, str]], req: Req) -> list[Tok]:
    """The ratings a 2xx answer acknowledges: the single rating, or the batch items with ok."""
    status, payload, _ = answer
    if status is None or not 200 <= status < 300 or not req.toks:
        return []
    if req.path.endswith("/ratings/batch"):
        return [t for t, item in zip(req.toks, payload["items"], strict=True) if item["ok"]]
    return list(req.toks)


def acknowledged(reqs: list[Req]) -> set[Tok]:
    return {t for r in reqs for a in r.answers for t in acknowledged_in(a, r)}


# --- database checks -------------------------------------------------------------------------------
def check_database(url: str, sent: set[Tok], acked: set[Tok]) -> dict[str, int]:
    """The stored state after a load: every acknowledged rating is present exactly once with
    what it said, nothing is stored twice, nothing that was not sent is stored, every claimed
    token has its rating and every rating its claimed token (nothing half-stored), one offer
    per issued token, one case per counted bad rating, and the roll-up table equals a full
    recount from the raw ratings (`rebuild_rollups`), row for row."""
    from sqlalchemy import create_engine, text
    from sqlmodel import Session

    from surveys.rollup import rebuild_rollups

    engine = create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
    try:
        with engine.connect() as c:
            ratings = c.execute(
                text(
                    "SELECT o.code, r.transaction_ref, r.level, r.flags, r.id FROM rating r "
                    "JOIN assessed_object o ON o.id = r.object_id"
                )
            ).all()
            tokens = c.execute(
                text(
                    "SELECT o.code, t.transaction_ref, t.state FROM rating_token t "
                    "JOIN assessed_object o ON o.id = t.object_id"
                )
            ).all()
            offers = int(c.execute(text("SELECT COALESCE(SUM(n_offered), 0) FROM offer_daily")).scalar_one())
            cases = sorted(int(x) for x in c.execute(text("SELECT rating_id FROM rating_case")).scalars())
        counts = Counter((code, ref) for code, ref, *_ in ratings)
        twice = sorted(k for k, n in counts.items() if n > 1)
        assert not twice, f"stored twice: {twice[:5]}"
        stored = {(code, ref): level for code, ref, level, _, _ in ratings}
        sent_keys = {(t.object, t.ref): t for t in sent}
        assert set(stored) <= set(sent_keys), "a rating that no request carried is stored"
        lost = sorted((t.object, t.ref) for t in acked if (t.object, t.ref) not in stored)
        assert not lost, f"{len(lost)} acknowledged ratings are missing, e.g. {lost[:5]}"
        wrong = [k for k, level in stored.items() if sent_keys[k].level != level]
        assert not wrong, f"ratings stored with another level than sent: {wrong[:5]}"
        used = {(code, ref) for code, ref, state in tokens if state == "used"}
        assert used == set(stored), (
            f"claimed tokens without a rating: {sorted(used - set(stored))[:5]}; "
            f"ratings without a claimed token: {sorted(set(stored) - used)[:5]}"
        )
        assert offers == len(tokens), f"{offers} offers counted for {len(tokens)} tokens"
        assert all(flags == "" for *_, flags, _ in ratings), (
            "ratings held by burst detection (limits too low)"
        )
        assert cases == sorted(rid for _, _, level, _, rid in ratings if level <= 2)
        cols = "object_id, day, n1, n2, n3, n4, n5"
        with Session(engine) as s:
            incremental = s.execute(text(f"SELECT {cols} FROM rating_daily ORDER BY object_id, day")).all()
            rebuild_rollups(s, date(2000, 1, 1), date(2200, 1, 1))
            recount = s.execute(text(f"SELECT {cols} FROM rating_daily ORDER BY object_id, day")).all()
            s.rollback()
        assert [tuple(r) for r in incremental] == [tuple(r) for r in recount], (
            "roll-ups differ from a recount"
        )
        assert sum(sum(r[2:]) for r in incremental) == len(ratings)
        return {"ratings": len(ratings), "tokens": len(tokens), "rollup_rows": len(incremental)}
    finally:
        engine.dispose()


# --- a private PostgreSQL cluster ------------------------------------------------------------------
def pg_bindir() -> Path | None:
    """The newest /usr/lib/postgresql/<version>/bin with initdb and pg_ctl, else pg_config's."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(p.split("/")[4]))
    if found:
        return Path(found[-1]).parent
    if shutil.which("pg_config"):
        out = subprocess.run(["pg_config", "--bindir"], capture_output=True, text=True, timeout=10)
        bindir = Path(out.stdout.strip())
        if (bindir / "initdb").exists() and (bindir / "pg_ctl").exists():
            return bindir
    return None


class Cluster:
    """A throw-away PostgreSQL cluster (initdb in a temporary directory, its own port and
    socket directory) that a test may stop and start; as root it runs as the postgres user."""

    def __init__(self, bindir: Path, base: Path, as_user: list[str]) -> None:
        self.bindir, self.base, self.as_user = bindir, base, as_user
        self.port = free_port()
        self.data = base / "data"
        self.url = f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, *args: str, timeout: float = 60) -> None:
        out = subprocess.run([*self.as_user, *args], capture_output=True, text=True, timeout=timeout)
        if out.returncode != 0:
            log = (self.base / "log").read_text() if (self.base / "log").exists() else ""
            raise AssertionError(f"{' '.join(args)} failed: {out.stdout}{out.stderr}{log}")

    def init(self) -> None:
        self._run(
            str(self.bindir / "initdb"), "-D", str(self.data), "-A", "trust", "-U", "postgres",
            "-E", "UTF8", "--locale=C", "--no-sync",
        )  # fmt: skip

    def start(self) -> None:
        options = f"-p {self.port} -k {self.base} -c listen_addresses=127.0.0.1 -c max_connections=60"
        self._run(
            str(self.bindir / "pg_ctl"), "-D", str(self.data), "-o", options,
            "-l", str(self.base / "log"), "-w", "-t", "60", "start",
        )  # fmt: skip

    def stop(self, mode: str = "immediate") -> None:
        self._run(str(self.bindir / "pg_ctl"), "-D", str(self.data), "-m", mode, "-w", "-t", "60", "stop")


@contextlib.contextmanager
def private_cluster() -> Iterator[Cluster]:
    """A started private cluster, always stopped and removed afterwards. Raises LookupError
    when the PostgreSQL server binaries (or, as root, the postgres user) are missing."""
    bindir = pg_bindir()
    if bindir is None:
        raise LookupError("the PostgreSQL server binaries (initdb, pg_ctl) are not installed")
    as_user: list[str] = []
    base = Path(tempfile.mkdtemp(prefix="egov-pg-"))
    try:
        if os.geteuid() == 0:  # initdb and postgres refuse to run as root
            import pwd

            try:
                pw = pwd.getpwnam("postgres")
            except KeyError:
                raise LookupError("no postgres OS user to run a private cluster as") from None
            runuser = shutil.which("runuser")
            if runuser is None:
                raise LookupError("runuser is not installed (util-linux)")
            os.chown(base, pw.pw_uid, pw.pw_gid)
            as_user = [runuser, "-u", "postgres", "--"]
        cluster = Cluster(bindir, base, as_user)
        cluster.init()
        cluster.start()
        try:
            yield cluster
        finally:
            with contextlib.suppress(Exception):
                cluster.stop()
    finally:
        shutil.rmtree(base, ignore_errors=True)
