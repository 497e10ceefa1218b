"""The two consoles of the commands: `console` (standard output, 160 columns when it is not a
terminal) and `err` (standard error). On their own so that `cli.py` can report an error
without importing what the commands share (`egov.commands.common` re-exports both)."""

from __future__ import annotations

import sys

from rich.console import Console

console = Console(soft_wrap=True, width=None if sys.stdout.isatty() else 160)
err = Console(stderr=True, soft_wrap=True)
