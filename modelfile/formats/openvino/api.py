"""Module-level entry points of the IR format (re-exported by the package)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ...graph import Graph, Node, Value
from ...model import Model
from ...report import SaveResult
from .handler import HANDLER
from .names import format_shape
from .reader import IRDocument
from .writer import render, write_model

__all__ = ["document", "new_parameter", "new_result", "read", "read_text", "to_text", "write"]


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
