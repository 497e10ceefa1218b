"""The `egov` command run in-process, its exit code and what it printed."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pytest

from cli import main


@dataclass
class CliResult:
    code: int
    out: str
    err: str


class EgovCli:
    """`egov(["demo", "--out", d])` → CliResult, with the output captured by pytest's capsys."""

    def __init__(self, capsys: pytest.CaptureFixture[str]) -> None:
        self.capsys = capsys

    def __call__(self, args: Sequence[object]) -> CliResult:
        self.capsys.readouterr()
        code = run_cli(args)
        captured = self.capsys.readouterr()
        return CliResult(code, captured.out, captured.err)


def run_cli(args: Sequence[object]) -> int:
    """Run `egov ARGS` in this process; its exit code."""
    try:
        main([str(a) for a in args])
    except SystemExit as exc:
        return int(exc.code or 0)
    return 0
