"""Benchmark of the rating channels and the public rating pages (not a test; issue 17 point 8).

In one run, against one fresh database and one `uvicorn` server (the app of
`bench.bench_ratings_api.bench_app`: `egov.app.create_app()` with every middleware, plus the
bare endpoints), a second process generating the load (asyncio, HTTP/1.1 keep-alive):

1. **minimal** (the baseline): `POST /api/v1/bench-minimal`, a pydantic body, no database;
   and **bare GET**: `GET /api/v1/bench-pid`, the baseline of the GET pages;
2. **counter**, per served ticket: the queue system's `POST /api/v1/tokens` naming the kiosk,
   window and staff code (department key), the kiosk's `GET /api/v1/kiosk/ticket` (device
   key), the citizen's `POST /api/v1/ratings` with the ticket's token and channel `counter`.
   Each connection is one kiosk (a kiosk shows only the last ticket queued for it);
3. **hotline single**, per call: `POST /api/v1/tokens` (the agent as `staff`) and
   `POST /api/v1/ratings` with channel `hotline`;
4. **hotline batch**, per queue of 500 calls: `POST /api/v1/tokens/batch` and
   `POST /api/v1/ratings/batch`;
5. **public pages**, after the ratings above, the period's figures cached (a warm-up request
   first): `/public/`, `/public/ratings/{period}/`, `/public/ratings/{period}/departments/SAFP`,
   each with a full answer (200) and with the ETag sent back in `If-None-Match` (304).

Every figure is printed with its ratio to the minimal endpoint of the same run (tickets, calls
or pages per second ÷ minimal requests per second). Nothing is held: rate limits and burst
thresholds are set to 10^8.

    python3 bench/bench_channels.py [--db sqlite|postgresql] [--tickets 1000] [--calls 1000]
                                    [--batches 8] [--requests 3000] [--concurrency 8]
"""

from __future__ import annotations

import argparse
import asyncio
import http.client
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import date
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.bench_ratings_api import (  # noqa: E402
    cpu_times,
    drop_pg,
    free_port,
    pg_url,
    start_server,
    wait_ready,
)

COUNTER = "BENCH_SERVICE_COUNTER"  # the bench's counter object (the built-in register has none)
ITEM = "BENCH_COUNTER_ITEM"
OBJECTS = ["ONE_ACCOUNT", "OPEN_DATA_PLATFORM"]  # SAFP's citizen-facing applications


# --- the load generator (second process) ------------------------------------------------------------
# A unit is what one served ticket, call, queue or page view costs: one or more requests on the same
# keep-alive connection, one after the other. A step with "rate" builds its body from the answer of
# the step before (its token, or its items' tokens), as the kiosk and the call centre do.
async def _request(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, step: dict[str, Any], body: bytes
) -> tuple[int, bytes]:
    head = f"{step['m']} {step['p']} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
    for name, value in step.get("h", {}).items():
        head += f"{name}: {value}\r\n"
    if step["m"] == "POST":
        head += f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n"
    writer.write((head + "\r\n").encode() + body)
    await writer.drain()
    answer = await reader.readuntil(b"\r\n\r\n")
    status = int(answer.split(b" ", 2)[1])
    length = 0
    for line in answer.split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            length = int(line.split(b":", 1)[1])
    return status, await reader.readexactly(length)


def _body_of(step: dict[str, Any], previous: bytes) -> bytes:
    template = step.get("rate")
    if template is None:
        return str(step.get("b") or "").encode()
    answer = json.loads(previous)
    if isinstance(template, dict):
        return json.dumps({**template, "token": answer["token"]}).encode()
    tokens = [item["token"] for item in answer["items"]]
    return json.dumps(
        {"items": [{**t, "token": tok} for t, tok in zip(template, tokens, strict=True)]}
    ).encode()


async def _connection_worker(
    port: int, units: list[list[dict[str, Any]]], start: int, step: int, out: dict[str, Any], deadline: float
) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        for i in range(start, len(units), step):
            if time.perf_counter() > deadline:
                break
            t0, previous = time.perf_counter(), b""
            for s in units[i]:
                t1 = time.perf_counter()
                try:
                    status, previous = await _request(reader, writer, s, _body_of(s, previous))
                except (KeyError, ValueError):  # the step before gave no token: counted, unit ends
                    out["errors"] += 1
                    break
                out["requests"] += 1
                name = f"{s['m']} {s['p'].split('?')[0]}"
                out["steps"][name] = out["steps"].get(name, 0.0) + time.perf_counter() - t1
                if status != s.get("expect", 200) or b'"ok":false' in previous:
                    out["errors"] += 1
                    out.setdefault("first_error", f"{s['m']} {s['p']}: {status} {previous[:300]!r}")
            out["lat"].append(time.perf_counter() - t0)
    finally:
        writer.close()


