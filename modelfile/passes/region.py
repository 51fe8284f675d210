"""Regions of a graph: find a node by name, the neighbourhood of a node.

Used by ``modelfile graph --around`` (a picture) and ``modelfile extract --around`` (a model).
"""

from __future__ import annotations

import difflib
from collections import deque

from ..errors import ModelfileError
from ..graph import Graph, Node

__all__ = ["find_centre", "is_const", "neighbourhood", "node_neighbours"]


def is_const(node: Node) -> bool:
    """Constants as a node of their own (IR ``Const``): weights that travel with their consumer rather
    than count as a step of a neighbourhood (ncnn layers hold their weights themselves)."""
    return node.op_type == "Const" and not node.inputs


def find_centre(graph: Graph, name: str) -> Node:
    """The node named ``name``, or the producer of the tensor named ``name``."""
    for n in graph.nodes:
        if n.name == name:
            return n
    for n in graph.nodes:
        for v in n.outputs:
            if v.name == name or name in v.names:
                return n
    names = [n.name for n in graph.nodes]
    close = difflib.get_close_matches(name, names, n=3)
    hint = f"did you mean {', '.join(repr(c) for c in close)}?" if close else ""
    raise ModelfileError(f"no node or tensor named {name!r}", code="NOT-FOUND", hint=hint)


def node_neighbours(node: Node) -> list[Node]:
    """Producers of its inputs and consumers of its outputs (with repeats)."""
    out: list[Node] = []
    for v in node.inputs:
        if v is not None and v.producer is not None:
            out.append(v.producer)
    for v in node.outputs:
        out.extend(v.consumers())
    return out


def neighbourhood(graph: Graph, centre: Node, depth: int) -> list[Node]:
    """Nodes within ``depth`` data edges of ``centre`` (either direction), in file order.

    IR Consts do not count as a hop: the Consts feeding a node of the neighbourhood belong to it.
    """
    if depth < 0:
        raise ModelfileError(f"--depth must be >= 0, got {depth}")
    dist = {id(centre): 0}
    queue = deque([centre])
    while queue:
        n = queue.popleft()
        d = dist[id(n)]
        if d == depth:
            continue
        for m in node_neighbours(n):
            if id(m) not in dist and not is_const(m):
                dist[id(m)] = d + 1
                queue.append(m)
    keep = set(dist)
    for n in list(graph.nodes):
        if id(n) in keep:
            for v in n.inputs:
                p = v.producer if v is not None else None
                if p is not None and is_const(p):
                    keep.add(id(p))
    return [n for n in graph.nodes if id(n) in keep]
