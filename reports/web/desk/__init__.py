"""The case desk under /reports/desk/ (issue 17, point 4), behind the report pages' login (the
same key, cookie and cross-site check):

- `/reports/desk/`: the desk's figures (cases, not closed, overdue, answered on time, mean days
  to the answer, satisfaction at the return visit), the cases filtered by state or overdue,
  deadline first, overdue said in words, and the ledger's download (`/reports/desk/ledger.xlsx`);
- `/reports/desk/{case}`: one case and the forms of its next moves: take (a staff label), the
  tier (immediate or deadline → rectifying; explain, with the explanation → explained), the
  rectification for the public, the return visit with its outcome, close, appeal; an assessor
  decides an appeal.

Department keys see their own department's cases only (another's is a 404); assessor keys all,
read only but for appeals. Modules: `pages` (HTML), `routes`, `labels`.
"""

from reports.web.desk.routes import build_desk_router

__all__ = ["build_desk_router"]
