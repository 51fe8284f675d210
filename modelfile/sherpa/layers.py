"""Finding the SherpaMetaData layer in an encoder graph (and layers that look like a typo of it)."""

from __future__ import annotations

import difflib
from functools import lru_cache
from typing import Any

from ..graph import Graph, Node
from .schema import META_NAME, META_TYPE

__all__ = ["find_meta_layers", "looks_like", "meta_from_node", "params_text"]




def find_meta_layers(graph: Graph) -> tuple[list[Node], list[Node]]:
    """``(exact, near_misses)``: layers that are the meta layer, and ones that look like a typo of it.

    A near miss is a layer whose type looks like ``SherpaMetaData``, or a layer
    of that type with another name, or a 0-in/0-out layer whose name looks like
    ``sherpa_meta_data1``. Linear in the layer count: types are compared once
    each, and names only for 0-in/0-out layers.
    """
    exact: list[Node] = []
    near: list[Node] = []
    for n in graph:
        t = n.op_type
        if t == META_TYPE:
            (exact if n.name == META_NAME else near).append(n)
        elif looks_like(t, META_TYPE) or (not n.inputs and not n.outputs and looks_like(n.name, META_NAME)):
            near.append(n)
    return exact, near


@lru_cache(maxsize=4096)
def looks_like(text: str, target: str) -> bool:
    """Whether ``text`` could be a misspelt ``target`` (not equal to it).

    Cheap filters first (length within 3, most letters shared) so that
    difflib runs only on real candidates; cached because layer types repeat.
    """
    if text == target or abs(len(text) - len(target)) > 3:
        return False
    a, b = text.lower(), target.lower()
    if a == b:
        return True
    if len(set(a) & set(b)) < 0.7 * len(set(b)):
        return False
    return difflib.SequenceMatcher(None, a, b).ratio() >= 0.8


def meta_from_node(node: Node) -> dict[int, Any]:
    """Key -> decoded value of a meta layer (undecodable values as their text)."""
    out: dict[int, Any] = {}
    for k, p in node.attrs.items():
        try:
            out[k] = p.value
        except ValueError:
            out[k] = p.text
    return out


def params_text(node: Node) -> str:
    """The params part of a layer line."""
    return " ".join(p.render() for p in node.attrs.values())
