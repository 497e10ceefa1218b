"""Races on purpose: N calls started together on real threads (a `threading.Barrier` releases
them at once), and the roll-ups compared with a recount of the ratings that count."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from sqlalchemy import text

# a request that does not come back is a hang (a deadlock), not a slow machine: generous
HANG = 120.0


def together(n: int, call: Callable[[int], Any]) -> list[Any]:
    """Run call(0) … call(n - 1) on n threads released together; their results in order.
    An exception in a thread is raised here."""
    barrier = threading.Barrier(n)
    results: list[Any] = [None] * n
    errors: list[BaseException] = []

    def run(i: int) -> None:
        try:
            barrier.wait()
            results[i] = call(i)
        except BaseException as exc:  # handed to the test below
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(i,), daemon=True) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(HANG)
    assert not any(t.is_alive() for t in threads), "a racing request never came back (deadlock?)"
    if errors:
        raise errors[0]
    return results


# one POST: (path, JSON body or None, headers)
Post = tuple[str, dict[str, Any] | None, dict[str, str]]


def post_together(client: Any, posts: list[Post]) -> list[Any]:
    """The POSTs sent at once through `client` (a TestClient: each request is served on the
    app's thread pool, so they really run concurrently); the responses in order."""

    def send(i: int) -> Any:
        path, body, headers = posts[i]
        return client.post(path, json=body, headers=headers)

    return together(len(posts), send)


def rollups_and_recount() -> tuple[
    dict[tuple[Any, ...], tuple[int, ...]], dict[tuple[Any, ...], tuple[int, ...]]
]:
    """The daily roll-ups, and the same counts recounted from the ratings that count (no
    flag), per (object, day); rows of zeros left out of both."""
    from egov.db import session_scope

    levels = ", ".join(f"SUM(CASE WHEN level = {k} THEN 1 ELSE 0 END)" for k in range(1, 6))
    with session_scope() as s:
        stored = s.execute(text("SELECT object_id, day, n1, n2, n3, n4, n5 FROM rating_daily")).all()
        recount = s.execute(
            text(f"SELECT object_id, day, {levels} FROM rating WHERE flags = '' GROUP BY object_id, day")
        ).all()

    def keyed(rows: Any) -> dict[tuple[Any, ...], tuple[int, ...]]:
        out = {(int(r[0]), str(r[1])): tuple(int(x) for x in r[2:]) for r in rows}
        return {k: v for k, v in out.items() if any(v)}

    return keyed(stored), keyed(recount)
