"""The `egov` command loads its command modules lazily (issue 18): `import cli`, `egov --help`
and argument errors import no command module, so none of the heavy libraries; the table in
cli.py and the real commands agree, names and help texts included."""

from __future__ import annotations

import importlib
import inspect
import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import typer

from cli import COMMANDS
from egov.commands.lazy import load_command

ROOT = Path(__file__).resolve().parents[2]
# what the start-up of `egov` must not pay for (each costs 0.1–0.6 s of CPU)
HEAVY = (
    *("pandas", "numpy", "scipy", "sqlalchemy", "sqlmodel", "fastapi", "altair", "openpyxl", "uvicorn"),
    "pydantic_settings",  # the settings (Typer itself may import pydantic for its suggestions)
)
# runs `egov ARGS` in a fresh interpreter; prints the exit code and the modules it loaded
PROBE = """
import json, sys
import cli
try:
    cli.main(sys.argv[1:])
    code = 0
except SystemExit as exc:
    code = exc.code
print(json.dumps({"code": code, "modules": sorted(sys.modules)}), file=sys.stderr)
"""


def run_egov(*args: str) -> tuple[int, str, str, list[str]]:
    """`egov ARGS` in a subprocess: (exit code, stdout, the stderr before the probe's line, modules)."""
    done = subprocess.run(
        [sys.executable, "-c", PROBE, *args], capture_output=True, text=True, cwd=ROOT, timeout=120
    )
    *said, last = done.stderr.rstrip("\n").split("\n")
    probe = json.loads(last)
    return probe["code"], done.stdout, "\n".join(said), probe["modules"]


def heavy_in(modules: list[str]) -> list[str]:
    return sorted({m.split(".")[0] for m in modules} & set(HEAVY))


def command_modules(modules: list[str]) -> list[str]:
    light = {"egov.commands", "egov.commands.consoles", "egov.commands.lazy"}
    return [m for m in modules if m.startswith("egov.commands.") and m not in light]


def test_import_cli_loads_no_heavy_library() -> None:
    done = subprocess.run(
        [sys.executable, "-c", "import cli, sys; print(sorted(sys.modules))"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
        check=True,
    )
    modules = eval(done.stdout)  # a printed list of module names
    assert heavy_in(modules) == []
    assert command_modules(modules) == []


def test_help_lists_every_command_without_loading_one() -> None:
    code, out, err, modules = run_egov("--help")
    assert code == 0, err
    listed = [m.group(1) for m in re.finditer(r"^│ (\S+) ", out, re.MULTILINE)]
    assert [name for name in listed if not name.startswith("-")] == list(COMMANDS)
    assert "Score and rank units from files, with no database." in out
    assert heavy_in(modules) == [] and command_modules(modules) == []


@pytest.mark.parametrize(
    ("args", "said"),
    [
        pytest.param(["evaluat"], "No such command 'evaluat'. Did you mean 'evaluate'", id="unknown-command"),
        pytest.param(["--bogus"], "No such option: --bogus", id="bad-option"),
        pytest.param([], "Usage: egov [OPTIONS] COMMAND [ARGS]...", id="no-arguments"),
    ],
)
def test_argument_errors_load_no_command(args: list[str], said: str) -> None:
    code, out, err, modules = run_egov(*args)
    assert code == 2
    assert said in out + err and "Traceback" not in err
    assert heavy_in(modules) == [] and command_modules(modules) == []


def test_evaluate_loads_only_its_own_command_module(tmp_path: Path) -> None:
    """`egov evaluate` imports its one command module: no web, chart or workbook library and
    no other command's module (the engine and its libraries, yes)."""
    code, _, err, modules = run_egov(
        "evaluate", str(tmp_path / "none.toml"), str(tmp_path / "none.csv"), "--out", str(tmp_path / "out")
    )
    assert code == 1 and "error:" in err
    assert command_modules(modules) == [
        "egov.commands.common",
        "egov.commands.evaluate",
        "egov.commands.labels",
        "egov.commands.labels_ops",
    ]
    assert {"fastapi", "altair", "openpyxl", "uvicorn"} & set(heavy_in(modules)) == set()


def first_paragraph(help_text: str | None) -> str:
    return " ".join(inspect.cleandoc(help_text or "").split("\n\n")[0].split())


@pytest.mark.parametrize("name", list(COMMANDS))
def test_every_table_entry_is_the_real_command_with_its_help(name: str) -> None:
    command = load_command(name, COMMANDS[name].target)
    assert command.name == name
    assert COMMANDS[name].help == first_paragraph(command.help), (
        f"cli.py's help of {name!r} differs from the command's: {first_paragraph(command.help)!r}"
    )


def reachable(entries: list[Any]) -> tuple[set[int], set[int]]:
    """(ids of the Typer groups, ids of the command functions) the table reaches."""
    groups: set[int] = set()
    functions: set[int] = set()
    todo = list(entries)
    while todo:
        obj = todo.pop()
        if isinstance(obj, typer.Typer):
            groups.add(id(obj))
            functions |= {id(c.callback) for c in obj.registered_commands}
            todo += [g.typer_instance for g in obj.registered_groups]
        else:
            functions.add(id(obj))
    return groups, functions


def test_every_command_of_the_command_modules_is_in_the_table() -> None:
    """No command is left out of the table: every Typer group and every `*_cmd` function of
    egov/commands is reached from it."""
    entries = []
    for entry in COMMANDS.values():
        module_name, _, attribute = entry.target.partition(":")
        entries.append(getattr(importlib.import_module(module_name), attribute))
    groups, functions = reachable(entries)
    missing = []
    for path in sorted((ROOT / "egov" / "commands").glob("*.py")):
        module = importlib.import_module(f"egov.commands.{path.stem}")
        for attribute, value in vars(module).items():
            if getattr(value, "__module__", module.__name__) != module.__name__:
                continue
            if isinstance(value, typer.Typer) and id(value) not in groups:
                missing.append(f"{module.__name__}:{attribute}")
            if inspect.isfunction(value) and attribute.endswith("_cmd") and id(value) not in functions:
                missing.append(f"{module.__name__}:{attribute}")
    assert missing == [], f"commands not reached from cli.COMMANDS: {missing}"
