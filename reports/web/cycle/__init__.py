"""The assessment cycle's pages under /reports/cycle/ (issue 16 point 7), behind the report
pages' login (the same key, cookie and cross-site check):

- `/reports/cycle/`: the cycles (period, state, review deadline) with the pages of the key's
  role, and the form of the next move when the key's role owns it (lead: open is the command
  line's; publish; assessor: verifying, draft, review, final);
- department keys: `/{period}/values` (its own values with status and evidence; submit a value
  while collecting; attach a file or a reference) and `/{period}/review` (its own draft during
  the review, its objections, raise one up to the deadline);
- assessor keys: `/{period}/verify` (values by department and status, verify / adjust / reject /
  dispute) and `/{period}/objections` (answer: accept with the new value, or reject).

Modules: `common` (refusals as status and message, forms with a file, HTML pieces), `department`,
`assessor`, `routes`, `labels`.
"""

from reports.web.cycle.routes import build_cycle_router

__all__ = ["build_cycle_router"]
