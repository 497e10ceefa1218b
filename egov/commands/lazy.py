"""The one place command modules are loaded by name: a command group that imports only the
command asked for (Click's documented "LazyGroup" pattern).

`cli.py` keeps a static table, command name → `Entry` ("module:attribute", the first paragraph
of its help). `egov --help` lists the table without importing a command module; `egov NAME …`
imports the one module of NAME and builds its Click command as Typer would have (a function
is a command, a `typer.Typer` a group). A name not in the table is Click's usual "No such
command" error, so argument errors need no command module either. The names and help texts
of the table are checked against the real commands by tests/cli/test_lazy_commands.py.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator, Mapping, MutableMapping
from typing import Any, NamedTuple

import typer
import typer.main
from typer.core import TyperCommand, TyperGroup


class Entry(NamedTuple):
    """A command of the table: where it is ("egov.commands.scoring:evaluate_cmd") and the
    first paragraph of its help, as `egov --help` lists it."""

    target: str
    help: str


def load_command(name: str, target: str) -> Any:
    """The Click command of `target` ("module:attribute"), named `name`: built by Typer from
    the function or the `typer.Typer` group the attribute holds, as `app.command(name)` or
    `app.add_typer(group, name=name)` on the root would build it."""
    module_name, _, attribute = target.partition(":")
    obj = getattr(importlib.import_module(module_name), attribute)
    holder = typer.Typer(add_completion=False, pretty_exceptions_enable=False)
    if isinstance(obj, typer.Typer):
        holder.add_typer(obj, name=name)
    else:
        holder.command(name)(obj)
    return typer.main.get_group(holder).commands[name]


class LazyCommands(MutableMapping[str, Any]):
    """The commands of the table by name; a command is loaded (and kept) when it is looked up,
    never when the names are listed. A command added by Click's `add_command` is kept as given."""

    def __init__(self, table: Mapping[str, Entry]) -> None:
        self.table = table
        self.loaded: dict[str, Any] = {}

    def __getitem__(self, name: str) -> Any:
        if name not in self.loaded:
            self.loaded[name] = load_command(name, self.table[name].target)
        return self.loaded[name]

    def __setitem__(self, name: str, command: Any) -> None:
        self.loaded[name] = command

    def __delitem__(self, name: str) -> None:
        raise TypeError(f"the command {name!r} of the table cannot be removed")

    def __iter__(self) -> Iterator[str]:
        yield from self.table
        yield from (name for name in self.loaded if name not in self.table)

    def __len__(self) -> int:
        return len(self.table.keys() | self.loaded.keys())


class LazyGroup(TyperGroup):
    """A Typer group whose commands come from `table` (set by `lazy_group`), loaded one at a
    time; while it writes its own help it lists the table's help texts instead."""

    table: Mapping[str, Entry] = {}

    def __init__(self, **attrs: Any) -> None:
        attrs.pop("commands", None)  # Typer passes the registered ones: none, the table has them
        super().__init__(commands=None, **attrs)
        self.commands = LazyCommands(self.table)
        self.listing = False

    def list_commands(self, ctx: Any) -> list[str]:
        return list(self.commands)  # Typer's reads `commands.items()`, which would load them all

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        if self.listing and cmd_name in self.table:
            return TyperCommand(name=cmd_name, help=self.table[cmd_name].help)
        return self.commands.get(cmd_name)

    def format_help(self, ctx: Any, formatter: Any) -> None:
        self.listing = True
        try:
            super().format_help(ctx, formatter)
        finally:
            self.listing = False


def lazy_group(table: Mapping[str, Entry]) -> type[LazyGroup]:
    """The `LazyGroup` class of a table, to give Typer as `cls`."""
    return type("EgovGroup", (LazyGroup,), {"table": table})
