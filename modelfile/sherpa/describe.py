"""What ``modelfile info`` shows about SherpaMetaData: declared values next to what the graph shows."""

from __future__ import annotations

from typing import Any

from ..graph import Graph
from .derive import derive
from .layers import find_meta_layers, meta_from_node
from .schema import FAMILY_BY_ID, FIELDS, flag_value_from_param, param_value_from_flag

__all__ = ["describe_meta"]


def describe_meta(graph: Graph, *, sherpa_encoder: bool = False) -> dict[str, Any] | None:
    """Decoded metadata (family, named fields) and the graph's values, or None.

    Without a meta layer the derived values are shown only when ``sherpa_encoder``
    (the graph looks like one).
    """
    exact, near = find_meta_layers(graph)
    if not exact and not near:
        if not sherpa_encoder:
            return None
        d = derive(graph)
        if d.family is None:
            return None
        return {"layer": None, "family": d.family, "fields": {}, "raw": {},
                "derived": {f: d.values.get(f) for f, _k, _t in FIELDS[d.family]},
                "derived_from": d.family_why, "mismatch": [],
                "warning": "no SherpaMetaData layer: `modelfile patch --add-sherpa-meta` writes the derived values"}
    node = exact[0] if exact else near[0]
    vals = meta_from_node(node)
    family = FAMILY_BY_ID.get(vals.get(0)) if isinstance(vals.get(0), int) else None
    fields: dict[str, Any] = {}
    if family:
        for f, key, _kind in FIELDS[family]:
            v = vals.get(key)
            if family == "conv-emformer" and f == "left-context-length" and isinstance(v, int):
                fields["left-context-length (after subsampling)"] = v
                continue
            fields[f] = v
    info: dict[str, Any] = {
        "layer": f"{node.op_type} {node.name}",
        "family": family or f"unknown (0={vals.get(0)!r})",
        "fields": fields,
        "raw": {str(k): v for k, v in vals.items()},
    }
    if family:
        declared = {f: flag_value_from_param(family, f, vals.get(k)) for f, k, _t in FIELDS[family]}
        anchor = declared.get("zipformer-downsampling-factors")
        d = derive(graph, declared if isinstance(anchor, list) else None, family)
        # same keys and units as "fields" (conv-emformer's left context after subsampling)
        derived: dict[str, Any] = {}
        mismatch: list[str] = []
        for (f, v), shown in zip(((f, d.values.get(f)) for f, _k, _t in FIELDS[family]), fields):
            derived[shown] = param_value_from_flag(family, f, v)
            if v is not None and f not in d.assumed and declared.get(f) != v:
                mismatch.append(f)
        info["derived"] = derived
        info["mismatch"] = mismatch
    if not exact:
        info["warning"] = "not the exact type/name sherpa-ncnn looks for (SherpaMetaData sherpa_meta_data1)"
    return info
