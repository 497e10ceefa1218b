"""The public site of published runs (/public/, no key) and their open-data package.

- `data`: the one door to published runs (`published_run`, `public_run`: computed once per
  process and kept, a published run never changes; `NotPublished` for everything else), the
  published periods, the cycle's history without who acted, and the objection log's hook
  (`objection_summary`).
- `pages`, `method`: the bilingual pages (zh-Hant and pt by default, `?lang=` for one
  language), every text escaped; `labels`: their texts and the data dictionary.
- `opendata`: the package (`package_files`, `write_package`, `package_zip`).
- `routes`: the `router` under /public (404 for anything unpublished, cache headers, ETag).
"""

from reports.public.data import NotPublished, forget_public_runs, objection_summary, public_run, published_run
from reports.public.opendata import package_files, package_zip, write_package
from reports.public.routes import build_public_router

__all__ = [
    "NotPublished",
    "build_public_router",
    "forget_public_runs",
    "objection_summary",
    "package_files",
    "package_zip",
    "public_run",
    "published_run",
    "write_package",
]
