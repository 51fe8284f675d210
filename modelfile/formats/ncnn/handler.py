"""The ncnn format handler: ``.param`` (text or binary ``.param.bin``) + ``.bin``."""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ...fileio import atomic_write, copy_file
from ...model import Model
from ...saving import SaveResult
from ..base import FormatHandler, RuntimeCheck
from . import binparam
from .layers import BUILTIN_TYPES
from .reader import read_path
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

    def sniff(self, path: Path, head: bytes) -> int:
        return _sniff(path, head)

    def read(self, path: Path, *, strict: bool = True, **_: Any) -> Model:
        path = Path(path)
        binary = is_binary(_head(path))
        if binary:
            graph = binparam.read_path(path)
        else:
            graph, _doc = read_path(path, strict=strict)
        # ncnn's outputs are the blobs nothing consumes; edits (cut --output) may choose others
        graph.outputs = graph.dangling_values()
        return Model(graph, "ncnn", path, self, NcnnState(binary=binary, bin_path=bin_path_for(path)))

    @staticmethod
    def state(model: Model) -> NcnnState:
        st = model.state
        if not isinstance(st, NcnnState):
            st = model.state = NcnnState()
        return st

    def weights(self, model: Model) -> "WeightStore | None":
        """The model's weight store, mapping the ``.bin`` on first use (None without a ``.bin``)."""
        st = self.state(model)
        if st.weights is None and st.bin_path is not None and Path(st.bin_path).is_file():
            from .weights import WeightStore

            st.weights = WeightStore.from_model(model)
        return st.weights

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
        dirty = bool(store is not None and store.dirty)
        if weights and dirty:
            assert store is not None
            store.plan(model.graph)  # a .bin that cannot be written must fail before anything is written
        if st.binary:
            data = binparam.to_bytes(model.graph)
        else:
            text = self.to_text(model, reformat=reformat, style=style)
            assert text is not None
            data = text.encode("utf-8")
        with atomic_write(path, "wb") as f:
            f.write(data)
        result.files.append(path)
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

    def describe(self, model: Model) -> dict[str, Any]:
        from .describe import describe

        return describe(model)

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


def _same_file(a: Path, b: Path) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False


HANDLER = NcnnHandler()
