"""Which format adapter serves a node, and the typed views it hands out.

Each format package has a ``view`` module (``modelfile/formats/<name>/view.py``) with the same
functions: ``params``, ``weights``, and the builder hooks :mod:`modelfile.api.build` calls. The
adapter is found through the model's handler, so nothing here names a format.
"""

from __future__ import annotations

import importlib
from types import ModuleType
from typing import TYPE_CHECKING, Any

from ..errors import ModelfileError
from ..graph import Node
from ..graphedit import model_of

if TYPE_CHECKING:
    from ..model import Model

__all__ = ["adapter", "adapter_of_model", "params", "weights"]


def adapter_of_model(model: "Model") -> ModuleType:
    """The ``view`` module of ``model``'s format package."""
    package = type(model.handler).__module__.rsplit(".", 1)[0]
    try:
        return importlib.import_module(f"{package}.view")
    except ModuleNotFoundError:
        raise ModelfileError(f"the {model.format} format offers no Python editing API",
                             file=str(model.path or "")) from None


def adapter(node: Node) -> ModuleType:
    """The ``view`` module for ``node``: its model's format, else the format that recognises the node."""
    model = model_of(node)
    if model is not None:
        return adapter_of_model(model)
    from ..formats import registry

    for name in registry.names():
        package = type(registry.get(name)).__module__.rsplit(".", 1)[0]
        try:
            mod = importlib.import_module(f"{package}.view")
        except ModuleNotFoundError:
            continue
        if mod.owns(node):
            return mod
    raise ModelfileError(f"layer {node.name!r} ({node.op_type}) belongs to no model and no format recognises it")


def params(node: Node) -> Any:
    """Named, typed view of ``node``'s params: ncnn's schema names and defaults, IR ``<data>`` typed per op.

    Read ``view.name`` / ``view["name"]`` (ncnn also ``view[id]``); assign to change the file
    (spelled in the file's own style); ``del`` drops a key (ncnn's default applies).
    """
    return adapter(node).params(node)


def weights(node: Node) -> Any:
    """The data of ``node`` as numpy arrays: an ncnn layer's ``.bin`` blobs by role, an IR Const's ``value``.

    Decoded lazily (fp16/int8/tables); assigning re-encodes and the writer re-lays the weights file.
    """
    return adapter(node).weights(node)
