"""The :class:`Model` wrapper: a graph plus the format handler that reads and writes it."""

from __future__ import annotations

import os
import weakref
from collections.abc import Callable, Iterator, MutableMapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .errors import ModelfileError
from .graph import MODEL_REF, Graph, Node, Value

if TYPE_CHECKING:
    from .formats.base import EditOps, FormatHandler
    from .report import SaveResult

__all__ = ["Model"]


class Model:
    """A loaded model file: ``graph`` plus what its format needs to write it back.

    Create with :func:`modelfile.load`. ``format`` is the registered format
    name (``"ncnn"``, ``"openvino"``); ``path`` is the file it came from;
    ``state`` is the format's own typed record (the source document, the
    weights file); ``meta`` is free for callers.
    """

    #: the save gate (:func:`modelfile.saving.save_model`), installed by the ``modelfile`` package so
    #: that this module does not depend on the linter and the runtimes
    save_hook: "Callable[..., SaveResult]"

    def __init__(self, graph: Graph, fmt: str, path: Path | None, handler: "FormatHandler",
                 state: Any = None) -> None:
        self.graph = graph
        self.format = fmt
        self.path = path
        self.handler = handler
        #: the format's typed state (see the format package's ``State`` class)
        self.state = state
        self._meta: dict[str, Any] = {}
        # nodes reach their model through their graph (modelfile.views: weights live in the model)
        graph.meta[MODEL_REF] = weakref.ref(self)

    @property
    def meta(self) -> MutableMapping[str, Any]:
        """Free-form data; the legacy keys of format state map onto :attr:`state`."""
        return _MetaView(self)

    # -- convenience API -------------------------------------------------
    @property
    def nodes(self) -> Any:
        """The graph's nodes in file order."""
        return self.graph.nodes

    @property
    def inputs(self) -> list[Value]:
        """Graph inputs."""
        return self.graph.inputs

    @property
    def outputs(self) -> list[Value]:
        """Graph outputs (the same meaning for every format)."""
        return self.graph.outputs

    @property
    def ops(self) -> "EditOps":
        """The format's edit operations bound to this model."""
        return self.handler.ops(self)

    def find_node(self, name: str) -> Node | None:
        """First node with this name."""
        return self.graph.find_node(name)

    def save(self, path: str | os.PathLike[str] | None = None, *, force: bool = False, verify: bool = True,
             **options: Any) -> "SaveResult":
        """Write the model to ``path`` (default: where it was read from) through the save gate.

        The files are rendered to a staging folder, read back, linted and
        (``verify``) loaded in the format's runtime when it is installed; only
        then are they moved into place, together. ``force`` writes even when a
        check fails. See :func:`modelfile.saving.save_model`.
        """
        target = Path(path) if path is not None else self.path
        if target is None:
            raise ModelfileError("no output path given")
        return Model.save_hook(self, Path(target), force=force, verify=verify, **options)

    def to_text(self) -> str:
        """The serialized main file as text (ncnn .param / IR .xml)."""
        text = self.handler.to_text(self)
        if text is None:
            raise ModelfileError(f"this {self.format} model has no text form", file=str(self.path or ""))
        return text

    def __repr__(self) -> str:
        return f"Model({self.format}, {str(self.path)!r}, {len(self.graph.nodes)} nodes)"


# keys earlier versions kept in Model.meta, now attributes of the format state
_STATE_KEYS = {"binary": "binary", "bin_path": "bin_path", "weights": "weights", "openvino": "doc"}


class _MetaView(MutableMapping[str, Any]):
    """``model.meta``: the caller's dict, with the legacy format keys read from ``model.state``."""

    __slots__ = ("_m",)

    def __init__(self, model: Model) -> None:
        self._m = model

    def _attr(self, key: str) -> str | None:
        a = _STATE_KEYS.get(key)
        return a if a is not None and hasattr(self._m.state, a) else None

    def __getitem__(self, key: str) -> Any:
        a = self._attr(key)
        if a is not None:
            v = getattr(self._m.state, a)
            if v is None:
                raise KeyError(key)
            return v
        if key == "ncnn.outputs":
            return self._m.graph.outputs
        return self._m._meta[key]

    def __setitem__(self, key: str, value: Any) -> None:
        a = self._attr(key)
        if a is not None:
            setattr(self._m.state, a, value)
        elif key == "ncnn.outputs":
            self._m.graph.outputs = list(value)
        else:
            self._m._meta[key] = value

    def __delitem__(self, key: str) -> None:
        a = self._attr(key)
        if a is not None:
            setattr(self._m.state, a, None)
        else:
            del self._m._meta[key]

    def __iter__(self) -> Iterator[str]:
        keys = [k for k in _STATE_KEYS if self._attr(k) is not None and getattr(self._m.state, _STATE_KEYS[k]) is not None]
        return iter(keys + list(self._m._meta))

    def __len__(self) -> int:
        return sum(1 for _ in self)


# re-exported for code written against earlier versions
from .fileio import atomic_write  # noqa: E402,F401
from .report import SaveResult  # noqa: E402,F401