async def _load(
    port: int, units: list[list[dict[str, Any]]], concurrency: int, max_seconds: float
) -> dict[str, Any]:
    out: dict[str, Any] = {"requests": 0, "errors": 0, "lat": [], "steps": {}}
    t0 = time.perf_counter()
    await asyncio.gather(
        *[_connection_worker(port, units, k, concurrency, out, t0 + max_seconds) for k in range(concurrency)]
    )
    elapsed = time.perf_counter() - t0
    lat = sorted(out["lat"])
    return {
        "first_error": out.get("first_error"),
        "units": len(lat),
        "requests": out["requests"],
        "errors": out["errors"],
        "seconds": elapsed,
        "units_per_s": len(lat) / elapsed,
        "requests_per_s": out["requests"] / elapsed,
        "p50_ms": lat[len(lat) // 2] * 1000 if lat else None,
        "p99_ms": lat[min(len(lat) - 1, int(len(lat) * 0.99))] * 1000 if lat else None,
        # mean time of each kind of request in a unit (the client's view, queueing included)
        "step_mean_ms": {k: round(v * 1000 / max(len(lat), 1), 2) for k, v in out["steps"].items()},
    }


def loadgen_main(spec_file: str) -> None:
    spec = json.loads(Path(spec_file).read_text())
    print(
        json.dumps(asyncio.run(_load(spec["port"], spec["units"], spec["concurrency"], spec["max_seconds"])))
    )


def run_phase(
    tmp: Path, port: int, units: list[list[dict[str, Any]]], concurrency: int, max_seconds: float
) -> dict[str, Any]:
    """One phase in a second process, with the machine's CPU use and load average beside it."""
    spec = tmp / f"spec-{uuid.uuid4().hex[:6]}.json"
    spec.write_text(
        json.dumps({"port": port, "units": units, "concurrency": concurrency, "max_seconds": max_seconds})
    )
    cpu0 = cpu_times()
    proc = subprocess.run(
        [sys.executable, __file__, "loadgen", str(spec)],
        capture_output=True,
        text=True,
        timeout=max_seconds + 120,
    )
    cpu1 = cpu_times()
    if proc.returncode != 0:
        raise SystemExit(proc.stderr)
    out = dict(json.loads(proc.stdout.strip().splitlines()[-1]))
    if cpu0 and cpu1:
        total = sum(cpu1) - sum(cpu0)
        idle = (cpu1[3] + cpu1[4]) - (cpu0[3] + cpu0[4])
        out["cpu_busy"] = round(1 - idle / total, 3) if total else None
    out["loadavg_1min"] = round(os.getloadavg()[0], 2)
    return out


# --- the world ---------------------------------------------------------------------------------------
def prepare(url: str, kiosks: int) -> tuple[str, list[tuple[str, str, str]]]:
    """Schema, register, a counter object of SAFP with a service item offered through it, a SAFP
    department key and `kiosks` kiosks (code, window, device key), through the library."""
    from sqlalchemy import select
    from sqlmodel import col

    from egov.auth import create_key
    from egov.db import dispose_engines, init_db, session_scope
    from egov.demo import load_toml
    from egov.models import AssessedObject, Department
    from egov.models_services import ServiceItem, ServiceObject
    from egov.store import load_register
    from surveys.kiosks import create_kiosk

    init_db(url)
    with session_scope(url) as s:
        load_register(s, load_toml("macau_register.toml"))
        dept = s.execute(select(Department).where(col(Department.code) == "SAFP")).scalar_one()
        dept_id = int(dept.id or 0)
        obj = AssessedObject(
            code=COUNTER,
            department_id=dept_id,
            kind="application",
            name_zh="櫃檯",
            name_pt="Balcão",
            name_en="Counter",
        )
        item = ServiceItem(
            code=ITEM,
            name_zh="服務",
            name_pt="Serviço",
            name_en="Service",
            department_id=dept_id,
            channels="counter",
        )
        s.add_all([obj, item])
        s.flush()
        s.add(ServiceObject(service_id=int(item.id or 0), object_id=int(obj.id or 0)))
        key, _ = create_key(s, "department", "SAFP", "bench")
    devices = []
    with session_scope(url) as s:
        for k in range(kiosks):
            code, window = f"BENCH-C-{k:02d}", str(k + 1)
            device_key, _, _ = create_kiosk(s, dept_id, code, COUNTER, window=window, label="bench")
            devices.append((code, window, device_key))
    dispose_engines()
    return key, devices


def _rating(i: int, channel: str) -> dict[str, Any]:
    level = 1 + i % 5  # 2 of 5 are bad ratings: each opens a case
    return {
        "level": level,
        "good": ["ease"] if level >= 4 else [],
        "better": ["efficiency"] if level <= 2 else [],
        "channel": channel,
        "language": "zh-Hant",
    }


def _post(path: str, body: Any, key: str = "") -> dict[str, Any]:
    step: dict[str, Any] = {"m": "POST", "p": path, "b": json.dumps(body)}
    if key:
        step["h"] = {"Authorization": f"Bearer {key}"}
    return step


def counter_units(
    n: int, key: str, devices: list[tuple[str, str, str]], run: str
) -> list[list[dict[str, Any]]]:
    """Served ticket i goes to kiosk i mod kiosks, which is the kiosk of connection i mod kiosks."""
    units = []
    for i in range(n):
        code, window, device_key = devices[i % len(devices)]
        ticket = {
            "object": COUNTER,
            "transaction_ref": f"{run}-ticket-{i}",
            "service": ITEM,
            "kiosk": code,
            "window": window,
            "staff": f"S{1000 + i % 40}",
        }
        poll = {"m": "GET", "p": "/api/v1/kiosk/ticket", "h": {"Authorization": f"Bearer {device_key}"}}
        rate = {"m": "POST", "p": "/api/v1/ratings", "rate": _rating(i, "counter")}
        units.append([_post("/api/v1/tokens", ticket, key), poll, rate])
    return units


def hotline_units(n: int, key: str, run: str) -> list[list[dict[str, Any]]]:
    return [
        [
            _post(
                "/api/v1/tokens",
                {"object": OBJECTS[i % 2], "transaction_ref": f"{run}-call-{i}", "staff": f"A{100 + i % 30}"},
                key,
            ),
            {"m": "POST", "p": "/api/v1/ratings", "rate": _rating(i, "hotline")},
        ]
        for i in range(n)
    ]


def hotline_batch_units(batches: int, key: str, run: str, size: int = 500) -> list[list[dict[str, Any]]]:
    units = []
    for b in range(batches):
        calls = range(b * size, (b + 1) * size)
        items = [
            {"object": OBJECTS[i % 2], "transaction_ref": f"{run}-queued-{i}", "staff": f"A{100 + i % 30}"}
            for i in calls
        ]
        rate = {"m": "POST", "p": "/api/v1/ratings/batch", "rate": [_rating(i, "hotline") for i in calls]}
        units.append([_post("/api/v1/tokens/batch", {"items": items}, key), rate])
    return units


def etag_of(port: int, path: str) -> tuple[int, str, int]:
    """The warm-up request of a page (it fills the figures' cache): status, ETag, body size."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    try:
        conn.request("GET", path)
        r = conn.getresponse()
        body = r.read()
        return r.status, r.getheader("ETag") or "", len(body)
    finally:
        conn.close()


# --- orchestration ----------------------------------------------------------------------------------
def server_env(url: str) -> dict[str, str]:
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
    return env


def api_phases(
    args: argparse.Namespace, port: int, key: str, devices: list[Any], tmp: Path
) -> dict[str, Any]:
    c, sec = args.concurrency, args.max_seconds
    minimal_body = json.dumps({"token": "x" * 40, **_rating(0, "app")})
    minimal_units = [[{"m": "POST", "p": "/api/v1/bench-minimal", "b": minimal_body}]] * args.requests
    bare_get = [[{"m": "GET", "p": "/api/v1/bench-pid"}]] * args.requests
    run_phase(tmp, port, minimal_units[:200], c, 10)  # warm-up, not measured
    phases = {
        "minimal": run_phase(tmp, port, minimal_units, c, sec),
        "bare_get": run_phase(tmp, port, bare_get, c, sec),
        "counter": run_phase(tmp, port, counter_units(args.tickets, key, devices, "b"), c, sec),
        "hotline": run_phase(tmp, port, hotline_units(args.calls, key, "b"), c, sec),
        "hotline_batch": run_phase(tmp, port, hotline_batch_units(args.batches, key, "b"), 2, sec),
    }
    phases["hotline_batch"]["ratings_per_s"] = phases["hotline_batch"]["units_per_s"] * 500
    return phases


def page_phases(args: argparse.Namespace, port: int, tmp: Path) -> dict[str, Any]:
    today = date.today()
    period = f"{today.year}Q{(today.month - 1) // 3 + 1}"
    pages = {
        "front": "/public/",
        "period": f"/public/ratings/{period}/",
        "department": f"/public/ratings/{period}/departments/SAFP",
    }
    out: dict[str, Any] = {"period": period}
    for name, path in pages.items():
        t0 = time.perf_counter()
        status, etag, size = etag_of(port, path)
        cold_ms = (time.perf_counter() - t0) * 1000
        if status != 200 or not etag:
            raise SystemExit(f"{path}: {status}, ETag {etag!r}")
        full = [[{"m": "GET", "p": path}]] * args.requests
        same = [[{"m": "GET", "p": path, "h": {"If-None-Match": etag}, "expect": 304}]] * args.requests
        out[name] = {
            "path": path,
            "bytes": size,
            "first_request_ms": round(cold_ms, 1),
            "full": run_phase(tmp, port, full, args.concurrency, args.max_seconds),
            "not_modified": run_phase(tmp, port, same, args.concurrency, args.max_seconds),
        }
    return out


def run(args: argparse.Namespace, tmp: Path) -> dict[str, Any]:
    admin = ""
    if args.db == "sqlite":
        url = f"sqlite:///{tmp / 'bench-channels.db'}"
    else:
        url, admin = pg_url()
    os.environ["EGOV_SECRET_KEY"] = "bench-secret"
    server = None
    try:
        key, devices = prepare(url, args.concurrency)
        port = free_port()
        server = start_server(port, 1, args.http, server_env(url), "uvicorn")
        wait_ready(server, port, 1)
        phases = api_phases(args, port, key, devices, tmp)
        phases["pages"] = page_phases(args, port, tmp)
        return phases
    finally:
        if server is not None:
            server.terminate()
            try:
                server.wait(timeout=20)
            except subprocess.TimeoutExpired:
                server.kill()
        if admin:
            drop_pg(url, admin)


def table(db: str, http_impl: str, r: dict[str, Any]) -> str:
    base = r["minimal"]["units_per_s"]

    def cell(p: dict[str, Any], unit: str, per_s: float | None = None) -> str:
        rate = p["units_per_s"] if per_s is None else per_s
        return f"{rate:,.0f} {unit}/s, p99 {p['p99_ms']:.1f} ms (**{rate / base:.2f}**)"

    rows = [
        f"| {db}, {http_impl} | minimal (baseline) | {cell(r['minimal'], 'req')} | errors {r['minimal']['errors']} |",
        f"| | bare GET | {cell(r['bare_get'], 'req')} | errors {r['bare_get']['errors']} |",
        f"| | counter: token + poll + rating | {cell(r['counter'], 'tickets')}; "
        f"{r['counter']['requests_per_s']:,.0f} req/s | errors {r['counter']['errors']} |",
        f"| | hotline: token + rating | {cell(r['hotline'], 'calls')}; "
        f"{r['hotline']['requests_per_s']:,.0f} req/s | errors {r['hotline']['errors']} |",
        f"| | hotline batch: 500 tokens + 500 ratings | "
        f"{cell(r['hotline_batch'], 'ratings', r['hotline_batch']['ratings_per_s'])} | "
        f"errors {r['hotline_batch']['errors']} |",
    ]
    pages = r["pages"]
    for name in ("front", "period", "department"):
        p = pages[name]
        rows.append(
            f"| | `{p['path']}` ({p['bytes']:,} B, first {p['first_request_ms']:.0f} ms) | "
            f"200: {cell(p['full'], 'req')}; 304: {cell(p['not_modified'], 'req')} | "
            f"errors {p['full']['errors']}/{p['not_modified']['errors']} |"
        )
    return "\n".join(rows)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--db", choices=["sqlite", "postgresql"], default="sqlite", help="database engine")
    ap.add_argument("--requests", type=int, default=3000, help="requests per bare endpoint and page phase")
    ap.add_argument("--tickets", type=int, default=1000, help="served tickets (counter phase)")
    ap.add_argument("--calls", type=int, default=1000, help="calls rated one by one (hotline phase)")
    ap.add_argument("--batches", type=int, default=8, help="queues of 500 calls (hotline batch phase)")
    ap.add_argument(
        "--concurrency", type=int, default=8, help="connections (and kiosks) of the load generator"
    )
    ap.add_argument("--max-seconds", type=float, default=60, help="time bound of each phase")
    ap.add_argument(
        "--http", choices=["auto", "h11", "httptools"], default="auto", help="uvicorn's HTTP parser"
    )
    args = ap.parse_args()
    if args.http == "auto":
        import importlib.util

        args.http = "httptools" if importlib.util.find_spec("httptools") else "h11"
    tmp = Path(tempfile.mkdtemp(prefix="egov-bench-channels-"))
    try:
        t0 = time.perf_counter()
        result = run(args, tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    result["seconds"] = round(time.perf_counter() - t0, 1)
    print(json.dumps({"db": args.db, "http": args.http, "cpus": os.cpu_count(), **result}, indent=2))
    print()
    print(table(args.db, args.http, result))


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "loadgen":
        loadgen_main(sys.argv[2])
    else:
        main()
