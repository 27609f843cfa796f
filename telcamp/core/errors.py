"""Errors the product raises on purpose. Each carries what a user needs to fix the input."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


class TelcampError(Exception):
    """Base of deliberate errors. `code` is stable and machine readable."""

    code = "error"
    status = 400

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field

    def to_dict(self) -> dict[str, object]:
        out: dict[str, object] = {"code": self.code, "message": self.message}
        if self.field is not None:
            out["field"] = self.field
        return out


class ValidationFailed(TelcampError):
    code = "invalid"
    status = 422


class NotFound(TelcampError):
    code = "not_found"
    status = 404


class Conflict(TelcampError):
    code = "conflict"
    status = 409


class NotAuthenticated(TelcampError):
    code = "not_authenticated"
    status = 401


class Forbidden(TelcampError):
    code = "forbidden"
    status = 403


class IllegalTransition(TelcampError):
    code = "illegal_transition"
    status = 409


class StoreBusy(TelcampError):
    code = "store_busy"
    status = 503


@dataclass
class RowError:
    """One problem found in an input file."""

    file: str
    line: int | None
    column: str | None
    reason: str

    def __str__(self) -> str:
        where = self.file
        if self.line is not None:
            where += f":{self.line}"
        if self.column:
            where += f" [{self.column}]"
        return f"{where}: {self.reason}"


@dataclass
class FileRejected(TelcampError):
    """A file refused whole; `errors` lists the first problems found."""

    file: str
    errors: list[RowError] = field(default_factory=list)
    total: int | None = None
    # a folder load: its report of the files loaded before this one (telcamp.load)
    partial: Any = field(default=None, repr=False, compare=False)

    def __post_init__(self) -> None:
        lines = [str(e) for e in self.errors]
        more = ""
        if self.total is not None and self.total > len(self.errors):
            more = f" (and {self.total - len(self.errors)} more)"
        TelcampError.__init__(
            self, f"{self.file} rejected, nothing loaded{more}:\n  " + "\n  ".join(lines)
        )

    code = "file_rejected"
    status = 422
