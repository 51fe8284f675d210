"""The input/output names ``openvino.Core().read_model`` reports, v10 legacy names included.

A v10 IR names its inputs and outputs by layer: ``update_v10_model``
(``src/inference/src/model_reader.cpp``) adds every Parameter's friendly name
to its tensor names, and for every Result the producing layer's friendly name
(``name.port`` when the producer has several outputs,
``create_ie_output_name``). It then refuses the file when two inputs/outputs
share a name ("Model tensor names have collisions") or when such a layer name
is a tensor name of another input/output ("Model operation names have
collisions with tensor names"). v11 files name tensors by their port
``names`` only.

This module answers, for a graph, which names each model input and output
carries (:func:`io_names`), which value a name means (:func:`implied_owner`),
and which names collide (:func:`tensor_name_collisions`, the check the save
gate and lint run). Nothing here edits a graph.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from ...graph import Graph, Value
from .keys import IR_VERSION

__all__ = [
    "NameProblem",
    "implied_names",
    "io_names",
    "ir_version",
    "legacy_output_name",
    "name_problems",
    "tensor_name_collisions",
]


def ir_version(graph: Graph) -> int:
    """The IR version a graph was read from (``10``/``11``); a graph built in memory is v11."""
    v = graph.meta.get(IR_VERSION)
    return int(v) if isinstance(v, int) else 11


def legacy_output_name(value: Value) -> str:
    """``create_ie_output_name``: the producer's friendly name, ``name.port`` when it has several outputs."""
    p = value.producer
    if p is None:
        return value.name
    return p.name if len(p.outputs) == 1 else f"{p.name}.{value.index}"


def implied_names(graph: Graph) -> dict[int, list[str]]:
    """``id(value) -> names`` that v10 reading adds to model inputs/outputs (empty for v11)."""
    if ir_version(graph) != 10:
        return {}
    out: dict[int, list[str]] = {}
    for v in graph.outputs:
        nm = legacy_output_name(v)
        if nm:
            out.setdefault(id(v), [])
            if nm not in out[id(v)]:
                out[id(v)].append(nm)
    for v in graph.inputs:
        p = v.producer
        if p is not None and p.op_type == "Parameter" and p.name:
            out.setdefault(id(v), [])
            if p.name not in out[id(v)]:
                out[id(v)].insert(0, p.name)
    return out


def io_names(graph: Graph, value: Value, implied: dict[int, list[str]] | None = None) -> list[str]:
    """The names read_model reports for this value: the layer-derived v10 names first, then port names."""
    imp = (implied if implied is not None else implied_names(graph)).get(id(value), [])
    out = list(imp)
    for n in value.names:
        if n not in out:
            out.append(n)
    return out


@dataclass(frozen=True, slots=True)
class NameProblem:
    """A name two model inputs/outputs (or an I/O and a layer-derived v10 name) would share."""

    name: str
    message: str
    #: friendly names of the layers involved (Parameter / Result producers)
    layers: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class IoEntry:
    """One model input or output as :func:`name_problems` sees it (format-neutral, so lint can build them)."""

    kind: str  # "input" / "output"
    key: Any  # identity of the tensor (outputs sharing a producer port share it)
    names: tuple[str, ...]  # port tensor names
    legacy: str  # v10 layer-derived name ("" for v11)
    layer: str  # the Parameter / producing layer's friendly name (for messages)


def name_problems(entries: Iterable[IoEntry], version: int) -> list[NameProblem]:
    """The checks of ``update_v10_model`` (v10) / tensor-name uniqueness among inputs and outputs (v11).

    v10: an input/output tensor name may not belong to another input/output tensor, and a layer-derived
    name may not be another I/O tensor's name. v11: OpenVINO silently renames the later of two tensors that
    share a name (``ResolveNameCollisions``), so an I/O name shared between tensors is reported too.
    """
    items = list(entries)
    owner: dict[str, tuple[Any, str]] = {}
    problems: list[NameProblem] = []
    seen: set[tuple[str, str]] = set()

    def clash(name: str, a: str, b: str, why: str) -> None:
        k = (name, why)
        if k in seen:
            return
        seen.add(k)
        problems.append(NameProblem(name, why, (a, b)))

    ordered = [e for e in items if e.kind == "input"] + [e for e in items if e.kind == "output"]
    for e in ordered:
        for n in e.names:
            o = owner.get(n)
            if o is not None and o[0] != e.key:
                clash(n, o[1], e.layer, f"tensor name {n!r} is on {o[1]!r} and on {e.layer!r}: "
                      + ("read_model fails with 'Model tensor names have collisions'" if version == 10
                         else "OpenVINO renames one of them"))
            owner.setdefault(n, (e.key, e.layer))
    if version == 10:
        # Results first, then Parameters, as update_v10_model adds them
        for e in [x for x in ordered if x.kind == "output"] + [x for x in ordered if x.kind == "input"]:
            if not e.legacy:
                continue
            o = owner.get(e.legacy)
            if o is not None and o[0] != e.key:
                clash(e.legacy, o[1], e.layer,
                      f"v10 {e.kind} name {e.legacy!r} (from layer {e.layer!r}) is a tensor name of {o[1]!r}: "
                      "read_model fails with 'Model operation names have collisions with tensor names'")
            owner.setdefault(e.legacy, (e.key, e.layer))
    return problems


def _entries(graph: Graph) -> list[IoEntry]:
    v10 = ir_version(graph) == 10
    out: list[IoEntry] = []
    for v in graph.inputs:
        p = v.producer
        layer = p.name if p is not None else v.name
        out.append(IoEntry("input", id(v), tuple(v.names), layer if v10 else "", layer))
    for v in graph.outputs:
        p = v.producer
        layer = p.name if p is not None else v.name
        out.append(IoEntry("output", id(v), tuple(v.names), legacy_output_name(v) if v10 else "", layer))
    return out


def tensor_name_collisions(model: Any) -> list[NameProblem]:
    """Names that would make ``read_model`` refuse (v10) or rename (v11) a model input/output.

    Takes a :class:`~modelfile.model.Model` or a :class:`~modelfile.graph.Graph`; the save gate calls it
    before writing an IR.
    """
    graph = model if isinstance(model, Graph) else model.graph
    return name_problems(_entries(graph), ir_version(graph))
