"""Declared meta values against the graph, and rewriting the contradicted ones (``lint`` SHERPA013 and ``--fix``)."""

from __future__ import annotations

from typing import Any

from ..graph import Graph, Node
from .checks import Contradiction, contradictions
from .derive import derive
from .layers import find_meta_layers
from .schema import FAMILY_BY_ID, FIELDS, field_key, flag_value_from_param, param_value_from_flag

__all__ = ["declared_contradictions", "fix_meta_values"]


def declared_contradictions(graph: Graph, node: Node, params: dict[int, Any]) -> list[tuple[int, Contradiction]]:
    """``(key, contradiction)`` for each value of the meta layer ``node`` (decoded ``params``) that the
    graph contradicts."""
    fam = params.get(0)
    family = FAMILY_BY_ID.get(fam) if isinstance(fam, int) else None
    if family is None:
        return []
    declared = {f: flag_value_from_param(family, f, params[k]) for f, k, _t in FIELDS[family] if k in params}
    anchor = declared.get("zipformer-downsampling-factors")
    d = derive(graph, declared if isinstance(anchor, list) else None, family)
    return [(field_key(family, c.flag), c) for c in contradictions(declared, d)]


def fix_meta_values(graph: Graph) -> list[str]:
    """Rewrite the exact meta layer's values the graph contradicts with the graph's; describe each change."""
    from ..formats.ncnn.params import Param

    exact, _near = find_meta_layers(graph)
    if not exact:
        return []
    node = exact[0]
    params: dict[int, Any] = {}
    for k, p in node.attrs.items():
        try:
            params[k] = p.value
        except ValueError:
            continue
    family = FAMILY_BY_ID.get(params.get(0)) if isinstance(params.get(0), int) else None
    changes: list[str] = []
    line = node.pos.line if node.pos else 0
    for key, c in declared_contradictions(graph, node, params):
        assert family is not None
        old = node.attrs[key].render()
        node.attrs[key] = Param.of(key, param_value_from_flag(family, c.flag, c.found), array_style="old")
        changes.append(f"line {line}: {c.flag} {old} -> {node.attrs[key].render()} (the graph's value)")
    return changes
