"""Results as data: what a transform changed (:class:`Report`) and what a save wrote and checked
(:class:`SaveResult`). The CLI prints them or dumps them as JSON; formats, passes and the save
gate only create them."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

__all__ = ["Change", "Check", "Report", "SaveResult"]


@dataclass(slots=True)
class Change:
    """One edit: ``kind`` (e.g. ``add-layer``, ``rename``), its target, before/after values."""

    kind: str
    target: str
    before: Any = None
    after: Any = None
    detail: str = ""


@dataclass(slots=True)
class Report:
    """The result of a transform; ``modified`` is false when it had nothing to do."""

    transform: str
    changes: list[Change] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def modified(self) -> bool:
        return bool(self.changes)

    def add(self, kind: str, target: str, before: Any = None, after: Any = None, detail: str = "") -> Change:
        """Record a change and return it."""
        c = Change(kind, target, before, after, detail)
        self.changes.append(c)
        return c

    def extend_changes(self, changes: "Iterable[Change | tuple[Any, ...]]") -> None:
        """Record :class:`Change` objects (what format edit ops return) or ``(kind, target, ...)`` tuples."""
        for c in changes:
            if isinstance(c, Change):
                self.changes.append(c)
            else:
                self.add(*c)

    def extend(self, other: "Report") -> None:
        """Append another report's changes and notes."""
        self.changes.extend(other.changes)
        self.notes.extend(other.notes)

    def to_dict(self) -> dict[str, Any]:
        return {
            "transform": self.transform,
            "modified": self.modified,
            "changes": [asdict(c) for c in self.changes],
            "notes": list(self.notes),
        }


@dataclass(slots=True)
class Check:
    """One step of the save gate: ``passed``, ``failed``, ``skipped`` (``detail`` says why) or ``forced``."""

    name: str
    status: str
    detail: str = ""

    def to_dict(self) -> dict[str, str]:
        return {"name": self.name, "status": self.status, "detail": self.detail}


@dataclass
class SaveResult:
    """What :meth:`Model.save` wrote and which checks it ran."""

    path: Path
    files: list[Path] = field(default_factory=list)
    #: "rewritten", "copied", "unchanged" or "none" for the weights file
    weights: str = "none"
    notes: list[str] = field(default_factory=list)
    checks: list[Check] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"path": str(self.path), "files": [str(p) for p in self.files], "weights": self.weights,
                "notes": list(self.notes), "checks": [c.to_dict() for c in self.checks]}
