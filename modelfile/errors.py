"""Errors and findings as data: code, severity, file, line, column, message, hint."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from enum import Enum
from typing import Any

__all__ = ["Diagnostic", "ModelfileError", "Severity", "excerpt"]


class Severity(str, Enum):
    """How bad a finding is; ordered ``info < warning < error``."""

    INFO = "info"
    WARNING = "warning"
    ERROR = "error"

    @property
    def rank(self) -> int:
        return {"info": 0, "warning": 1, "error": 2}[self.value]


@dataclass(frozen=True, slots=True)
class Diagnostic:
    """One error or lint finding, positioned in a file (1-based line/column; 0 = unknown)."""

    code: str
    severity: Severity
    message: str
    file: str = ""
    line: int = 0
    column: int = 0
    hint: str = ""
    end_column: int = 0
    extra: dict[str, Any] = field(default_factory=dict)

    def location(self) -> str:
        """``file:line:col`` (parts that are unknown are omitted)."""
        parts = [self.file or "<input>"]
        if self.line:
            parts.append(str(self.line))
            if self.column:
                parts.append(str(self.column))
        return ":".join(parts)

    def one_line(self) -> str:
        """``file:line:col: message`` — the form printed for errors."""
        return f"{self.location()}: {self.message}"

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["severity"] = self.severity.value
        return d


class ModelfileError(Exception):
    """A user-facing failure (bad input, impossible edit). Carries a :class:`Diagnostic`."""

    def __init__(
        self,
        message: str,
        *,
        code: str = "MF000",
        file: str = "",
        line: int = 0,
        column: int = 0,
        hint: str = "",
        source_line: str | None = None,
    ) -> None:
        super().__init__(message)
        self.diagnostic = Diagnostic(code, Severity.ERROR, message, str(file), line, column, hint)
        #: the text of the offending line, for a caret excerpt
        self.source_line = source_line

    def __str__(self) -> str:
        return self.diagnostic.one_line()


def excerpt(source_line: str | None, column: int, width: int = 1) -> str:
    """The offending line and a caret under ``column`` (1-based); '' when unknown."""
    if source_line is None or column <= 0:
        return ""
    line = source_line.rstrip("\r\n")
    if len(line) > 200:  # keep huge lines readable: show a window around the column
        start = max(0, column - 100)
        line = ("…" if start else "") + line[start:start + 200]
        column = column - start + (1 if start else 0)
    prefix = "".join(ch if ch == "\t" else " " for ch in line[: column - 1])
    return f"{line}\n{prefix}{'^' * max(1, width)}"
