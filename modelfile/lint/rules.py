"""The rule registry: every lint rule has a stable code, a short name, a default severity, a hint.

Rule modules (``rules_ncnn``, ``rules_sherpa``, ``rules_ir``) declare their rules
with :func:`rule` at import time; ``README.md`` next to this file documents each
one (a test keeps the two in sync). Codes never change meaning once published;
a retired rule keeps its code reserved.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from ..errors import Diagnostic, Severity

__all__ = ["RULES", "Rule", "Selection", "UNREADABLE_CODES", "rule", "sorted_rules"]


@dataclass(frozen=True, slots=True)
class Rule:
    """A lint rule: ``code`` (``NCNN008``), ``name`` (``duplicate-top``), default severity, one-liners."""

    code: str
    name: str
    severity: Severity
    summary: str
    hint: str = ""
    #: ``modelfile lint --fix`` repairs it without changing what the file means
    fixable: bool = False

    def diag(self, message: str, file: str = "", line: int = 0, column: int = 0, *, hint: str | None = None,
             end_column: int = 0, severity: Severity | None = None) -> Diagnostic:
        """A finding of this rule."""
        return Diagnostic(self.code, severity or self.severity, message, file, line, column,
                          self.hint if hint is None else hint, end_column, {"rule": self.name})


#: code -> rule, in registration order (which is code order within a family)
RULES: dict[str, Rule] = {}


def rule(code: str, name: str, severity: str, summary: str, hint: str = "", *, fixable: bool = False) -> Rule:
    """Register a rule (codes and names must be unique)."""
    if code in RULES or any(r.name == name for r in RULES.values()):
        raise ValueError(f"duplicate lint rule {code} {name}")
    r = Rule(code, name, Severity(severity), summary, hint, fixable)
    RULES[code] = r
    return r


_FAMILY_ORDER = ("NCNN", "SHERPA", "IR", "IO")


def sorted_rules() -> list[Rule]:
    """Rules in documentation order: ncnn, sherpa, IR, then file errors; by code within a family."""
    def key(r: Rule) -> tuple[int, str]:
        fam = r.code.rstrip("0123456789")
        return (_FAMILY_ORDER.index(fam) if fam in _FAMILY_ORDER else len(_FAMILY_ORDER), r.code)

    return sorted(RULES.values(), key=key)


# Findings that mean "could not lint this file at all": exit code 2.
IO000 = rule("IO000", "unreadable-file", "error", "The path cannot be read (missing, a directory, no permission).",
             "check the path; globs that match nothing are reported here too")
IO001 = rule("IO001", "interrupted-save", "error",
             "A save of this model was interrupted: its staging folder (and maybe a journal) is still beside it.",
             "run any modelfile command on the model (e.g. `modelfile info`) to roll the interrupted save back")
IO002 = rule("IO002", "fix-refused", "warning",
             "`--fix` repaired the file but the result failed the save gate (re-read, lint or the runtime); "
             "nothing was written.",
             "fix the reported problem by hand; `modelfile lint` lists what is left")
UNREADABLE_CODES = frozenset({"IO000", "NCNN000", "IR000"})


_CODE = re.compile(r"[A-Z]+[0-9]*")


class Selection:
    """Which rules run: ``select`` and ``ignore`` lists of codes, code prefixes or rule names.

    ``ALL`` selects everything; ``NCNN`` every ncnn rule; ``NCNN01`` the codes
    starting with it; ``duplicate-top`` one rule by name. ``ignore`` wins over
    ``select``. Unknown entries raise ``ValueError``.
    """

    def __init__(self, select: Iterable[str] | None = None, ignore: Iterable[str] | None = None) -> None:
        self.select = [s for s in (select or ["ALL"]) if s]
        self.ignore = [s for s in (ignore or []) if s]
        for s in [*self.select, *self.ignore]:
            self._matches(s)  # validate

    @staticmethod
    def _matches(spec: str) -> set[str]:
        s = spec.strip()
        if s.upper() == "ALL":
            return set(RULES)
        by_name = {r.code for r in RULES.values() if r.name == s.lower()}
        if by_name:
            return by_name
        up = s.upper()
        if _CODE.fullmatch(up):
            hit = {c for c in RULES if c.startswith(up)}
            if hit:
                return hit
        raise ValueError(f"unknown rule {spec!r}; see `modelfile lint --list-rules`")

    def enabled(self) -> set[str]:
        """Codes that run."""
        on: set[str] = set()
        for s in self.select:
            on |= self._matches(s)
        for s in self.ignore:
            on -= self._matches(s)
        # a file that cannot be read is always reported
        return on | UNREADABLE_CODES

    def __repr__(self) -> str:
        return f"Selection(select={self.select!r}, ignore={self.ignore!r})"
