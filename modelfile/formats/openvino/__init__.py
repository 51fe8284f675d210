"""OpenVINO IR (``.xml`` + ``.bin``, v10/v11): the format handler used by :func:`modelfile.load`.

>>> m = modelfile.load("model.xml")        # lazy: Const data stays in the .bin
>>> const_array(m.find_node("weights"))    # decoded on request (mmap)
>>> m.save("out.xml")                      # byte-identical when nothing changed

Public API: :func:`read`, :func:`write`, :func:`to_text`, :func:`describe`
(the :class:`~modelfile.model.FormatHandler` functions), :func:`is_modified`,
the Const helpers :func:`const_array`, :func:`const_info`,
:func:`set_const_value`, :func:`new_const`, and :func:`new_parameter` /
:func:`new_result`. ``write`` options: ``version`` (10/11), ``prune``,
``renumber``, ``weights`` ("auto"/"rewrite"/"copy"), ``link``.
:mod:`.verify` compares files with the OpenVINO runtime (optional dependency).

Modules: ``xmlscan`` (offset-keeping XML scanning), ``reader`` (text -> Graph),
``writer`` (Graph -> text, splicing the original), ``weights`` (.bin and element
codecs), ``names`` (tensor names, shapes, element types), ``describe`` (info),
``edit`` (building blocks for the transforms).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ...graph import Graph, Node, Value
from ...model import Model
from ...saving import SaveResult
from .describe import describe
from .handler import HANDLER, IRState
from .names import format_names, format_shape, parse_names, parse_shape
from .reader import GraphSource, IRDocument, LayerSource
from .weights import (
    Weights, const_array, const_bytes, const_info, decode, encode, element_type_of_dtype, new_const,
    set_const_value,
)
from .writer import is_modified, render, write_model

__all__ = [
    "GraphSource", "HANDLER", "IRDocument", "IRState", "LayerSource", "Weights", "const_array", "const_bytes", "const_info",
    "decode", "describe", "document", "element_type_of_dtype", "encode", "format_names", "format_shape",
    "is_modified", "name", "new_const", "new_parameter", "new_result", "parse_names", "parse_shape", "read",
    "read_text", "set_const_value", "to_text", "write",
]

name = "openvino"


def read(path: Path, *, check_weights: bool = True, **_: Any) -> Model:
    """Load an IR ``.xml`` (its ``.bin`` is opened lazily; a missing ``.bin`` is fine until data is needed).

    ``check_weights`` verifies at load that every Const lies inside the ``.bin`` when one exists.
    """
    return HANDLER.read(Path(path), check_weights=check_weights)


def read_text(xml: str | bytes, path: Path | None = None) -> Model:
    """Load an IR from a string (``path``, if given, locates the ``.bin`` and names the file in errors)."""
    return HANDLER.read_text(xml, path)


def document(model: Model) -> IRDocument | None:
    """The source document of a model read from an IR file (``None`` for a model built in memory)."""
    doc = getattr(model.state, "doc", None)
    return doc if isinstance(doc, IRDocument) else None


def write(model: Model, path: Path, **options: Any) -> SaveResult:
    """Write ``path`` (.xml) and its ``.bin`` without checks (:meth:`Model.save` is the gated path);
    see :func:`modelfile.formats.openvino.writer.write_model`."""
    return write_model(model, Path(path), **options)


def to_text(model: Model, **options: Any) -> str:
    """The IR XML the writer would produce, as text (constant offsets as a rewritten ``.bin`` would have)."""
    return render(model, **options).text


def new_parameter(graph: Graph, name: str, dtype: str, shape: Any, *, names: list[str] | None = None,
                  index: int | None = None) -> Node:
    """Create a ``Parameter`` (opset1) and add it to ``graph`` and ``graph.inputs`` (at the end by default)."""
    node = Node("Parameter", name, version="opset1")
    node.attrs = {"shape": format_shape(shape), "element_type": dtype}
    nm = list(names) if names is not None else [name]
    node.append_output(Value(nm[0] if nm else "", dtype=dtype, shape=shape, names=nm))
    if index is None:
        params = [i for i, n in enumerate(graph.nodes) if n.op_type == "Parameter"]
        graph.insert(params[-1] + 1 if params else 0, node)
        graph.inputs.append(node.outputs[0])
    else:
        graph.insert(index, node)
        graph.inputs.append(node.outputs[0])
    return node


def new_result(graph: Graph, value: Value, name: str) -> Node:
    """Create a ``Result`` (opset1) on ``value``; appended after the last node and to ``graph.outputs``."""
    node = Node("Result", name, inputs=[value], version="opset1")
    graph.append(node)
    graph.outputs.append(value)
    return node
