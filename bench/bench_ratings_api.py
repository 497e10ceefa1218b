"""Benchmark of the rating API (not a test): in one run,

1. single-rating throughput and p99 latency of POST /api/v1/ratings,
2. the same for a minimal FastAPI endpoint (POST /bench/minimal: a small pydantic body,
   no database) served by the same app, middleware and uvicorn setup — the baseline,
3. batch throughput of POST /api/v1/ratings/batch (500 ratings a request).

Targets (issue 5): the rating endpoint reaches ≥ 40 % of the minimal endpoint's throughput;
batches reach ≥ 20,000 ratings/s. The server is `uvicorn` with one worker on 127.0.0.1 and
the same options for every phase (`--http`: uvicorn's HTTP parser, by default httptools when
installed, else h11); the load generator is a second process (asyncio, HTTP/1.1
keep-alive), bounded in requests and seconds. Tokens are issued beforehand through the
library (not measured).

    python3 bench/bench_ratings_api.py [--db sqlite|postgresql] [--requests 4000] [--batches 60]
                                       [--http auto|h11|httptools]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
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
    from surveys.api import create_app

    app = create_app()

    @app.post("/api/v1/bench-minimal", include_in_schema=False)
    def minimal(body: Minimal) -> dict[str, Any]:
        return {"receipt": body.token[:8], "status": "accepted", "amended": False, "question_version": "x"}

    return app


# --- the load generator (second process) ------------------------------------------------------------
async def _worker(
    port: int, bodies: list[bytes], path: str, start: int, step: int, lat: list[float], deadline: float
) -> int:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    errors = 0
    try:
        for i in range(start, len(bodies), step):
            if time.perf_counter() > deadline:
                break
            body = bodies[i]
            req = (
                f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                f"Content-Length: {len(body)}\r\n\r\n"
            ).encode() + body
            t0 = time.perf_counter()
            writer.write(req)
            await writer.drain()
            head = await reader.readuntil(b"\r\n\r\n")
            status = int(head.split(b" ", 2)[1])
            length = 0
            for line in head.split(b"\r\n"):
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":", 1)[1])
            payload = await reader.readexactly(length)
            lat.append(time.perf_counter() - t0)
            if status != 200 or b'"ok":false' in payload:
                errors += 1
    finally:
        writer.close()
    return errors


async def _load(
    port: int, path: str, bodies: list[bytes], concurrency: int, max_seconds: float
) -> dict[str, Any]:
    lat: list[float] = []
    t0 = time.perf_counter()
    errs = await asyncio.gather(
        *[_worker(port, bodies, path, k, concurrency, lat, t0 + max_seconds) for k in range(concurrency)]
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
    }


def loadgen_main(spec_file: str) -> None:
    spec = json.loads(Path(spec_file).read_text())
    bodies = [b.encode() for b in spec["bodies"]]
    out = asyncio.run(_load(spec["port"], spec["path"], bodies, spec["concurrency"], spec["max_seconds"]))
    print(json.dumps(out))


def run_loadgen(
    tmp: Path, port: int, path: str, bodies: list[str], concurrency: int, max_seconds: float
) -> dict[str, Any]:
    spec = tmp / f"spec-{uuid.uuid4().hex[:6]}.json"
    spec.write_text(
        json.dumps(
            {
                "port": port,
                "path": path,
                "bodies": bodies,
                "concurrency": concurrency,
                "max_seconds": max_seconds,
            }
        )
    )
    proc = subprocess.run(
        [sys.executable, __file__, "loadgen", str(spec)],
        capture_output=True,
        text=True,
        timeout=max_seconds + 60,
    )
    if proc.returncode != 0:
        raise SystemExit(proc.stderr)
    return dict(json.loads(proc.stdout.strip().splitlines()[-1]))


# --- orchestration ----------------------------------------------------------------------------------
def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _pg_url() -> tuple[str, str]:
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    admin = os.environ.get("EGOV_TEST_PG_ADMIN", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
    name = f"egov_bench_{uuid.uuid4().hex[:8]}"
    eng = create_engine(admin, isolation_level="AUTOCOMMIT")
    with eng.connect() as c:
        c.execute(text(f'CREATE DATABASE "{name}"'))
    eng.dispose()
    return make_url(admin).set(database=name).render_as_string(hide_password=False), admin


def _drop_pg(url: str, admin: str) -> None:
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    eng = create_engine(admin, isolation_level="AUTOCOMMIT")
    with eng.connect() as c:
        c.execute(text(f'DROP DATABASE IF EXISTS "{make_url(url).database}" WITH (FORCE)'))
    eng.dispose()


def prepare(url: str, n_tokens: int) -> list[str]:
    """Schema, register, a department key and n_tokens rating tokens (library calls)."""
    from egov.db import dispose_engines, init_db, session_scope
    from egov.demo import load_toml
    from egov.store import load_register
    from surveys.schemas import TokenRequest
    from surveys.security import authenticate, create_key
    from surveys.service import issue_tokens

    init_db(url)
    with session_scope(url) as s:
        load_register(s, load_toml("macau_register.toml"))
        key, _ = create_key(s, "department", "SAFP", "bench")
    objects = ["ONE_ACCOUNT", "DOC_FILE_SYSTEM", "G2E_PLATFORM", "OPEN_DATA_PLATFORM"]
    tokens: list[str] = []
    for start in range(0, n_tokens, 500):
        with session_scope(url) as s:
            who = authenticate(s, key)
            assert who is not None
            reqs = [
                TokenRequest(object=objects[i % 4], transaction_ref=f"bench-{i}", citizen_id=f"c{i}")
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


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--db", choices=["sqlite", "postgresql"], default="sqlite", help="database engine")
    ap.add_argument("--requests", type=int, default=4000, help="single requests per endpoint (bound)")
    ap.add_argument("--batches", type=int, default=60, help="batch requests of 500 ratings (bound)")
    ap.add_argument("--concurrency", type=int, default=8, help="connections of the load generator")
    ap.add_argument("--max-seconds", type=float, default=60, help="time bound of each phase")
    ap.add_argument(
        "--http",
        choices=["auto", "h11", "httptools"],
        default="auto",
        help="uvicorn's HTTP implementation (all phases; auto = httptools when installed)",
    )
    args = ap.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="egov-bench-"))
    admin = ""
    if args.db == "sqlite":
        url = f"sqlite:///{tmp / 'bench.db'}"
    else:
        url, admin = _pg_url()
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
            f"prepared {len(tokens)} tokens in {time.perf_counter() - t0:.1f} s ({args.db})", file=sys.stderr
        )
        port = _free_port()
        http_impl = args.http
        if http_impl == "auto":
            import importlib.util

            http_impl = "httptools" if importlib.util.find_spec("httptools") else "h11"
        server = subprocess.Popen(
            [
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
                "1",
                "--http",
                args.http,
                "--log-level",
                "warning",
                "--no-access-log",
            ],
            cwd=ROOT,
            env=env,
        )
        deadline = time.monotonic() + 30
        while True:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                    break
            except OSError:
                if time.monotonic() > deadline or server.poll() is not None:
                    raise SystemExit("server did not start") from None
                time.sleep(0.1)
        single = [json.dumps(_body(t, i)) for i, t in enumerate(tokens[: args.requests])]
        # warm-up (not measured): 200 minimal requests
        run_loadgen(tmp, port, "/api/v1/bench-minimal", single[:200], args.concurrency, 10)
        minimal = run_loadgen(tmp, port, "/api/v1/bench-minimal", single, args.concurrency, args.max_seconds)
        rating = run_loadgen(tmp, port, "/api/v1/ratings", single, args.concurrency, args.max_seconds)
        rest = tokens[args.requests :]
        batches = [
            json.dumps({"items": [_body(t, i) for i, t in enumerate(rest[k : k + 500])]})
            for k in range(0, len(rest), 500)
        ]
        batch = run_loadgen(tmp, port, "/api/v1/ratings/batch", batches, 2, args.max_seconds)
        batch["ratings_per_s"] = batch["rps"] * 500
        result = {
            "db": args.db,
            "minimal": minimal,
            "rating": rating,
            "rating_vs_minimal": rating["rps"] / minimal["rps"],
            "batch": batch,
            "cpus": os.cpu_count(),
            "http": http_impl,
        }
        print(json.dumps(result, indent=2))
        print(
            f"\n| {args.db}, {http_impl} | {minimal['rps']:.0f} req/s, p99 {minimal['p99_ms']:.1f} ms | "
            f"{rating['rps']:.0f} req/s, p99 {rating['p99_ms']:.1f} ms | {result['rating_vs_minimal'] * 100:.0f} % | "
            f"{batch['ratings_per_s']:.0f} ratings/s (p99 {batch['p99_ms']:.0f} ms per 500) | errors {minimal['errors']}/{rating['errors']}/{batch['errors']} |"
        )
    finally:
        if server is not None:
            server.terminate()
            try:
                server.wait(timeout=10)
            except subprocess.TimeoutExpired:
                server.kill()
        if admin:
            _drop_pg(url, admin)


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "loadgen":
        loadgen_main(sys.argv[2])
    else:
        main()
