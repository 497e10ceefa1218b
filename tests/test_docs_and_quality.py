"""Docs that cannot go stale, and the static checks (ruff, mypy) as part of the suite."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import typer

ROOT = Path(__file__).resolve().parents[1]


def _commands(cmd: Any, prefix: str = "egov") -> list[tuple[str, Any]]:
    out = [(prefix, cmd)]
    if hasattr(cmd, "commands"):  # a group (Typer vendors its own click classes)
        for name, sub in cmd.commands.items():
            out += _commands(sub, f"{prefix} {name}")
    return out


def test_every_cli_command_has_help_and_an_example() -> None:
    from cli import app

    root = typer.main.get_command(app)
    commands = _commands(root)
    assert len(commands) >= 10
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for name, cmd in commands:
        assert (cmd.help or "").strip(), f"`{name}` has no help text"
        if not hasattr(cmd, "commands"):
            assert "Example" in (cmd.help or ""), f"`{name}` help has no example"
            assert f"`{name}" in readme, f"`{name}` is not in the README's CLI overview"
        for param in cmd.params:
            if param.param_type_name == "option" and param.name != "help":
                assert (param.help or "").strip(), f"`{name}` option {param.opts} has no help"


def test_every_registered_method_is_documented() -> None:
    from evaluation.registry import STAGES

    doc = (ROOT / "docs" / "methods.md").read_text(encoding="utf-8")
    for stage, registry in STAGES.items():
        assert f"`{stage}`" in doc, f"stage `{stage}` is not documented in docs/methods.md"
        for name, method in registry.items():
            assert method.doc, f"{stage} method {name} has no doc"
            assert f"`{name}`" in doc, f"{stage} method `{name}` is not documented in docs/methods.md"
            for pname, param in method.params.items():
                assert f"`{pname}`" in doc, f"parameter `{pname}` of {stage} {name} is not documented"
                assert param.help, f"parameter {pname} of {stage} {name} has no help"


def test_every_setting_is_described_and_in_the_readme() -> None:
    from egov.settings import Settings

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for name, field in Settings.model_fields.items():
        assert field.description, f"setting {name} has no description"
        assert f"EGOV_{name.upper()}" in readme, f"EGOV_{name.upper()} is not in the README"


def test_ci_runs_exactly_the_readme_test_command() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    command = "python3 -m pip install -e '.[test]' && python3 -m pytest"
    assert command in readme
    assert command in (ROOT / ".ci" / "run").read_text(encoding="utf-8")


@pytest.mark.parametrize(
    "args",
    [
        pytest.param(["ruff", "check", "."], id="ruff-check"),
        pytest.param(["ruff", "format", "--check", "."], id="ruff-format"),
        pytest.param(["mypy"], id="mypy", marks=pytest.mark.slow),
    ],
)
def test_static_checks_are_clean(args: list[str]) -> None:
    if args == ["mypy"]:  # mypy's cache outside the checkout: a fresh clone checks incrementally
        base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
        args = [*args, "--cache-dir", str(Path(base) / "egov-eval" / "mypy")]
    proc = subprocess.run(
        [sys.executable, "-m", *args], cwd=ROOT, capture_output=True, text=True, timeout=600
    )
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]


SEED = ROOT.parent / "shared" / "seed"
QUOTED = re.compile(r"「([^」]+)」")


def test_every_quotation_of_the_paper_is_in_the_paper() -> None:
    """Words are claims: every text quoted in 「」 in the docs, the built-in framework and the
    register appears verbatim in the paper (../shared/seed/)."""
    papers = sorted(SEED.glob("*.txt")) if SEED.is_dir() else []
    if not papers:
        pytest.skip(f"the paper is not at {SEED}")
    paper = "".join(p.read_text(encoding="utf-8") for p in papers)
    sources = [ROOT / "README.md", ROOT / "ARCHITECTURE.md", *sorted((ROOT / "docs").glob("*.md"))]
    sources += sorted((ROOT / "indicators" / "frameworks").glob("*.toml"))
    sources += sorted((ROOT / "egov" / "data").glob("*.toml"))
    quotes = {
        (src.relative_to(ROOT).as_posix(), q)
        for src in sources
        for q in QUOTED.findall(src.read_text("utf-8"))
    }
    assert quotes, "no quotation of the paper found: the pattern or the files moved"
    missing = sorted((where, q) for where, q in quotes if q not in paper)
    assert not missing, f"quoted as the paper's words but not in the paper: {missing}"
