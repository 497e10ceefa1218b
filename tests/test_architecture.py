"""The architecture as checked facts (issue 12): imports point one way (import-linter's
contracts in pyproject.toml), every module has its layer, no `_private` name is imported
across modules, project imports sit at module top, modules and functions stay readable,
the CLI is thin, and ARCHITECTURE.md's module map is the real list of modules."""

from __future__ import annotations

import ast
import re
import shutil
import subprocess
import sys
import tomllib
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("egov", "evaluation", "indicators", "surveys", "reports")
MAX_MODULE_LINES = 620  # "about 600"
MAX_FUNCTION_LINES = 85  # "about 80"
# Functions that are a table of data, clearer whole (issue 12: "except where a table of data is
# clearer whole"): name → why.
DATA_TABLES: dict[str, str] = {}


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _project_files(*, with_tests: bool = False) -> Iterator[Path]:
    yield ROOT / "cli.py"
    for package in PACKAGES:
        yield from sorted((ROOT / package).rglob("*.py"))
    if with_tests:
        for extra in ("tests", "bench"):
            yield from sorted((ROOT / extra).rglob("*.py"))


def _project_modules() -> list[str]:
    return [_module_name(p) for p in _project_files() if p.name != "cli.py"]


def _is_project(module: str) -> bool:
    return module == "cli" or module.split(".")[0] in PACKAGES


def _contracts() -> list[dict]:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    contracts: list[dict] = config["tool"]["importlinter"]["contracts"]
    return contracts


def test_import_contracts_hold() -> None:
    """`lint-imports` with the contracts of pyproject.toml: layers, the pure engine, surveys and
    the engine side by side, no cycle between the modules of a package."""
    exe = shutil.which("lint-imports", path=str(Path(sys.executable).parent)) or shutil.which("lint-imports")
    assert exe, "import-linter is not installed (it is in the [test] extra)"
    proc = subprocess.run([exe, "--no-cache"], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout[-6000:] + proc.stderr[-2000:]
    assert "broken" not in proc.stdout.split("Contracts:")[-1].split("\n")[0].replace("0 broken", "")


def test_every_module_is_in_exactly_one_layer() -> None:
    layers = next(c for c in _contracts() if c["id"] == "layers")["layers"]
    entries = [
        name.strip().strip("()") for layer in layers for name in re.split(r"[|:]", layer) if name.strip()
    ]
    assert len(entries) == len(set(entries)), "a module is named in two layers"
    unplaced, twice = [], []
    for module in _project_modules():
        owners = [e for e in entries if module == e or module.startswith(e + ".")]
        if module in PACKAGES and not owners:
            continue  # a package's own __init__ (checked below: it imports nothing of the project)
        if not owners:
            unplaced.append(module)
        elif len(owners) > 1:
            twice.append(f"{module}: {owners}")
    assert not unplaced, f"modules in no layer of pyproject.toml's layers contract: {unplaced}"
    assert not twice, f"modules in more than one layer: {twice}"
    for package in PACKAGES:
        init = ROOT / package / "__init__.py"
        if package in entries:
            continue
        imports = [
            n
            for n in ast.walk(ast.parse(init.read_text(encoding="utf-8")))
            if isinstance(n, ast.ImportFrom | ast.Import)
        ]
        assert not imports, f"{package}/__init__.py spans several layers, so it must import nothing"


def test_side_by_side_contract_names_every_engine_module() -> None:
    """Surveys may use no module of the engine (every evaluation module above `indicators` in the
    layers contract), so a new engine module cannot slip past the side-by-side contract."""
    contracts = _contracts()
    layers = next(c for c in contracts if c["id"] == "layers")["layers"]
    above = layers[: layers.index("indicators")]
    engine = {
        name.strip().strip("()")
        for layer in above
        for name in re.split(r"[|:]", layer)
        if name.strip().startswith("evaluation.")
    }
    forbidden = set(next(c for c in contracts if c["id"] == "side-by-side")["forbidden_modules"])
    assert engine == forbidden, f"engine modules missing from the side-by-side contract: {engine - forbidden}"


def _imports(path: Path) -> Iterator[tuple[ast.ImportFrom | ast.Import, bool]]:
    """Every import statement of a file and whether it sits inside a function."""

    def walk(node: ast.AST, in_function: bool) -> Iterator[tuple[ast.ImportFrom | ast.Import, bool]]:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.Import | ast.ImportFrom):
                yield child, in_function
            else:
                inner = in_function or isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda)
                yield from walk(child, inner)

    yield from walk(ast.parse(path.read_text(encoding="utf-8")), False)


def test_no_private_name_is_imported_across_modules() -> None:
    """A name that starts with one underscore is its module's own; another module (tests and
    benchmarks included) uses a public, documented name instead."""
    found = []
    for path in _project_files(with_tests=True):
        for node, _ in _imports(path):
            if (
                isinstance(node, ast.ImportFrom)
                and node.module
                and node.level == 0
                and _is_project(node.module)
            ):
                for alias in node.names:
                    if alias.name.startswith("_") and not alias.name.startswith("__"):
                        found.append(f"{path.relative_to(ROOT)}:{node.lineno} {node.module}.{alias.name}")
    assert not found, "private names imported across modules:\n" + "\n".join(found)


def test_project_imports_sit_at_module_top() -> None:
    """No import of a project module inside a function: that is how a cycle hides from the
    contracts (issue 12)."""
    found = []
    for path in _project_files():
        for node, in_function in _imports(path):
            if not in_function:
                continue
            modules = (
                [node.module or ""] if isinstance(node, ast.ImportFrom) else [a.name for a in node.names]
            )
            if any(_is_project(m) for m in modules):
                found.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert not found, "project imports inside functions:\n" + "\n".join(found)


