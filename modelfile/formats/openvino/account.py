"""Account for the bytes of an IR ``.bin``: Const bytes per element type, shared and unused regions.

Every Const (bodies of TensorIterator/Loop/If included) names a region
``offset, size`` of the ``.bin``. Regions named by several Consts (OpenVINO's
serializer writes identical constants once) count once, for the element type
of the first Const naming them; bytes no Const names are ``unused``. With
``overlap_bytes`` (regions that partly cover each other) the parts sum to the
file size: ``sum(by_element_type bytes) + unused.bytes - overlap_bytes``.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np

from ...graph import Graph, Node
from .names import parse_shape
from .keys import IR_DATA

__all__ = ["account"]

_MAX_LISTED = 20  # unused regions listed one by one


def _walk(g: Graph) -> Iterator[Node]:
    for n in g.nodes:
        yield n
        for sub in n.subgraphs.values():
            yield from _walk(sub)


def _int(v: Any) -> int | None:
    try:
        return int(v)
    except (TypeError, ValueError):
        return None


def account(graph: Graph, bin_size: int | None, *, layers: bool = False) -> dict[str, Any]:
    """``bytes``, ``by_element_type`` ({type: {consts, elements, bytes}}), ``shared``, ``unused``, ``overlap_bytes``."""
    by: dict[str, dict[str, int]] = {}
    first: dict[tuple[int, int], str] = {}
    users: dict[tuple[int, int], int] = {}
    listed: list[dict[str, Any]] = []
    for n in _walk(graph):
        if n.op_type != "Const" or n.meta.get(IR_DATA) is not None:
            continue
        off, size = _int(n.attrs.get("offset")), _int(n.attrs.get("size"))
        et = str(n.attrs.get("element_type", "?"))
        try:
            shape = parse_shape(n.attrs.get("shape", ""))
            elements = int(np.prod([d for d in shape if isinstance(d, int)], dtype=np.int64)) if shape else 1
        except (ValueError, TypeError):
            elements = 0
        slot = by.setdefault(et, {"consts": 0, "elements": 0, "bytes": 0})
        slot["consts"] += 1
        slot["elements"] += elements
        if off is None or size is None:
            continue
        key = (off, size)
        users[key] = users.get(key, 0) + 1
        if key not in first:
            first[key] = et
            slot["bytes"] += size
        if layers:
            listed.append({"const": n.name, "element_type": et, "shape": n.attrs.get("shape", ""),
                           "offset": off, "bytes": size})
    regions = sorted(first)
    covered = overlap = 0
    unused: list[tuple[int, int]] = []
    pos = 0
    for off, size in regions:
        end = off + size
        if off > pos:
            unused.append((pos, off - pos))
        elif off < pos:
            overlap += min(pos, end) - off
        covered += max(0, end - max(off, pos))
        pos = max(pos, end)
    total = bin_size if bin_size is not None else pos
    if total > pos:
        unused.append((pos, total - pos))
    shared = {k: c for k, c in users.items() if c > 1}
    out: dict[str, Any] = {
        "bytes": bin_size,
        "by_element_type": dict(sorted(by.items())),
        "shared": {"regions": len(shared), "consts": sum(shared.values()),
                   "bytes_saved": sum(k[1] * (c - 1) for k, c in shared.items())},
        "unused": {"bytes": sum(s for _o, s in unused), "regions": len(unused),
                   "first": [[o, s] for o, s in unused[:_MAX_LISTED]]},
        "overlap_bytes": overlap,
        "past_end_bytes": max(0, pos - total) if bin_size is not None else 0,
    }
    if layers:
        for item in listed:
            item["shared_by"] = users[(item["offset"], item["bytes"])]
        out["consts"] = listed
    return out
