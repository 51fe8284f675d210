"""The OpenVINO IR format handler: ``.xml`` + ``.bin`` (v10 and v11)."""

from __future__ import annotations

import importlib.util
import re
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

    def read(self, path: Path, *, check_weights: bool = True, **_: Any) -> Model:
        """Load an IR ``.xml``; its ``.bin`` is mapped lazily (missing is fine until data is needed).

        ``check_weights`` verifies at load that every Const lies inside the ``.bin`` when one exists.
        """
        graph, doc = read_path(Path(path), check_weights=check_weights)
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
        """``openvino.Core().read_model`` in-process: parsing, names, shape inference.

        When ``source`` carries input shapes an edit changed (``IRState.shapes_changed``), the model is
        also compiled for CPU (f32), up to :data:`COMPILE_MAX_LAYERS` layers: shape inference accepts
        some shapes the plugin refuses (an LSTM input of 241 features where the weights take 240);
        bigger models get the recurrent-input check of :func:`.shapes.rnn_input_mismatch` instead.
        """
        if importlib.util.find_spec("openvino") is None:
            return RuntimeCheck(None, skipped='openvino not installed: pip install "modelfile[openvino]"',
                                runtime="openvino")
        import openvino as ov

        path = Path(path)
        bin_path = path.with_suffix(".bin")
        core = ov.Core()
        try:
            if bin_path.exists():
                om = core.read_model(str(path), str(bin_path))
            else:
                om = core.read_model(str(path))
        except Exception as e:  # OpenVINO raises RuntimeError with its own multi-line text
            return RuntimeCheck(False, _first_line(str(e)), runtime="openvino")
        state = getattr(source, "state", None)
        if not getattr(state, "shapes_changed", False):
            return RuntimeCheck(True, runtime="openvino")
        return _compile_check(core, om)


def _compile_check(core: Any, om: Any) -> RuntimeCheck:
    """``compile_model`` on CPU in f32 (small models) or the recurrent-input check (big ones)."""
    from .shapes import rnn_input_mismatch

    n = len(om.get_ops())
    if n > COMPILE_MAX_LAYERS or "CPU" not in core.available_devices:
        why = f"{n:,} layers > {COMPILE_MAX_LAYERS:,}" if n > COMPILE_MAX_LAYERS else "no CPU device"
        bad = rnn_input_mismatch(om)
        if bad is not None:
            return RuntimeCheck(False, bad, runtime="openvino")
        return RuntimeCheck(True, runtime=f"openvino (read_model; compile_model skipped: {why})")
    try:
        core.compile_model(om, "CPU", {"INFERENCE_PRECISION_HINT": "f32"})
    except Exception as e:  # the plugin's refusal, in its words
        return RuntimeCheck(False, "compile_model: " + _first_line(str(e)), runtime="openvino")
    return RuntimeCheck(True, runtime="openvino (read_model + compile_model on CPU)")


def _first_line(text: str) -> str:
    """OpenVINO's message in one line: what failed, and at which node."""
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    # "Exception from src/...:NN:" and "Check '...' failed at ..." say where in OpenVINO, not what
    useful = [ln for ln in lines if not ln.startswith("Exception from ") and not ln.startswith("Check '")]
    node = next((ln for ln in useful if ln.startswith("While validating node")), None)
    what = [ln for ln in useful if not ln.startswith("While validating node")]
    if node is not None:
        m = re.search(r"with friendly_name '([^']*)'", node)
        where = f" (at {m.group(1)})" if m else ""
        return ((what[0] if what else node) + where)[:400]
    return (useful or lines or ["read_model failed"])[0][:400]


HANDLER = IRHandler()
