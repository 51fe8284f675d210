"""Lint an ncnn text model that is already read: what :func:`modelfile.lint.lint_file` says about its
file, without reading the file a second time.

``info`` (and the save gate, which re-reads what it staged) hold the graph and document that
``lint_file`` would read again; on a 2,000-layer param that second read costs as much as every
rule together. The findings are the same: same configuration lookup, same rules
(:data:`~.rules_ncnn.CHECKS`, complete once :mod:`modelfile.lint` is imported), same severities
and order. ``tests/lint/test_ncnn_read.py`` compares the two over the fixtures and the corpus.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import replace
from pathlib import Path

from ..errors import Diagnostic, Severity
from ..fileio import leftovers
from ..formats.ncnn.reader import NcnnDocument
from ..graph import Graph
from .config import LintConfig, find_config
from .rules import RULES
from .rules_ncnn import CHECKS
from .source import NcnnFile

__all__ = ["lint_read", "run_checks"]


def run_checks(f: NcnnFile, enabled: Collection[str]) -> list[Diagnostic]:
    """The findings of every enabled ncnn/sherpa/.bin rule on ``f``, unsorted."""
    out: list[Diagnostic] = []
    for codes, check in CHECKS:
        if not codes.isdisjoint(enabled):
            out.extend(d for d in check(f) if d.code in enabled)
    return out


def lint_read(path: str | Path, graph: Graph, doc: NcnnDocument, *, ignore: Sequence[str] = (),
              custom_layers: Sequence[str] = (), errors_only: bool = False) -> list[Diagnostic] | None:
    """``lint_file(path, ignore=ignore, custom_layers=custom_layers)`` for a text ``.param`` whose
    ``graph`` and ``doc`` were read (leniently or strictly: a file the strict reader takes reads the
    same) and not edited since. None when only a full ``lint_file`` can say (an interrupted save left
    its staging folder beside the file). Raises ModelfileError for a bad configuration, as lint does.
    ``errors_only``: only the rules that can give an error (with the configured severities) run.
    """
    p = Path(path)
    if leftovers(p) is not None:
        return None
    cache: dict[Path, LintConfig | None] = {}
    cfg = find_config(p.parent, cache) or find_config(Path.cwd(), cache) or LintConfig()
    settings = cfg.settings_for(p, ignore=list(ignore) or None, custom_layers=list(custom_layers))
    f = NcnnFile(str(p), graph, doc, settings.sherpa, settings.custom_layers)
    enabled = settings.selection.enabled()
    if errors_only:  # `info` only counts errors: rules that cannot give one (as configured) need not run
        enabled = {c for c in enabled if settings.severity.get(c, RULES[c].severity) is Severity.ERROR}
    diags = run_checks(f, enabled)
    if settings.severity:
        diags = [replace(d, severity=settings.severity.get(d.code, d.severity)) for d in diags]
    return sorted(diags, key=lambda d: (d.line, d.column, d.code))
