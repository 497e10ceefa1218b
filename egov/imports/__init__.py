"""Validated, all-or-nothing imports into the database, each file read by the hardened reader
(egov.reader):

- `egov.imports.metrics` — `egov import metrics`: metric values from the filled template
  (`egov.imports.workbook`) or a plain CSV file, long or wide (`egov.imports.csvtable`), checked
  value by value (`egov.imports.values`);
- `egov.imports.register` — `egov import departments`: peer groups, departments and assessed
  objects.
"""

from __future__ import annotations

from egov.imports.metrics import MetricImport, framework_for_import, import_metrics
from egov.imports.register import RegisterImport, import_register

__all__ = ["MetricImport", "RegisterImport", "framework_for_import", "import_metrics", "import_register"]
