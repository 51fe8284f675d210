"""modelfile: edit ncnn and OpenVINO IR model files losslessly.

>>> import modelfile
>>> m = modelfile.load("encoder.ncnn.param")
>>> m.find_node("in0")
>>> m.save("out.ncnn.param")
"""

import os

from .errors import Diagnostic, ModelfileError, Severity
from . import graph as _graph
from .graph import Graph, Node, SourcePos, Value
from .io import load
from .model import Model
from .report import Report, SaveResult



def _save_through_gate(model: Model, target: "os.PathLike[str]", **options: object) -> SaveResult:
    from .saving import save_model  # imported by the first save, not by every command's start

    return save_model(model, target, **options)  # type: ignore[arg-type]


Model.save_hook = _save_through_gate  # the model saves through the gate (see modelfile.saving)

__all__ = [
    "Diagnostic", "Graph", "Model", "ModelfileError", "Node", "Report", "SaveResult", "Severity", "SourcePos",
    "Value", "add_output", "bypass", "insert_after", "load", "new_node", "params", "remove", "replace", "weights",
]

# The pass-writing API (modelfile.api) is imported on first use: it pulls in numpy.
_API = frozenset({"add_output", "bypass", "insert_after", "new_node", "params", "remove", "replace", "weights"})


def _view(kind: str, node: Node) -> object:
    from . import api

    return getattr(api, kind)(node)


_graph.VIEW_HOOK[:] = [_view]  # Node.params / Node.weights (graph.py sits below the API)


def __getattr__(name: str) -> object:
    if name in _API:
        from . import api

        return getattr(api, name)
    raise AttributeError(f"module 'modelfile' has no attribute {name!r}")


__version__ = "0.1.0"
