"""Fixed texts that the store writes into the record and that the reports recognise: the demo's
notice and the prefix of its values' source. Here rather than in `egov.store` so that reading
them (reports.texts, on the path of `egov evaluate`) does not load the database layer."""

from __future__ import annotations

DEMO_SOURCE = "demo:"
DEMO_NOTICE = "ILLUSTRATIVE DEMO DATA — not an official evaluation of the Macao SAR Government"
