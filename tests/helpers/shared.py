"""Session builds shared by the test workers: the first worker that needs one builds it
under a file lock in the run's common temporary folder; the other workers wait for it and
read it (each xdist worker has its own session, so a session fixture alone would build the
Macau demo once per worker)."""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

BUILT = ".built"  # written last: the folder holds a complete build


def shared_root(factory: pytest.TempPathFactory) -> Path:
    """The temporary folder common to every worker of this test run."""
    base = factory.getbasetemp()
    return base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base


@contextlib.contextmanager
def built_once(factory: pytest.TempPathFactory, name: str) -> Iterator[tuple[Path, bool]]:
    """(the build's folder, whether it is built already). The caller builds into the folder
    when it is not; the build counts once the block ends without an error."""
    root = shared_root(factory)
    folder = root / name
    with open(root / f"{name}.lock", "a+", encoding="utf-8") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            done = (folder / BUILT).exists()
            if not done:
                shutil.rmtree(folder, ignore_errors=True)
                folder.mkdir(parents=True)
            yield folder, done
            if not done:
                (folder / BUILT).touch()
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
