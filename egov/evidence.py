"""Evidence of metric values (issue 16, point 3): a file stored once by its SHA-256, or a
reference (a URL or the text of a document reference), attached to one or more values.

Files go to the evidence folder (`EGOV_EVIDENCE_DIR`; default: the folder `evidence` beside the
SQLite database file, else in the working directory), at `<sha256[:2]>/<sha256>`, written to a
temporary name and renamed, so a file is complete or absent. The same content is stored once:
a second upload of it finds the stored file and its `value_evidence` row and only adds links.
Limits: `EGOV_EVIDENCE_MAX_BYTES`, the types of `ALLOWED` (by extension, checked against the
content's first bytes; text must be UTF-8), and a file name reduced to letters, digits and
`._- ` (no folders). Who may attach: the assessor to any value, a department to its own
department's values only (`Caller`).
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import func, insert
from sqlalchemy.engine import make_url
from sqlmodel import Session, col, select

from egov.auth import Principal, audit
from egov.cells import CONTROL_CHARACTERS
from egov.errors import EgovError
from egov.models import AssessedObject, Department, MetricValue
from egov.models_values import Evidence, EvidenceLink
from egov.settings import get_settings
from egov.store import operator_name

ZIP = b"PK\x03\x04"
# extension → (media type, the first bytes its content must start with; None: UTF-8 text)
ALLOWED: dict[str, tuple[str, bytes | None]] = {
    ".pdf": ("application/pdf", b"%PDF-"),
    ".png": ("image/png", b"\x89PNG\r\n\x1a\n"),
    ".jpg": ("image/jpeg", b"\xff\xd8\xff"),
    ".jpeg": ("image/jpeg", b"\xff\xd8\xff"),
    ".xlsx": ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", ZIP),
    ".docx": ("application/vnd.openxmlformats-officedocument.wordprocessingml.document", ZIP),
    ".csv": ("text/csv", None),
    ".txt": ("text/plain", None),
}
CALLER_ROLES = ("assessor", "department")
MAX_REFERENCE = 2000
URL_RE = re.compile(r"^https?://[^\s]+$", re.IGNORECASE)
_UNSAFE = re.compile(r"[^\w.\- ]+")


class NotYours(EgovError):
    """A department acting on another department's objects (the API answers 403)."""


@dataclass(frozen=True)
class Caller:
    """Who submits values or attaches evidence: a name for the record, a role (assessor or
    department) and, for a department, its code (it acts on its own objects only)."""

    name: str
    role: str
    department: str | None = None

    @classmethod
    def of_key(cls, principal: Principal) -> Caller:
        return cls(principal.actor, principal.role, principal.department_code)

    @classmethod
    def of_cli(cls, role: str | None, department: str | None = None) -> Caller:
        """The command line as `cli:NAME` in the declared role (`--as`, else EGOV_ROLE):
        assessor, or department with `--department CODE`."""
        chosen = role or get_settings().role
        if chosen not in CALLER_ROLES:
            shown = f"{chosen!r}" if chosen else "no role"
            raise EgovError(f"{shown}: act as {' or '.join(CALLER_ROLES)} (--as ROLE or EGOV_ROLE)")
        if chosen == "department" and not department:
            raise EgovError("acting as a department names it: --department CODE")
        return cls(f"cli:{operator_name()}", chosen, department if chosen == "department" else None)


def check_own(session: Session, caller: Caller, values: list[MetricValue]) -> None:
    """An error unless the caller may act on every one of `values` (a department: its own)."""
    check_objects(session, caller, {v.object_id for v in values})


def check_objects(session: Session, caller: Caller, ids: set[int]) -> None:
    """An error unless the caller may act on the objects `ids` (a department: its own)."""
    if caller.role == "assessor":
        return
    if caller.role != "department" or not caller.department:
        raise NotYours(f"a {caller.role} key does not submit values or evidence")
    rows = session.execute(
        select(col(AssessedObject.code), col(Department.code))
        .join(Department, col(Department.id) == col(AssessedObject.department_id))
        .where(col(AssessedObject.id).in_(ids))
    ).all()
    foreign = sorted(str(obj) for obj, dept in rows if dept != caller.department)
    if foreign:
        raise NotYours(f"object(s) {', '.join(foreign[:5])} are not of department {caller.department}")


def evidence_dir() -> Path:
    """The evidence folder: EGOV_EVIDENCE_DIR, else `evidence` beside the SQLite file, else in
    the working directory."""
    settings = get_settings()
    if settings.evidence_dir:
        return Path(settings.evidence_dir)
    url = make_url(settings.database_url)
    if url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:"):
        return Path(str(url.database)).resolve().parent / "evidence"
    return Path.cwd() / "evidence"


def clean_filename(name: str) -> str:
    """A file name as stored: the last part of a path, NFC, only letters, digits and `._- `
    (anything else `_`), no leading dots, at most 100 characters."""
    base = re.split(r"[\\/]", name)[-1]
    base = unicodedata.normalize("NFC", CONTROL_CHARACTERS.sub("", base))
    base = _UNSAFE.sub("_", base).strip().lstrip(".")
    if len(base) > 100:
        stem, dot, ext = base.rpartition(".")
        base = (stem[: 99 - len(ext)] + dot + ext) if dot and len(ext) <= 10 else base[:100]
    return base or "evidence"


