"""Change reports: what a transform did, as data the CLI prints or dumps as JSON."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from collections.abc import Iterable
from typing import Any

__all__ = ["Change", "Report"]


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
