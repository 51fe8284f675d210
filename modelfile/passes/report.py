"""Change reports (kept as the import path transforms use; defined in :mod:`modelfile.report`), and the
one-line summary of removed layers the transforms that remove many share."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..report import Change, Report

if TYPE_CHECKING:
    from ..graph import Node

__all__ = ["Change", "Report", "removal_summary"]


def _mb(n: int) -> str:
    return f"{n / 1e6:.1f} MB" if n >= 100_000 else f"{n / 1e3:.1f} kB" if n >= 1000 else f"{n} B"


def removal_summary(removed: list[Node], before: int | None = None, after: int | None = None) -> str:
    """``removed 1,030 layers: 412 Const, 210 Convolution, …; .bin 54.0 MB → 12.0 MB`` (the list: --json)."""
    counts: dict[str, int] = {}
    for n in removed:
        counts[n.op_type] = counts.get(n.op_type, 0) + 1
    top = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    kinds = ", ".join(f"{k:,} {t}" for t, k in top[:6]) + (", …" if len(top) > 6 else "")
    text = f"removed {len(removed):,} layer{'s' if len(removed) != 1 else ''}: {kinds}"
    if before is not None and after is not None and before != after:
        text += f"; .bin {_mb(before)} → {_mb(after)}"
    return text

