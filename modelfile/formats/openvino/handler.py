"""The OpenVINO IR format handler: ``.xml`` + ``.bin`` (v10 and v11)."""

from __future__ import annotations

import importlib.util
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ...gcpause import paused_gc
from ...model import Model
from ...report import SaveResult
from ..base import FormatHandler, RuntimeCheck
from .reader import IRDocument, read_bytes, read_path
from .sniff import sniff as _sniff

if TYPE_CHECKING:
    from .ops import IROps

__all__ = ["HANDLER", "IRHandler", "IRState"]


#: the save gate compiles a model whose input shapes an edit changed up to this many layers
#: (compile_model costs ~1 ms per layer: 22 s on a 20,000-op chain that read_model reads in 0.6 s)
COMPILE_MAX_LAYERS = 5000

_NO_OPENVINO = 'openvino not installed: pip install "modelfile[openvino]"'


@dataclass(slots=True)
class IRState:
    """What an IR model carries besides its graph: the source document (None when built in memory).

    ``shapes_changed``: an edit changed input shapes or types in a way that may change what OpenVINO
    infers (set by :func:`.shapes.infer_touched`); the runtime check then also compiles the model.
    """

    doc: IRDocument | None = None
    shapes_changed: bool = False


class IRHandler(FormatHandler):
    """OpenVINO IR."""

    name = "openvino"
    capabilities = frozenset({"state", "fp16-consts"})

    def sniff(self, path: Path, head: bytes) -> int:
        return _sniff(path, head)

    def read(self, path: Path, *, check_weights: bool = True, prior: Model | None = None, **_: Any) -> Model:
        """Load an IR ``.xml``; its ``.bin`` is mapped lazily (missing is fine until data is needed).

        ``check_weights`` verifies at load that every Const lies inside the ``.bin`` when one exists.
        ``prior``: the model the file was just written from (the save gate's re-read): a layer whose text
        is still its source text takes that read's parse (see :func:`.reader.read_bytes`).
        """
        graph, doc = read_path(Path(path), check_weights=check_weights,
                               prior=prior.graph if prior is not None and prior.format == self.name else None)
        return Model(graph, "openvino", Path(path), self, IRState(doc))

    def read_text(self, xml: str | bytes, path: Path | None = None) -> Model:
        """Load an IR from a string (``path`` locates the ``.bin`` and names the file in errors)."""
        raw = xml.encode("utf-8") if isinstance(xml, str) else xml
        graph, doc = read_bytes(raw, path)
        return Model(graph, "openvino", path, self, IRState(doc))

    def to_text(self, model: Model, **options: Any) -> str | None:
        from .writer import render

        with paused_gc():
            return render(model, **options).text

    def companions(self, path: Path) -> list[Path]:
        return [Path(path).with_suffix(".bin")]

    def write(self, model: Model, path: Path, *, final: Path | None = None, **options: Any) -> SaveResult:
        from .writer import write_model

        with paused_gc():
            return write_model(model, Path(path), final=final, **options)

    def describe(self, model: Model, *, layers: bool = False) -> dict[str, Any]:
        from .summary import describe

        return describe(model, layers=layers)

    def ops(self, model: Model) -> "IROps":
        from .ops import IROps

        return IROps(model)

    def runtime_check(self, path: Path, *, custom_layers: Sequence[str] = (), source: Model | None = None,
                      timeout: float = 60.0) -> RuntimeCheck:
        """``openvino.Core().read_model``: parsing, names, shape inference (in a worker process, see
        :mod:`.runtime`).

        When ``source`` carries input shapes an edit changed (``IRState.shapes_changed``), the model is
        also compiled for CPU (f32), up to :data:`COMPILE_MAX_LAYERS` layers: shape inference accepts
        some shapes the plugin refuses (an LSTM input of 241 features where the weights take 240);
        bigger models get the recurrent-input check of :func:`.ovworker.rnn_input_mismatch` instead.
        """
        if importlib.util.find_spec("openvino") is None:
            return RuntimeCheck(None, skipped=_NO_OPENVINO, runtime="openvino")
        from .runtime import check_in_worker

        path = Path(path)
        bin_path = path.with_suffix(".bin")
        state = getattr(source, "state", None)
        r = check_in_worker(path, bin_path if bin_path.exists() else None,
                            compile=bool(getattr(state, "shapes_changed", False)), max_layers=COMPILE_MAX_LAYERS,
                            timeout=timeout)
        if r["ok"] is None:
            return RuntimeCheck(None, skipped=r["message"], runtime="openvino")
        return RuntimeCheck(bool(r["ok"]), r["message"], runtime=r["runtime"])

    def warm_runtime(self) -> None:
        from .runtime import warm

        warm()


HANDLER = IRHandler()
