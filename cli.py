"""The `egov` command line: it only assembles the command groups of `egov/commands/`.

Each command parses its options, calls the library, and prints or writes. Library code
raises `EgovError`; `main()` turns it into a message and exit code 1, and any unexpected
error into a short message and exit code 2 (set EGOV_DEBUG=1 for a traceback).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable

import typer

from egov.commands import (
    audit,
    calendar,
    checklists,
    compare,
    cycle,
    db,
    demo,
    framework,
    metrics,
    objections,
    publish,
    ratings,
    reports,
    runs,
    scoring,
    service,
    services,
    uncertainty,
    values,
)
from egov.commands.common import err
from egov.errors import EgovError

app = typer.Typer(
    name="egov",
    help="egov-eval: evaluate e-government performance — layered classification of what is "
    "assessed (infrastructure, application services, management bodies) and horizontal "
    "comparison of departments.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

# Commands, in the order `egov --help` lists them.
COMMANDS: dict[str, Callable[..., None]] = {
    "evaluate": scoring.evaluate_cmd,
    "demo": demo.demo_cmd,
    "score": scoring.score_cmd,
    "template": metrics.template_cmd,
    "serve": service.serve_cmd,
    "uncertainty": uncertainty.uncertainty_cmd,
    "rank": compare.rank_cmd,
    "compare": compare.compare_cmd,
    "gaps": compare.gaps_cmd,
    "priorities": compare.priorities_cmd,
    "change": compare.change_cmd,
    "report": reports.report_cmd,
    "synth": demo.synth_cmd,
}
# Command groups (`egov db init`, …), listed after the commands.
GROUPS: dict[str, typer.Typer] = {
    "db": db.app,
    "framework": framework.app,
    "runs": runs.app,
    "import": metrics.import_app,
    "metrics": metrics.metrics_app,
    "keys": service.keys_app,
    "kiosks": service.kiosks_app,
    "ratings": ratings.ratings_app,
    "cases": ratings.cases_app,
    "calendar": calendar.app,
    "cycle": cycle.app,
    "values": values.app,
    "audit": audit.app,
    "checklist": checklists.app,
    "objections": objections.app,
    "services": services.app,
    "publish": publish.app,
}
for _name, _command in COMMANDS.items():
    app.command(_name)(_command)
for _name, _group in GROUPS.items():
    app.add_typer(_group, name=_name)


def main(argv: list[str] | None = None) -> None:
    """Entry point of the `egov` console script (`argv`: arguments, for tests)."""
    try:
        rc = app(args=argv, prog_name="egov", standalone_mode=False)
    except EgovError as exc:
        err.print(f"error: {exc}", markup=False, highlight=False)
        sys.exit(1)
    except (typer.Abort, KeyboardInterrupt):
        err.print("aborted")
        sys.exit(130)
    except Exception as exc:  # usage errors (Typer's click) and anything unexpected
        code = getattr(exc, "exit_code", None)
        if isinstance(code, int):  # a usage error or an explicit exit: click knows how to say it
            show = getattr(exc, "show", None)
            if callable(show) and type(exc).__name__ != "NoArgsIsHelpError":  # help already shown
                show()
            sys.exit(code)
        if os.environ.get("EGOV_DEBUG"):
            raise
        err.print(f"internal error: {type(exc).__name__}: {exc} (set EGOV_DEBUG=1 for details)", markup=False)
        sys.exit(2)
    if isinstance(rc, int) and rc:
        sys.exit(rc)


if __name__ == "__main__":
    main()
