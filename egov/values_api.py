"""The values API (issue 16, point 3), under /api/v1, included by `create_app`: a department key
submits its own department's values (`POST /values`, only while the period's cycle is
collecting, or the period has no cycle) and attaches evidence to them (`POST
/values/{value_id}/evidence`: a reference, or a file as base64); department and assessor keys
list values with their status and evidence count (`GET /values`: a department its own). The
assessor's decisions are on the command line (`egov values verify|adjust|reject`)."""

from __future__ import annotations

import base64
import binascii
from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import ConfigDict, Field

from egov.deps import DepartmentKey, ReaderKey, SessionDep
from egov.errors import EgovError, ServiceError
from egov.evidence import Caller, NotYours, add_file, add_reference
from egov.imports.metrics import framework_for_import
from egov.imports.submission import MAX_ITEMS, submit_values
from egov.inputs import Code, FreeText
from egov.store import find_period
from egov.values import find_value, list_values
from surveys.routes.common import API, BODY, KEYED, RowId, doc
from surveys.schemas import Strict

router = APIRouter(prefix=API, tags=["values"])


class ValueIn(Strict):
    object: Code = Field(
        max_length=80, description="The assessed object's code (one of the key's department)."
    )
    indicator: Code = Field(max_length=80, description="A metric indicator's code.")
    value: float = Field(description="The value in the indicator's unit.")


class Submission(Strict):
    model_config = ConfigDict(
        extra="forbid",
        str_strip_whitespace=True,
        allow_inf_nan=False,
        json_schema_extra={
            "examples": [
                {
                    "period": "2025",
                    "values": [{"object": "ONE_ACCOUNT", "indicator": "app_takeup", "value": 56.4}],
                }
            ]
        },
    )

    period: Code = Field(max_length=20, description="The period, e.g. 2025 or 2025Q4.")
    values: list[ValueIn] = Field(min_length=1, max_length=MAX_ITEMS)


class FileIn(Strict):
    name: FreeText = Field(max_length=200, description="The file's name (its extension names its type).")
    content_base64: str = Field(max_length=30_000_000, description="The file's bytes, base64.")


class EvidenceIn(Strict):
    model_config = ConfigDict(
        extra="forbid",
        str_strip_whitespace=True,
        allow_inf_nan=False,
        json_schema_extra={
            "examples": [{"reference": "https://www.gov.mo/zh-hant/", "note": "annual statistics"}]
        },
    )

    reference: FreeText | None = Field(
        default=None, max_length=2000, description="A URL or a document reference."
    )
    file: FileIn | None = None
    note: FreeText = Field(default="", max_length=500)


def _refused(exc: EgovError) -> ServiceError:
    return ServiceError(403 if isinstance(exc, NotYours) else 422, str(exc))


@router.post(
    "/values",
    **doc(
        "Submit values",
        "A department key submits values of its own department's objects for a period: checked like a "
        "metrics file (indicator, applicability, range), all or nothing, stored as `submitted`. Refused "
        "(422) once the period's cycle has left `collecting` or is published; 403 for another department's "
        "object. A department cannot verify its own values: only the assessor does.",
        {"period": "2025", "ids": [101, 102], "sha256": "9f2c…"},
        *KEYED,
        *BODY,
    ),
)
def post_values(session: SessionDep, principal: DepartmentKey, body: Submission) -> dict[str, Any]:
    items = [v.model_dump() for v in body.values]
    try:
        done = submit_values(
            session, body.period, items, Caller.of_key(principal), framework_for_import(session, None)
        )
    except EgovError as exc:
        raise _refused(exc) from exc
    session.commit()
    return {"period": done.period, "ids": done.ids, "sha256": done.sha256}


@router.get(
    "/values",
    **doc(
        "List values",
        "The current values of a period with their status (submitted, verified, adjusted, rejected, "
        "disputed) and evidence count. Department keys see their own department's values.",
        [
            {
                "id": 101,
                "object": "GOV_CLOUD",
                "indicator": "infra_uptime",
                "value": 99.9,
                "status": "submitted",
            }
        ],
        *KEYED,
        422,
    ),
)
def get_values(
    session: SessionDep,
    principal: ReaderKey,
    period: Annotated[str, Query(max_length=20, description="The period, e.g. 2025.")],
) -> list[dict[str, Any]]:
    department = principal.department_code if principal.role == "department" else None
    if find_period(session, period) is None:
        return []  # a period without values
    rows = list_values(session, period, department=department)
    return [
        {
            "id": r.id,
            "department": r.department,
            "object": r.object,
            "indicator": r.indicator,
            "value": r.value,
            "unit": r.unit,
            "status": r.status,
            "evidence": r.evidence,
        }
        for r in rows
    ]


@router.post(
    "/values/{value_id}/evidence",
    **doc(
        "Attach evidence",
        "Evidence of a value: a reference (URL or document reference) or a file (base64; stored once by "
        "its SHA-256; size limit EGOV_EVIDENCE_MAX_BYTES; pdf, png, jpg, xlsx, docx, csv or txt). A "
        "department key attaches evidence to its own department's values, an assessor key to any.",
        {"evidence": 7, "kind": "file", "sha256": "3a7b…"},
        *KEYED,
        404,
        *BODY,
    ),
)
def post_evidence(
    session: SessionDep, principal: ReaderKey, value_id: RowId, body: EvidenceIn
) -> dict[str, Any]:
    try:
        value = find_value(session, value_id)
    except EgovError as exc:
        raise ServiceError(404, str(exc)) from exc
    caller = Caller.of_key(principal)
    if (body.file is None) == (body.reference is None):
        raise ServiceError(422, "give either a reference or a file")
    try:
        if body.file is not None:
            content = _decode(body.file.content_base64)
            row = add_file(session, [value], content, body.file.name, caller, body.note)
        else:
            row = add_reference(session, [value], body.reference or "", caller, body.note)
    except EgovError as exc:
        raise _refused(exc) from exc
    session.commit()
    return {"evidence": row.id, "kind": row.kind, "sha256": row.sha256}


def _decode(text: str) -> bytes:
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ServiceError(422, "content_base64 is not base64") from exc