def check_file(content: bytes, filename: str) -> str:
    """The media type of an evidence file; an EgovError naming the file when it is too large,
    of a type not allowed, or not what its extension says."""
    limit = get_settings().evidence_max_bytes
    if len(content) > limit:
        raise EgovError(f"{filename}: {len(content):,} bytes; an evidence file may have at most {limit:,}")
    if not content:
        raise EgovError(f"{filename}: the file is empty")
    ext = Path(filename).suffix.lower()
    if ext not in ALLOWED:
        raise EgovError(
            f"{filename}: type {ext or '(none)'} not allowed (allowed: {', '.join(sorted(ALLOWED))})"
        )
    media, magic = ALLOWED[ext]
    if magic is None:
        try:
            content.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise EgovError(f"{filename}: not UTF-8 text (byte {exc.start})") from exc
    elif not content.startswith(magic):
        raise EgovError(f"{filename}: the content is not a {ext} file")
    return media


def read_file(path: Path) -> bytes:
    """An evidence file's bytes, its size checked before it is read."""
    if not path.is_file():
        raise EgovError(f"{path}: no such file")
    limit = get_settings().evidence_max_bytes
    size = path.stat().st_size
    if size > limit:
        raise EgovError(f"{path.name}: {size:,} bytes; an evidence file may have at most {limit:,}")
    return path.read_bytes()


def store_content(content: bytes) -> tuple[str, Path]:
    """Write `content` under its SHA-256 once; (hash, path)."""
    digest = hashlib.sha256(content).hexdigest()
    path = evidence_dir() / digest[:2] / digest
    if path.exists() and path.stat().st_size == len(content):
        return digest, path
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".part-")
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(content)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return digest, path


def _department_id(session: Session, caller: Caller) -> int | None:
    if caller.department is None:
        return None
    return session.execute(
        select(col(Department.id)).where(col(Department.code) == caller.department)
    ).scalar()


def add_file(
    session: Session, values: list[MetricValue], content: bytes, filename: str, caller: Caller, note: str = ""
) -> Evidence:
    """Attach a file to `values` (stored once by its hash; a known content reuses its row)."""
    check_own(session, caller, values)
    name = clean_filename(filename)
    media = check_file(content, name)
    digest, _ = store_content(content)
    row = session.exec(select(Evidence).where(Evidence.kind == "file", Evidence.sha256 == digest)).first()
    if row is None:
        row = Evidence(
            kind="file",
            sha256=digest,
            filename=name,
            media_type=media,
            size=len(content),
            note=note[:500],
            department_id=_department_id(session, caller),
            added_by=caller.name[:100],
        )
        session.add(row)
        session.flush()
    link(session, row, values, caller)
    return row


def add_reference(
    session: Session, values: list[MetricValue], reference: str, caller: Caller, note: str = ""
) -> Evidence:
    """Attach a reference: a URL (http or https) or a document reference's text."""
    check_own(session, caller, values)
    text = reference.strip()
    if not text or len(text) > MAX_REFERENCE or CONTROL_CHARACTERS.search(text):
        raise EgovError(f"a reference is 1 to {MAX_REFERENCE} characters of text without control characters")
    kind = "url" if URL_RE.match(text) else "document"
    row = Evidence(
        kind=kind,
        reference=text,
        note=note[:500],
        department_id=_department_id(session, caller),
        added_by=caller.name[:100],
    )
    session.add(row)
    session.flush()
    link(session, row, values, caller)
    return row


def link(session: Session, evidence: Evidence, values: list[MetricValue], caller: Caller) -> None:
    """Link evidence to values (a link that exists is kept once), with a line in the audit trail."""
    if not values:
        raise EgovError("name the value(s) the evidence is for")
    have = set(
        session.execute(
            select(col(EvidenceLink.value_id)).where(col(EvidenceLink.evidence_id) == evidence.id)
        ).scalars()
    )
    new = sorted({int(v.id or 0) for v in values} - have)
    if new:
        session.execute(insert(EvidenceLink), [{"evidence_id": evidence.id, "value_id": i} for i in new])
    what = evidence.sha256 or evidence.reference[:200]
    audit(
        session,
        caller.name,
        "evidence.add",
        "evidence",
        str(evidence.id),
        f"{evidence.kind} {what} values={new}",
    )


def evidence_counts(session: Session, value_ids: list[int]) -> dict[int, int]:
    """value id → number of pieces of evidence attached to it."""
    if not value_ids:
        return {}
    rows = session.execute(
        select(col(EvidenceLink.value_id), func.count())
        .where(col(EvidenceLink.value_id).in_(value_ids))
        .group_by(col(EvidenceLink.value_id))
    ).all()
    return {int(v): int(n) for v, n in rows}


def evidence_of(session: Session, value_ids: list[int]) -> list[tuple[int, Evidence]]:
    """(value id, evidence) of every piece attached to `value_ids`, oldest first."""
    if not value_ids:
        return []
    rows = session.exec(
        select(EvidenceLink.value_id, Evidence)
        .join(Evidence, col(Evidence.id) == col(EvidenceLink.evidence_id))
        .where(col(EvidenceLink.value_id).in_(value_ids))
        .order_by(col(Evidence.id), col(EvidenceLink.value_id))
    ).all()
    return [(int(v), e) for v, e in rows]


def stored_path(evidence: Evidence) -> Path | None:
    """Where an evidence file is stored (None for a reference)."""
    return evidence_dir() / evidence.sha256[:2] / evidence.sha256 if evidence.kind == "file" else None
