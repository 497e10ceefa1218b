"""The `egov` command line: a table of the commands of `egov/commands/`, loaded lazily.

`egov --help` and argument errors import no command module; `egov NAME …` imports the one
module of NAME (`egov.commands.lazy`, the one place command modules are loaded by name).
Each command parses its options, calls the library, and prints or writes. Library code
raises `EgovError`; `main()` turns it into a message and exit code 1, and any unexpected
error into a short message and exit code 2 (set EGOV_DEBUG=1 for a traceback).
"""

from __future__ import annotations

import os
import sys

import typer

from egov.commands.consoles import err
from egov.commands.lazy import Entry, lazy_group
from egov.errors import EgovError

# Commands, in the order `egov --help` lists them (the command groups after the commands):
# name → "module:attribute" (a function is a command, a typer.Typer a group) and the first
# paragraph of its help, as `egov --help` lists it (tests/cli/test_lazy_commands.py checks it).
# fmt: off
COMMANDS: dict[str, Entry] = {
    "evaluate": Entry("egov.commands.evaluate:evaluate_cmd", "Score and rank units from files, with no database."),
    "demo": Entry("egov.commands.demo:demo_cmd",
        "Create or refresh the database with the built-in Macau demo, evaluate it, store the runs, print "
        "the department ranking and write the results to --out."),
    "score": Entry("egov.commands.scoring:score_cmd",
        "Evaluate a period from the stored metric values and rating roll-ups; store the run."),
    "template": Entry("egov.commands.metrics:template_cmd",
        "Write the Excel workbook in which departments report metric values: one sheet per category, a row"
        " per assessed object, a validated column per metric indicator."),
    "serve": Entry("egov.commands.service:serve_cmd",
        "Serve the rating API, the widget, the OpenAPI docs (/docs) and the report pages (/reports/, login"
        " with a department, assessor, lead or admin key) with uvicorn."),
    "uncertainty": Entry("egov.commands.uncertainty:uncertainty_cmd",
        "Rank intervals, P(A above B), tiers and sensitivity indices of a stored run (Monte Carlo over "
        "weights, normalisation, aggregation, imputation, outlier treatment and the rating sampling error)."),
    "rank": Entry("egov.commands.compare:rank_cmd",
        "Department rankings of a stored run: by default every category's league table, then the coverage "
        "and the overall rank; or at one node, or at every category, dimension or indicator; ties take the"
        " lowest rank number; peer-group ranks. A department scored on fewer categories than the "
        "framework's `min_categories` is not ranked overall."),
    "compare": Entry("egov.commands.compare:compare_cmd",
        "Two departments side by side: score and rank per category and dimension, then the indicators "
        "(rolled-up normalised values) on which they differ most."),
    "gaps": Entry("egov.commands.compare:gaps_cmd",
        "A department's distance to the best and to the median (overall and in its peer group) per "
        "category and dimension, and its strengths and weaknesses: the indicators where its percentile "
        "among the departments is highest and lowest."),
    "priorities": Entry("egov.commands.compare:priorities_cmd",
        "Improvement priorities: the indicators where a realistic step would raise the department's "
        "overall score most, with the score and rank it would then have (computed exactly by "
        "re-aggregating with the run's weights)."),
    "change": Entry("egov.commands.compare:change_cmd",
        "Score and rank change of every department between two runs on one scale (the framework's "
        "trend_scale: fixed goalposts, else min-max over both runs' values pooled), decomposed into "
        "per-indicator contributions; when the framework or spec changed, labelled not comparable and "
        "split into \"the data changed\" and \"the method changed\" (Shapley average of both orders)."),
    "report": Entry("egov.commands.reports:report_cmd",
        "Write the assessor's report of a stored run: a self-contained HTML file that opens with no "
        "network (methodology, weights, data coverage and flags, overall and category rankings with rank "
        "intervals, coherence) and the Excel workbook (summary, a sheet per category, indicator data with "
        "provenance and flags, weights, methodology). With --department, the one-page department report "
        "instead: standing overall and per category against all departments and the peer group, strengths "
        "and weaknesses, priorities, change since the last period and why, citizen ratings and open "
        "bad-rating cases."),
    "synth": Entry("egov.commands.demo:synth_cmd",
        "Generate a synthetic scale for benchmarks: departments, peer groups, objects, metric values of "
        "the Macau framework for period SYN2025, rating offers and ratings (loaded in bulk: COPY on "
        "PostgreSQL, batched executemany on SQLite), then the daily roll-ups. Use a fresh database "
        "(EGOV_DATABASE_URL). Synthetic data, not an evaluation."),
    "db": Entry("egov.commands.db:app", "Create or upgrade the database."),
    "framework": Entry("egov.commands.framework:app", "Check, show and import indicator frameworks."),
    "runs": Entry("egov.commands.runs:app", "List, show, compare, export and verify stored evaluation runs."),
    "import": Entry("egov.commands.metrics:import_app",
        "Validated, all-or-nothing imports: metric values, the register and the service-item catalogue."),
    "metrics": Entry("egov.commands.metrics:metrics_app", "Stored metric values and their provenance."),
    "keys": Entry("egov.commands.service:keys_app", "API keys of the rating service (stored hashed)."),
    "kiosks": Entry("egov.commands.service:kiosks_app", "Counter kiosks: tablets at a counter with their own device key."),
    "ratings": Entry("egov.commands.ratings:ratings_app", "Citizen ratings: export, purge, roll-ups."),
    "cases": Entry("egov.commands.ratings:cases_app", "Bad-rating follow-up cases."),
    "calendar": Entry("egov.commands.calendar:app", "The working-day calendar of case deadlines."),
    "cycle": Entry("egov.commands.cycle:app",
        "The assessment cycle of a period: collecting → verifying → draft → review → final → published."),
    "values": Entry("egov.commands.values:app", "Metric values with their status and evidence; the assessor's decisions."),
    "audit": Entry("egov.commands.audit:app", "The sample audit: a seeded random sample of submitted values, checked."),
    "checklist": Entry("egov.commands.checklists:app",
        "The assessor's service checks (mystery shopping): template, import, show."),
    "objections": Entry("egov.commands.objections:app",
        "Objections of the departments to their draft, the assessor's answers and the review's record."),
    "services": Entry("egov.commands.services:app", "The service-item catalogue (事項): list and show."),
    "publish": Entry("egov.commands.publish:app", "The open data of a published period and of citizen ratings."),
}
# fmt: on

app = typer.Typer(
    name="egov",
    help="egov-eval: evaluate e-government performance — layered classification of what is "
    "assessed (infrastructure, application services, management bodies) and horizontal "
    "comparison of departments.",
    cls=lazy_group(COMMANDS),
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
app.callback()(lambda: None)  # a group of commands, the table's, with no options of its own


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
