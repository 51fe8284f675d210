"""Remove what no output needs: one reachability walk, one batch removal."""

from __future__ import annotations

from ..graph import Node
from ..model import Model

__all__ = ["prune"]


def prune(model: Model) -> list[Node]:
    """Remove nodes nothing needed depends on; returns them (in file order)."""
    ops = model.ops
    g = model.graph
    needed = g.live_nodes(ops.keep_roots(), keep=[n for n in g.nodes if ops.always_keep(n)])
    dead = [n for n in g.nodes if n not in needed]
    if dead:
        ops.remove_nodes(dead)
    return dead
