"""`egov serve` as a subprocess for the end-to-end tests, a free port, and the command line
of Debian's headless Chromium. (The fault tests' server, a process group that may be
killed, is `tests.helpers.faults.Server`.) And `static_site`: a page of another origin."""

from __future__ import annotations

import contextlib
import http.server
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


READY_SECONDS = 60  # a loaded machine (2 cores, the other worker busy) can take that long


@contextlib.contextmanager
def serve(db_url: str, cwd: Path, **env: str) -> Iterator[str]:
    """`egov serve` in a subprocess on a free port; waits for readiness; always killed."""
    port = free_port()
    environ = {k: v for k, v in os.environ.items() if not k.startswith("EGOV_")}
    environ.update({"EGOV_DATABASE_URL": db_url, "PYTHONPATH": str(ROOT), **env})
    log = (cwd / f"serve-{port}.log").open("w")
    proc = subprocess.Popen(
        [sys.executable, "-c", "import cli; cli.main()", "serve", "--port", str(port)],
        cwd=cwd,
        env=environ,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + READY_SECONDS
        while True:
            if proc.poll() is not None:
                raise AssertionError("egov serve exited: " + (cwd / f"serve-{port}.log").read_text())
            try:
                if httpx.get(f"{base}/api/v1/health", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                tail = (cwd / f"serve-{port}.log").read_text()[-2000:]
                raise AssertionError(f"egov serve did not become ready in {READY_SECONDS} s:\n{tail}")
            time.sleep(0.1)
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


@contextlib.contextmanager
def static_site(pages: dict[str, str]) -> Iterator[str]:
    """Another origin on this machine: a plain HTTP server on a free port serving `pages`
    (path → HTML), e.g. a third-party page posting a form to the service; always shut down."""

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = pages.get(self.path.split("?")[0])
            data = (body or "not found").encode("utf-8")
            self.send_response(200 if body is not None else 404)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: object) -> None:  # quiet
            return

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
