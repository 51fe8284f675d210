"""The ncnn format handler: ``.param`` (text or binary ``.param.bin``) + ``.bin``."""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ...fileio import atomic_write, copy_file
from ...graph import Graph, Node
from ...model import Model
from ...report import SaveResult
from ..base import FormatHandler, RuntimeCheck
from .layers import BUILTIN_TYPES
from .reader import LineSource, line_memo, read_path, read_text
from .sniff import is_binary
from .sniff import sniff as _sniff
from .writer import Style
from .writer import to_text as _graph_to_text

if TYPE_CHECKING:
    from .ops import NcnnOps
    from .weights import WeightStore

__all__ = ["HANDLER", "NcnnHandler", "NcnnState", "bin_path_for"]


@dataclass(slots=True)
class NcnnState:
    """What an ncnn model carries besides its graph."""

    #: read from a binary ``.param.bin``
    binary: bool = False
    #: the weights file that belongs to the param it was read from
    bin_path: Path | None = None
    #: the weights, mapped when first needed (see :meth:`NcnnHandler.weights`)
    weights: "WeightStore | None" = None
    #: the layers in file order as read: the weights follow them until the store is made
    source_nodes: tuple[Node, ...] = ()
    #: the ``.id.h`` ncnn2mem writes beside a binary param (set by ``convert --param-format binary``);
    #: written with the param, through the same save, so the three files change together
    id_header: str | None = None


def bin_path_for(param_path: Path) -> Path:
    """The weights file next to a param: ``x.param`` / ``x.param.bin`` -> ``x.bin``."""
    n = param_path.name
    if n.endswith(".param.bin"):
        return param_path.with_name(n[: -len(".param.bin")] + ".bin")
    if n.endswith(".param"):
        return param_path.with_name(n[: -len(".param")] + ".bin")
    return param_path.with_name(n + ".bin")


def _head(path: Path) -> bytes:
    with open(path, "rb") as f:
        return f.read(4)


