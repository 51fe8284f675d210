"""Change reports (kept as the import path transforms use; defined in :mod:`modelfile.report`)."""

from __future__ import annotations

from ..report import Change, Report

__all__ = ["Change", "Report"]