def test_nothing_imports_the_entry_point() -> None:
    found = [
        f"{path.relative_to(ROOT)}:{node.lineno}"
        for path in _project_files()
        if path.name != "cli.py"
        for node, _ in _imports(path)
        if (isinstance(node, ast.ImportFrom) and node.module == "cli")
        or (isinstance(node, ast.Import) and any(a.name == "cli" for a in node.names))
    ]
    assert not found, f"library modules import cli.py: {found}"


def test_modules_and_functions_stay_readable() -> None:
    big_modules, long_functions = [], []
    for path in _project_files():
        text = path.read_text(encoding="utf-8")
        lines = text.count("\n") + 1
        if path.name != "cli.py" and lines > MAX_MODULE_LINES:
            big_modules.append(f"{path.relative_to(ROOT)}: {lines} lines")
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                length = (node.end_lineno or node.lineno) - node.lineno + 1
                first = node.body[0]
                if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                    length -= (first.end_lineno or first.lineno) - first.lineno + 1  # the docstring
                if length > MAX_FUNCTION_LINES and node.name not in DATA_TABLES:
                    long_functions.append(
                        f"{path.relative_to(ROOT)}:{node.lineno} {node.name}: {length} lines"
                    )
    assert not big_modules, f"modules over {MAX_MODULE_LINES} lines: {big_modules}"
    assert not long_functions, f"functions over {MAX_FUNCTION_LINES} lines: {long_functions}"


def test_the_cli_is_thin() -> None:
    """cli.py only assembles the command groups; a command parses, calls the library and
    writes: no SQL in egov/commands."""
    lines = (ROOT / "cli.py").read_text(encoding="utf-8").count("\n")
    assert lines < 150, f"cli.py has {lines} lines"
    sql = re.compile(
        r"\bselect\(|\.exec\(|\.execute\(|\btext\(\s*['\"]|\bcol\(|session\.get\(|\bfrom sqlalchemy\b"
    )
    found = [
        f"{path.relative_to(ROOT)}:{number}: {line.strip()}"
        for path in sorted((ROOT / "egov" / "commands").glob("*.py"))
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if sql.search(line)
    ]
    assert not found, "SQL in command modules:\n" + "\n".join(found)


def _documented_modules() -> set[str]:
    """The modules ARCHITECTURE.md's module map names (first column: `a/b.py`, `a/b/`)."""
    text = (ROOT / "ARCHITECTURE.md").read_text(encoding="utf-8")
    section = text.split("## Module map", 1)[1].split("\n## ", 1)[0]
    names: set[str] = set()
    for line in section.splitlines():
        if not line.startswith("| `"):
            continue
        first = re.split(r"(?<!\\)\|", line)[1]
        folder = ""
        for item in re.findall(r"`([^`]+)`", first):
            if (
                "/" in item
            ):  # `evaluation/denominate.py`, `impute.py`: a bare name shares the folder before it
                folder = item.rsplit("/", 1)[0] + "/"
            elif folder:
                item = folder + item
            names.add(item)
    return names


def _expand(item: str) -> set[str]:
    """`evaluation/denominate.py` → {evaluation.denominate}; `surveys/routes/` → every module of it."""
    path = ROOT / item.rstrip("/")
    if item.endswith("/"):
        return {_module_name(p) for p in path.rglob("*.py")}
    if item.endswith(".py"):
        return {_module_name(path)} if path.is_file() else {f"missing:{item}"}
    return set()


def test_architecture_module_map_matches_the_code() -> None:
    """Every module is in ARCHITECTURE.md's module map, and every `.py` file the map names
    exists (a module is covered by its own row or by a row naming its folder)."""
    documented: set[str] = set()
    for item in _documented_modules():
        documented |= _expand(item)
    missing_files = sorted(m.split(":", 1)[1] for m in documented if m.startswith("missing:"))
    assert not missing_files, f"ARCHITECTURE.md names files that do not exist: {missing_files}"
    real = set(_project_modules()) | {"cli"}
    undocumented = sorted(m for m in real - documented if m not in PACKAGES)
    assert not undocumented, f"modules missing from ARCHITECTURE.md's module map: {undocumented}"


def _cli_command_names() -> set[str]:
    import typer

    from cli import app

    names: set[str] = set()

    def walk(cmd: object, prefix: str) -> None:
        sub = getattr(cmd, "commands", None)
        if sub is None:
            names.add(prefix)
            return
        for name, child in sub.items():
            walk(child, f"{prefix} {name}")

    walk(typer.main.get_command(app), "egov")
    return names


def test_readme_command_table_is_the_real_cli() -> None:
    """Every command is in the README's CLI overview and every command the overview documents
    exists (as sqlite-utils's docs tests do)."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    table = readme.split("## CLI overview", 1)[1].split("\n## ", 1)[0]
    documented: set[str] = set()
    for line in table.splitlines():
        if line.startswith("| `egov"):
            for item in re.findall(r"`(egov [^`]*)`", re.split(r"(?<!\\)\|", line)[1]):
                words = []
                for word in item.split()[1:]:
                    if not re.fullmatch(r"[a-z][a-z-]*", word):
                        break
                    words.append(word)
                documented.add(" ".join(["egov", *words]))
    real = _cli_command_names()
    assert real - documented == set(), f"commands missing from the README: {sorted(real - documented)}"
    assert documented - real == set(), (
        f"README documents commands that do not exist: {sorted(documented - real)}"
    )


@pytest.mark.parametrize("package", PACKAGES)
def test_each_package_says_what_it_is(package: str) -> None:
    doc = ast.get_docstring(ast.parse((ROOT / package / "__init__.py").read_text(encoding="utf-8")))
    assert doc, f"{package}/__init__.py has no docstring"
