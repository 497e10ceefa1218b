"""Benchmark of the rating API (not a test): in one run,

1. single-rating throughput and p99 latency of POST /api/v1/ratings,
2. the same for a minimal FastAPI endpoint (POST /api/v1/bench-minimal: a small pydantic
   body, no database) served by the same app, middleware and uvicorn setup — the baseline,
3. batch throughput of POST /api/v1/ratings/batch (500 ratings a request).

Targets (issue 5): the rating endpoint reaches ≥ 40 % of the minimal endpoint's throughput;
batches reach ≥ 20,000 ratings/s. The server is `uvicorn` on 127.0.0.1 with the same
options for every phase (`--http`: uvicorn's HTTP parser, by default httptools when
installed, else h11); the load generator is a second process (asyncio, HTTP/1.1
keep-alive), bounded in requests and seconds. Tokens are issued beforehand through the
library (not measured), for SAFP's two citizen-facing applications (ONE_ACCOUNT,
OPEN_DATA_PLATFORM). The minimal and the rating phase alternate in `--rounds` rounds (default
3, each with its share of the requests), so that a load changing during the run (the machine
is shared) weighs on the baseline and on the rating endpoint alike; the ratio is over all
rounds, and each round's is printed too.

`--workers 1,2,4` (issue 8) runs the three phases once per worker count, each with a fresh
database and a fresh server (`uvicorn --workers N`), and prints every count's figures with
its ratio to the first count's (the baseline of the same run). With several workers the
server is used only once every worker answers (`GET /api/v1/bench-pid`, the worker's
process id); each load-generator connection asks it first, so the output shows how the
keep-alive connections were spread over the workers. Each phase also records the
machine's CPU use (from /proc/stat) and the load average.

    python3 bench/bench_ratings_api.py [--db sqlite|postgresql] [--requests 4000] [--batches 60]
                                       [--http auto|h11|httptools] [--workers 1[,2,4]]
                                       [--concurrency 8] [--batch-concurrency 2] [--rounds 3]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


# --- the server side ------------------------------------------------------------------------------
class Minimal(BaseModel):
    """The minimal endpoint's body: the rating's fields, validated, nothing else done."""

    model_config = ConfigDict(extra="forbid")
    token: str
    level: int
    good: list[str] = []
    better: list[str] = []
    comment: str = ""
    channel: str = ""
    language: str = ""


def bench_app() -> Any:
    """The rating app plus a minimal endpoint on the same stack (uvicorn --factory)."""
    from egov.app import create_app

    app = create_app()

    @app.post("/api/v1/bench-minimal", include_in_schema=False)
    def minimal(body: Minimal) -> dict[str, Any]:
        return {"receipt": body.token[:8], "status": "accepted", "amended": False, "question_version": "x"}

    @app.get("/api/v1/bench-pid", include_in_schema=False)
    async def pid() -> dict[str, int]:
        return {"pid": os.getpid()}

    return app


# --- the load generator (second process) ------------------------------------------------------------
async def _request(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, method: str, path: str, body: bytes
) -> tuple[int, bytes]:
    head_out = f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
    if method == "POST":
        head_out += f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n"
    writer.write((head_out + "\r\n").encode() + body)
    await writer.drain()
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    length = 0
    for line in head.split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            length = int(line.split(b":", 1)[1])
    return status, await reader.readexactly(length)


async def _connect(port: int) -> tuple[asyncio.StreamReader, asyncio.StreamWriter, int]:
    """A keep-alive connection and the process id of the server worker that holds it."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    _, payload = await _request(reader, writer, "GET", "/api/v1/bench-pid", b"")
    return reader, writer, int(json.loads(payload)["pid"])


