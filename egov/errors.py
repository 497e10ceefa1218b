"""The project's own error type. Library code raises it; the CLI turns it into a message
and exit code 1 (never a traceback)."""

from __future__ import annotations


class EgovError(Exception):
    """A problem the user can fix: bad input, a missing file, an invalid framework.

    `problems` holds every individual problem (for example one line per invalid key of a
    framework file), so that callers can report all of them at once.
    """

    def __init__(self, message: str, problems: list[str] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.problems = list(problems or [])

    def __str__(self) -> str:
        if not self.problems:
            return self.message
        return self.message + "\n" + "\n".join(f"  - {p}" for p in self.problems)


class ServiceError(Exception):
    """A refusal with an HTTP status (403 wrong object, 404 unknown, 409 conflict …); the web
    app turns it into that status and a `{"detail": message}` body."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
