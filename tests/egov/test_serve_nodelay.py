"""`egov serve --workers N` gives every connection TCP_NODELAY (issue 18, point 3).

With several workers uvicorn's supervisor binds the listening socket itself and hands it to the
workers (`Config.bind_socket`); asyncio sets TCP_NODELAY on an accepted connection only when
the listening socket's protocol is IPPROTO_TCP. uvicorn 0.54 created it with protocol 0, so
every keep-alive response whose head and body went out in two writes waited for the client's
delayed ACK (about 40 ms on Linux: ~170 requests/s with 2 workers; uvicorn issue #3149, fixed
in 0.55, which pyproject.toml now requires). The test takes the configuration `egov serve
--workers 2` gives uvicorn, binds the socket the supervisor would bind with it, serves it with
asyncio as a worker does, and reads TCP_NODELAY on the accepted connection; the same check on a
socket bound as uvicorn 0.54 did finds it off, so the check can fail."""

from __future__ import annotations

import asyncio
import socket
from pathlib import Path
from typing import Any

import pytest
import uvicorn

from tests.helpers.servers import free_port


def _nodelay_of_accepted(listener: socket.socket) -> int:
    """TCP_NODELAY of a connection accepted by an asyncio server on `listener` (as a uvicorn
    worker serves the supervisor's socket)."""
    seen: list[int] = []

    async def main() -> None:
        def accepted(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            sock = writer.get_extra_info("socket")
            seen.append(sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))
            writer.close()

        server = await asyncio.start_server(accepted, sock=listener)
        async with server:
            port = listener.getsockname()[1]
            _, writer = await asyncio.open_connection("127.0.0.1", port)
            for _ in range(100):
                if seen:
                    break
                await asyncio.sleep(0.01)
            writer.close()

    asyncio.run(main())
    assert seen, "no connection accepted"
    return seen[0]


def test_egov_serve_with_workers_gives_connections_tcp_nodelay(
    sqlite_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, egov: Any
) -> None:
    from egov.settings import reset_settings

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("EGOV_DATABASE_URL", sqlite_url)
    reset_settings()
    captured: dict[str, Any] = {}
    monkeypatch.setattr(uvicorn, "run", lambda app, **kw: captured.update(app=app, **kw))
    port = free_port()
    assert egov(["serve", "--port", port, "--workers", "2"]).code == 0
    assert captured["workers"] == 2
    config = uvicorn.Config(captured.pop("app"), **captured)
    listener = config.bind_socket()  # what uvicorn's supervisor binds and passes to the workers
    assert listener.proto == socket.IPPROTO_TCP
    assert _nodelay_of_accepted(listener) == 1

    # the same check on a socket bound as uvicorn 0.54 bound it: no TCP_NODELAY
    old = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    old.bind(("127.0.0.1", 0))
    assert _nodelay_of_accepted(old) == 0