async def _connections(
    port: int, concurrency: int, workers: int
) -> list[tuple[asyncio.StreamReader, asyncio.StreamWriter, int]]:
    """`concurrency` connections, opened one after the other before the clock starts. With
    several workers, a connection is reopened (at most 200 tries in all) while its worker
    already holds its share (`concurrency` ÷ `workers`, rounded up): which worker accepts a
    connection is the kernel's and the event loops' race, and a worker that wakes first
    accepts every waiting connection, so unbalanced keep-alive connections would measure
    one busy worker and idle others."""
    quota = -(-concurrency // max(workers, 1))
    conns: list[tuple[asyncio.StreamReader, asyncio.StreamWriter, int]] = []
    held: dict[int, int] = {}
    tries = 0
    while len(conns) < concurrency:
        reader, writer, pid = await _connect(port)
        tries += 1
        if workers > 1 and held.get(pid, 0) >= quota and tries < 200:
            writer.close()
            continue
        held[pid] = held.get(pid, 0) + 1
        conns.append((reader, writer, pid))
    return conns


async def _worker(
    conn: tuple[asyncio.StreamReader, asyncio.StreamWriter, int],
    bodies: list[bytes],
    path: str,
    start: int,
    step: int,
    lat: list[float],
    deadline: float,
) -> int:
    reader, writer, _ = conn
    errors = 0
    try:
        for i in range(start, len(bodies), step):
            if time.perf_counter() > deadline:
                break
            t0 = time.perf_counter()
            status, payload = await _request(reader, writer, "POST", path, bodies[i])
            lat.append(time.perf_counter() - t0)
            if status != 200 or b'"ok":false' in payload:
                errors += 1
    finally:
        writer.close()
    return errors


async def _load(
    port: int, path: str, bodies: list[bytes], concurrency: int, max_seconds: float, balance: int
) -> dict[str, Any]:
    lat: list[float] = []
    conns = await _connections(port, concurrency, balance)
    pids = [c[2] for c in conns]
    t0 = time.perf_counter()
    errs = await asyncio.gather(
        *[_worker(conn, bodies, path, k, concurrency, lat, t0 + max_seconds) for k, conn in enumerate(conns)]
    )
    elapsed = time.perf_counter() - t0
    lat.sort()
    return {
        "requests": len(lat),
        "errors": sum(errs),
        "seconds": elapsed,
        "rps": len(lat) / elapsed,
        "p50_ms": lat[len(lat) // 2] * 1000 if lat else None,
        "p99_ms": lat[min(len(lat) - 1, int(len(lat) * 0.99))] * 1000 if lat else None,
        # keep-alive connections per server worker, most first
        "connections_per_worker": sorted((pids.count(p) for p in set(pids)), reverse=True),
    }


def loadgen_main(spec_file: str) -> None:
    spec = json.loads(Path(spec_file).read_text())
    bodies = [b.encode() for b in spec["bodies"]]
    out = asyncio.run(
        _load(spec["port"], spec["path"], bodies, spec["concurrency"], spec["max_seconds"], spec["balance"])
    )
    print(json.dumps(out))


def run_loadgen(
    tmp: Path, port: int, path: str, bodies: list[str], concurrency: int, max_seconds: float, balance: int = 0
) -> dict[str, Any]:
    """One phase in a second process; `balance`: the server's worker count, to spread the
    connections evenly over the workers (0: as the kernel hands them out)."""
    spec = tmp / f"spec-{uuid.uuid4().hex[:6]}.json"
    spec.write_text(
        json.dumps(
            {
                "port": port,
                "path": path,
                "bodies": bodies,
                "concurrency": concurrency,
                "max_seconds": max_seconds,
                "balance": balance,
            }
        )
    )
    cpu0 = cpu_times()
    proc = subprocess.run(
        [sys.executable, __file__, "loadgen", str(spec)],
        capture_output=True,
        text=True,
        timeout=max_seconds + 60,
    )
    cpu1 = cpu_times()
    if proc.returncode != 0:
        raise SystemExit(proc.stderr)
    out = dict(json.loads(proc.stdout.strip().splitlines()[-1]))
    if cpu0 and cpu1:  # share of the machine's CPU time that was busy during the phase
        total = sum(cpu1) - sum(cpu0)
        idle = (cpu1[3] + cpu1[4]) - (cpu0[3] + cpu0[4])
        out["cpu_busy"] = round(1 - idle / total, 3) if total else None
    out["loadavg_1min"] = round(os.getloadavg()[0], 2)
    return out


def combine(phases: list[dict[str, Any]]) -> dict[str, Any]:
    """Several rounds of one phase as one: requests ÷ seconds over all of them, the worst
    round's p99 (the latencies themselves stay in the load generator), the first round's
    connections, the mean CPU use."""
    requests, seconds = sum(p["requests"] for p in phases), sum(p["seconds"] for p in phases)
    busy = [p["cpu_busy"] for p in phases if p.get("cpu_busy") is not None]
    return {
        "requests": requests,
        "errors": sum(p["errors"] for p in phases),
        "seconds": seconds,
        "rps": requests / seconds,
        "p99_ms": max(p["p99_ms"] for p in phases if p["p99_ms"] is not None),
        "connections_per_worker": phases[0]["connections_per_worker"],
        "cpu_busy": round(sum(busy) / len(busy), 3) if busy else None,
        "loadavg_1min": phases[-1]["loadavg_1min"],
        "rounds": len(phases),
    }


def cpu_times() -> list[int]:
    """The machine's CPU time counters (user, nice, system, idle, iowait, …), or [] off Linux."""
    try:
        with open("/proc/stat", encoding="ascii") as fh:
            return [int(v) for v in fh.readline().split()[1:]]
    except OSError:
        return []


# --- orchestration ----------------------------------------------------------------------------------
def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def pg_url() -> tuple[str, str]:
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    admin = os.environ.get("EGOV_TEST_PG_ADMIN", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
    name = f"egov_bench_{uuid.uuid4().hex[:8]}"
    eng = create_engine(admin, isolation_level="AUTOCOMMIT")
    with eng.connect() as c:
        c.execute(text(f'CREATE DATABASE "{name}"'))
    eng.dispose()
    return make_url(admin).set(database=name).render_as_string(hide_password=False), admin


def drop_pg(url: str, admin: str) -> None:
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    eng = create_engine(admin, isolation_level="AUTOCOMMIT")
    with eng.connect() as c:
        c.execute(text(f'DROP DATABASE IF EXISTS "{make_url(url).database}" WITH (FORCE)'))
    eng.dispose()


def prepare(url: str, n_tokens: int) -> list[str]:
    """Schema, register, a department key and n_tokens rating tokens (library calls)."""
    from egov.auth import authenticate, create_key
    from egov.db import dispose_engines, init_db, session_scope
    from egov.demo import load_toml
    from egov.store import load_register
    from surveys.schemas import TokenRequest
    from surveys.tokens import issue_tokens

    init_db(url)
    with session_scope(url) as s:
        load_register(s, load_toml("macau_register.toml"))
        key, _ = create_key(s, "department", "SAFP", "bench")
    # SAFP's citizen-facing applications (DOC_FILE_SYSTEM and G2E_PLATFORM are internal: no tokens)
    objects = ["ONE_ACCOUNT", "OPEN_DATA_PLATFORM"]
    tokens: list[str] = []
    for start in range(0, n_tokens, 500):
        with session_scope(url) as s:
            who = authenticate(s, key)
            assert who is not None
            reqs = [
                TokenRequest(
                    object=objects[i % len(objects)], transaction_ref=f"bench-{i}", citizen_id=f"c{i}"
                )
                for i in range(start, min(n_tokens, start + 500))
            ]
            tokens += [t.token for t in issue_tokens(s, who, reqs)]
    dispose_engines()
    return tokens


def _body(token: str, i: int) -> dict[str, Any]:
    level = 1 + i % 5
    return {
        "token": token,
        "level": level,
        "good": ["ease"] if level >= 4 else [],
        "better": ["efficiency"] if level <= 2 else [],
        "comment": "bench",
        "channel": "app",
        "language": "zh-Hant",
    }


def start_server(
    port: int, workers: int, http: str, env: dict[str, str], listener: str
) -> subprocess.Popen[bytes]:
    """The server: `python -m uvicorn … --workers N` as a user would start it, or (listener
    "tcp", with several workers) the same supervisor started by `serve_main` below."""
    options = ["--http", http, "--log-level", "warning", "--no-access-log"]
    if listener == "tcp" and workers > 1:
        cmd = [sys.executable, __file__, "serve", str(port), str(workers), http]
    else:
        cmd = [
            sys.executable,
            "-m",
            "uvicorn",
            "bench.bench_ratings_api:bench_app",
            "--factory",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--workers",
            str(workers),
            *options,
        ]
    return subprocess.Popen(cmd, cwd=ROOT, env=env)


def serve_main(port: int, workers: int, http: str) -> None:
    """`uvicorn --workers N`, except that the listening socket is created with
    IPPROTO_TCP. uvicorn 0.54 binds it with `socket.socket(family)` (proto 0); accepted
    connections inherit proto 0 and asyncio then skips TCP_NODELAY (it sets it only when
    proto is IPPROTO_TCP), so with several workers every keep-alive response whose head
    and body go out in two writes waits for the client's delayed ACK (about 40 ms on
    Linux). One worker is not affected: uvicorn passes host and port to asyncio there.
    (uvicorn issue #3149.)"""
    import uvicorn
    from uvicorn.supervisors import Multiprocess

    config = uvicorn.Config(
        "bench.bench_ratings_api:bench_app",
        factory=True,
        host="127.0.0.1",
        port=port,
        workers=workers,
        http=http,
        log_level="warning",
        access_log=False,
    )
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", port))
    sock.set_inheritable(True)
    Multiprocess(config, sockets=[sock]).run()


def wait_ready(server: subprocess.Popen[bytes], port: int, workers: int, timeout: float = 60) -> float:
    """Seconds until every worker has answered GET /api/v1/bench-pid (a new connection each
    time: which worker accepts it is the kernel's choice). With several workers the
    listening socket is open before the workers have imported the app, so a successful
    connect alone does not mean the server is ready."""
    t0 = time.monotonic()
    seen: set[int] = set()
    req = b"GET /api/v1/bench-pid HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
    while len(seen) < workers:
        if time.monotonic() - t0 > timeout or server.poll() is not None:
            raise SystemExit(f"server did not start: {len(seen)} of {workers} worker(s) answered")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=2) as sock:
                sock.sendall(req)
                data = b""
                while chunk := sock.recv(4096):
                    data += chunk
            seen.add(int(json.loads(data.split(b"\r\n\r\n", 1)[1])["pid"]))
        except (OSError, ValueError, KeyError, IndexError):
            time.sleep(0.1)
    return time.monotonic() - t0


def run_once(args: argparse.Namespace, workers: int, http_impl: str, tmp: Path) -> dict[str, Any]:
    """The three phases against a fresh database and a fresh server with `workers` workers."""
    admin = ""
    if args.db == "sqlite":
        url = f"sqlite:///{tmp / f'bench-{workers}-{uuid.uuid4().hex[:6]}.db'}"
    else:
        url, admin = pg_url()
    env = {k: v for k, v in os.environ.items() if not k.startswith("EGOV_")}
    env.update(
        {
            "EGOV_DATABASE_URL": url,
            "EGOV_SECRET_KEY": "bench-secret",
            "EGOV_RATE_LIMIT_CLIENT": "100000000",
            "EGOV_RATE_LIMIT_ISSUER": "100000000",
            "EGOV_BURST_OBJECT_MAX": "100000000",
            "EGOV_BURST_ISSUER_MAX": "100000000",
            "PYTHONPATH": str(ROOT),
        }
    )
    os.environ.update({"EGOV_SECRET_KEY": "bench-secret"})
    server = None
    try:
        t0 = time.perf_counter()
        tokens = prepare(url, args.requests + 500 * args.batches)
        print(
            f"[{workers} worker(s)] prepared {len(tokens)} tokens in {time.perf_counter() - t0:.1f} s ({args.db})",
            file=sys.stderr,
        )
        port = free_port()
        server = start_server(port, workers, http_impl, env, args.listener)
        ready = wait_ready(server, port, workers)
        single = [json.dumps(_body(t, i)) for i, t in enumerate(tokens[: args.requests])]
        # warm-up (not measured): 200 minimal requests
        bal = workers if args.balance else 0
        run_loadgen(tmp, port, "/api/v1/bench-minimal", single[:200], args.concurrency, 10, bal)
        # the minimal and the rating phase alternate in rounds (each round a share of the
        # requests): a load that changes during the run then weighs on both alike
        rounds: list[tuple[dict[str, Any], dict[str, Any]]] = []
        for k in range(args.rounds):
            part = single[k * len(single) // args.rounds : (k + 1) * len(single) // args.rounds]
            seconds = args.max_seconds / args.rounds
            m = run_loadgen(tmp, port, "/api/v1/bench-minimal", part, args.concurrency, seconds, bal)
            rounds.append(
                (m, run_loadgen(tmp, port, "/api/v1/ratings", part, args.concurrency, seconds, bal))
            )
        minimal, rating = combine([m for m, _ in rounds]), combine([g for _, g in rounds])
        rest = tokens[args.requests :]
        batches = [
            json.dumps({"items": [_body(t, i) for i, t in enumerate(rest[k : k + 500])]})
            for k in range(0, len(rest), 500)
        ]
        batch = run_loadgen(
            tmp, port, "/api/v1/ratings/batch", batches, args.batch_concurrency, args.max_seconds, bal
        )
        batch["ratings_per_s"] = batch["rps"] * 500
        return {
            "workers": workers,
            "listener": args.listener,
            "balanced": bool(args.balance),
            "ready_seconds": round(ready, 2),
            "minimal": minimal,
            "rating": rating,
            "rating_vs_minimal": rating["rps"] / minimal["rps"],
            "rating_vs_minimal_by_round": [round(g["rps"] / m["rps"], 3) for m, g in rounds],
            "batch": batch,
        }
    finally:
        if server is not None:
            server.terminate()  # uvicorn's supervisor stops its workers on SIGTERM
            try:
                server.wait(timeout=20)
            except subprocess.TimeoutExpired:
                server.kill()
        if admin:
            drop_pg(url, admin)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--db", choices=["sqlite", "postgresql"], default="sqlite", help="database engine")
    ap.add_argument("--requests", type=int, default=4000, help="single requests per endpoint (bound)")
    ap.add_argument("--batches", type=int, default=60, help="batch requests of 500 ratings (bound)")
    ap.add_argument("--concurrency", type=int, default=8, help="connections of the load generator")
    ap.add_argument(
        "--batch-concurrency",
        type=int,
        default=2,
        help="connections of the load generator in the batch phase",
    )
    ap.add_argument("--max-seconds", type=float, default=60, help="time bound of each phase")
    ap.add_argument(
        "--rounds",
        type=int,
        default=3,
        help="the minimal and the rating phase alternate this many times, each round with its "
        "share of --requests (the ratio is over all rounds; each round's is printed too)",
    )
    ap.add_argument(
        "--workers",
        default="1",
        help="uvicorn worker processes, or several comma-separated counts (e.g. 1,2,4: one server "
        "and one fresh database each; ratios to the first count)",
    )
    ap.add_argument(
        "--balance",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="with several workers: spread the load generator's connections evenly over them "
        "(reconnect while a worker holds its share); --no-balance: as the kernel hands them out",
    )
    ap.add_argument(
        "--listener",
        choices=["tcp", "uvicorn"],
        default="tcp",
        help="with several workers: tcp = the listening socket created with IPPROTO_TCP so that "
        "connections get TCP_NODELAY (see serve_main); uvicorn = plain `uvicorn --workers N` "
        "(uvicorn 0.54: no TCP_NODELAY, a delayed ACK on most responses)",
    )
    ap.add_argument(
        "--http",
        choices=["auto", "h11", "httptools"],
        default="auto",
        help="uvicorn's HTTP implementation (all phases; auto = httptools when installed)",
    )
    args = ap.parse_args()
    try:
        counts = [int(w) for w in args.workers.split(",")]
    except ValueError:
        raise SystemExit(f"--workers {args.workers!r}: give counts like 1 or 1,2,4") from None
    if not counts or min(counts) < 1:
        raise SystemExit("--workers: every count must be at least 1")
    if not 1 <= args.rounds <= args.requests:
        raise SystemExit("--rounds: at least 1 and at most --requests")
    http_impl = args.http
    if http_impl == "auto":
        import importlib.util

        http_impl = "httptools" if importlib.util.find_spec("httptools") else "h11"

    tmp = Path(tempfile.mkdtemp(prefix="egov-bench-"))
    try:
        runs = [run_once(args, w, http_impl, tmp) for w in counts]
    finally:  # the SQLite files and the load generator's request bodies
        shutil.rmtree(tmp, ignore_errors=True)
    base = runs[0]
    for r in runs:
        r["rating_vs_base_workers"] = r["rating"]["rps"] / base["rating"]["rps"]
        r["batch_vs_base_workers"] = r["batch"]["ratings_per_s"] / base["batch"]["ratings_per_s"]
        r["minimal_vs_base_workers"] = r["minimal"]["rps"] / base["minimal"]["rps"]
    print(json.dumps({"db": args.db, "http": http_impl, "cpus": os.cpu_count(), "runs": runs}, indent=2))
    print()
    for r in runs:
        m, g, b = r["minimal"], r["rating"], r["batch"]
        print(
            f"| {args.db}, {http_impl}, {r['workers']} worker(s), listener {args.listener}{'' if args.balance else ', unbalanced'} | {m['rps']:.0f} req/s, p99 {m['p99_ms']:.1f} ms | "
            f"{g['rps']:.0f} req/s, p99 {g['p99_ms']:.1f} ms | {r['rating_vs_minimal'] * 100:.0f} % "
            f"(rounds: {', '.join(f'{x * 100:.0f}' for x in r['rating_vs_minimal_by_round'])} %) | "
            f"{b['ratings_per_s']:.0f} ratings/s (p99 {b['p99_ms']:.0f} ms per 500) | "
            f"x{r['rating_vs_base_workers']:.2f} / x{r['batch_vs_base_workers']:.2f} vs {base['workers']} worker(s) | "
            f"errors {m['errors']}/{g['errors']}/{b['errors']} | connections per worker "
            f"{m['connections_per_worker']}/{g['connections_per_worker']}/{b['connections_per_worker']} | "
            f"CPU busy {m.get('cpu_busy')}/{g.get('cpu_busy')}/{b.get('cpu_busy')} |"
        )


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "loadgen":
        loadgen_main(sys.argv[2])
    elif len(sys.argv) == 5 and sys.argv[1] == "serve":
        serve_main(int(sys.argv[2]), int(sys.argv[3]), sys.argv[4])
    else:
        main()