class NcnnHandler(FormatHandler):
    """ncnn params and weights."""

    name = "ncnn"
    #: tagged-weights: flagged .bin blobs fp32 <-> fp16 (passes/convert); param-bin: ncnn2mem's binary params
    capabilities = frozenset({"tagged-weights", "param-bin"})

    def sniff(self, path: Path, head: bytes) -> int:
        return _sniff(path, head)

    def read(self, path: Path, *, strict: bool = True, prior: Model | None = None, **_: Any) -> Model:
        """Load a ``.param`` (text or binary). ``prior``: a model this file was just written from (the save
        gate's re-read): the lines it shares with that model's source are taken from that parse, the rest
        are parsed (the memo is keyed by line text, so a wrong prior costs misses, never a different read)."""
        path = Path(path)
        binary = is_binary(_head(path))
        if binary:
            from . import binparam

            graph = binparam.read_path(path)
        else:
            memo = line_memo(prior.graph) if prior is not None else None
            graph, _doc = read_path(path, strict=strict, memo=memo)
        return self._model(graph, path, binary)

    def read_text(self, text: str, path: Path | None = None) -> Model:
        """A text ``.param`` from a string (``path`` locates the ``.bin`` and names the file in errors)."""
        graph, _doc = read_text(text, str(path or ""))
        return self._model(graph, Path(path) if path is not None else None, False)

    def _model(self, graph: Graph, path: Path | None, binary: bool) -> Model:
        # ncnn's outputs are the blobs nothing consumes; edits (cut --output) may choose others
        graph.outputs = graph.dangling_values()
        state = NcnnState(binary=binary, bin_path=bin_path_for(path) if path is not None else None,
                          source_nodes=tuple(graph.nodes))
        model = Model(graph, "ncnn", path, self, state)
        if binary and state.bin_path is not None and state.bin_path.is_file():
            self.weights(model)  # binary layers keep no readable snapshot of their params: map now
        return model

    @staticmethod
    def state(model: Model) -> NcnnState:
        st = model.state
        if not isinstance(st, NcnnState):
            st = model.state = NcnnState()
        return st

    def weights(self, model: Model) -> "WeightStore | None":
        """The model's weight store, mapping the ``.bin`` on first use (None without a ``.bin``).

        The weights belong to the graph from the moment it is read: a store made
        after edits through the public API locates each layer's bytes from the
        layers as they were read, so removed, moved and re-parametrised layers
        still get a matching ``.bin``.
        """
        st = self.state(model)
        if st.weights is None and st.bin_path is not None and Path(st.bin_path).is_file():
            import numpy as np

            from .weights import WeightStore

            path = Path(st.bin_path)
            data: Any = np.memmap(path, dtype=np.uint8, mode="r") if path.stat().st_size else b""
            source = [(n, _as_read(n)) for n in st.source_nodes] if st.source_nodes else None
            st.weights = WeightStore(model.graph, data, path=path, source=source)
        return st.weights

    def _edited(self, model: Model) -> bool:
        """Whether the layers that read weights differ from the file's (order, types or params)."""
        st = self.state(model)
        nodes = tuple(model.graph.nodes)
        if nodes == st.source_nodes and not any(_as_read(n) is not n for n in nodes):
            return False
        from .weights import layer_layout

        def weighted(seq: Sequence[Node]) -> list[tuple[int, str, tuple[Any, ...]]]:
            out = []
            for n in seq:
                view = _as_read(n) if seq is st.source_nodes else n
                layout = layer_layout(view)
                # a layer of unknown type with no inputs and outputs is metadata (SherpaMetaData and
                # its misspellings): it reads no weights
                if layout == [] or (layout is None and not n.inputs and not n.outputs):
                    continue
                out.append((id(n), view.op_type, tuple(view.attrs.values())))
            return out

        return weighted(st.source_nodes) != weighted(nodes)

    def to_text(self, model: Model, *, reformat: bool = False, style: Style | None = None) -> str | None:
        if self.state(model).binary:
            return None
        return _graph_to_text(model.graph, style, reformat=reformat)

    def companions(self, path: Path) -> list[Path]:
        return [bin_path_for(Path(path))]

    def write(self, model: Model, path: Path, *, final: Path | None = None, reformat: bool = False,
              style: Style | None = None, weights: bool = True, **_: Any) -> SaveResult:
        """Write the param and, when it must change or move, the weights next to ``path``.

        The ``.bin`` is rewritten when the layers that read weights changed;
        copied when the model goes to a new place; left alone otherwise.
        """
        path = Path(path)
        final = Path(final) if final is not None else path
        st = self.state(model)
        result = SaveResult(path=path)
        store = st.weights
        if store is None and weights and self._edited(model):
            store = self.weights(model)
        dirty = bool(store is not None and store.dirty)
        if weights and dirty:
            assert store is not None
            store.plan(model.graph)  # a .bin that cannot be written must fail before anything is written
        if st.binary:
            from . import binparam

            data = binparam.to_bytes(model.graph)
        else:
            text = self.to_text(model, reformat=reformat, style=style)
            assert text is not None
            data = text.encode("utf-8")
        with atomic_write(path, "wb") as f:
            f.write(data)
        result.files.append(path)
        if st.binary and st.id_header is not None:
            header = path.with_name(bin_path_for(path).name[: -len(".bin")] + ".id.h")
            with atomic_write(header, "wb") as f:
                f.write(st.id_header.encode("utf-8"))
            result.files.append(header)
        if not weights:
            return result
        src_bin = Path(st.bin_path) if st.bin_path is not None else bin_path_for(model.path or final)
        dst_bin = bin_path_for(path)
        if dirty:
            assert store is not None
            with atomic_write(dst_bin, "wb") as f:
                store.write_to(f, model.graph)
            result.weights = "rewritten"
            result.files.append(dst_bin)
        elif src_bin.exists() and not _same_file(src_bin, bin_path_for(final)):
            copy_file(src_bin, dst_bin)
            result.weights = "copied"
            result.files.append(dst_bin)
        elif src_bin.exists():
            result.weights = "unchanged"
        return result

    def describe(self, model: Model, *, layers: bool = False) -> dict[str, Any]:
        from .summary import describe

        return describe(model, layers=layers)

    def ops(self, model: Model) -> "NcnnOps":
        from .ops import NcnnOps

        return NcnnOps(model)

    def runtime_check(self, path: Path, *, custom_layers: Sequence[str] = (), source: Model | None = None,
                      timeout: float = 60.0) -> RuntimeCheck:
        from .runtime import check_load

        # types the app must register itself (SherpaMetaData, a VITS app's ops...) load as placeholders
        known = set(custom_layers)
        if source is not None:
            known.update(n.op_type for n in source.graph.nodes if n.op_type not in BUILTIN_TYPES)
        return check_load(Path(path), bin_path_for(Path(path)), custom_layers=sorted(known), timeout=timeout)

    def warm_runtime(self) -> None:
        from .runtime import warm

        warm()


def _as_read(node: Node) -> Node:
    """``node`` with the type and params its line had in the file (itself when unchanged)."""
    src = node.source
    if isinstance(src, LineSource):
        sig = src.sig
        if node.op_type != sig[0] or tuple(node.attrs.values()) != sig[4]:
            return Node(sig[0], node.name, attrs={p.id: p for p in sig[4]})
    return node


def _same_file(a: Path, b: Path) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False


HANDLER = NcnnHandler()
