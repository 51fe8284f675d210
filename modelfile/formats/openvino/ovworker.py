"""The runtime worker's program: OpenVINO's ``read_model`` (and ``compile_model`` after a shape edit) on
the files the save gate stages, answering :mod:`.runtime` one JSON line per request.

The child process loads this file by path (not as part of the package, so that it does not import
modelfile to start) and runs :func:`serve`: keep its top level to the standard library.
:func:`check`, :func:`first_line` and :func:`rnn_input_mismatch` also serve in-process.
"""

from __future__ import annotations

import json
import re
import sys
from typing import Any

__all__ = ["check", "first_line", "rnn_input_mismatch", "serve"]

#: recurrent ops: the input of their ``W`` weights ``[dirs, gates*hidden, input_size]``
_RNN_W = {"LSTMSequence": 4, "GRUSequence": 3, "RNNSequence": 3, "LSTMCell": 3, "GRUCell": 2, "RNNCell": 2}


def first_line(text: str) -> str:
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


def rnn_input_mismatch(om: Any) -> str | None:
    """A recurrent op whose input's feature size differs from its weights' (None: none), in an ``ov.Model``.

    OpenVINO's shape inference accepts it (``input[157,1,241]`` into an LSTM of input size 240 reads
    fine) and only ``compile_model`` refuses it ("could not create reorder primitive").
    """
    for op in om.get_ordered_ops():
        w = _RNN_W.get(op.get_type_name())
        if w is None or op.get_input_size() <= w:
            continue
        x, ws = op.get_input_partial_shape(0), op.get_input_partial_shape(w)
        if x.rank.is_dynamic or ws.rank.is_dynamic or len(x) < 1 or len(ws) < 1:
            continue
        a, b = x[len(x) - 1], ws[len(ws) - 1]
        if a.is_static and b.is_static and a.get_length() != b.get_length():
            return (f"{op.get_type_name()} '{op.get_friendly_name()}' gets inputs of {a.get_length()} features but its "
                    f"weights take {b.get_length()} (input shape {x}); OpenVINO's CPU plugin refuses it at "
                    "compile_model: could not create reorder primitive")
    return None


def check(xml: str, bin_path: str, *, compile: bool = False, max_layers: int = 0, core: Any = None) -> dict[str, Any]:
    """Read ``xml`` (+ ``bin_path`` when not empty) in OpenVINO; with ``compile``, also compile it for CPU in
    f32 up to ``max_layers`` ops (bigger models get :func:`rnn_input_mismatch` instead).

    Returns ``{"ok": bool, "message": str, "runtime": str}``; never raises for what OpenVINO says.
    """
    if core is None:
        import openvino as ov

        core = ov.Core()
    try:
        om = core.read_model(xml, bin_path) if bin_path else core.read_model(xml)
    except Exception as e:  # OpenVINO raises RuntimeError with its own multi-line text
        return {"ok": False, "message": first_line(str(e)), "runtime": "openvino"}
    if not compile:
        return {"ok": True, "message": "", "runtime": "openvino"}
    n = len(om.get_ops())
    if n > max_layers or "CPU" not in core.available_devices:
        why = f"{n:,} layers > {max_layers:,}" if n > max_layers else "no CPU device"
        bad = rnn_input_mismatch(om)
        if bad is not None:
            return {"ok": False, "message": bad, "runtime": "openvino"}
        return {"ok": True, "message": "", "runtime": f"openvino (read_model; compile_model skipped: {why})"}
    try:
        core.compile_model(om, "CPU", {"INFERENCE_PRECISION_HINT": "f32"})
    except Exception as e:  # the plugin's refusal, in its words
        return {"ok": False, "message": "compile_model: " + first_line(str(e)), "runtime": "openvino"}
    return {"ok": True, "message": "", "runtime": "openvino (read_model + compile_model on CPU)"}


def _binding_core() -> Any:
    """OpenVINO's ``Core`` from its compiled binding alone, in this worker process.

    ``openvino/__init__`` also imports the Python API, the model converter, the opsets and telemetry:
    0.3 s, against 0.03 s for ``openvino._pyopenvino``, whose ``Core.read_model``/``compile_model`` are the
    C++ runtime the Python API wraps. The package is entered as a bare namespace so that its ``__init__``
    does not run; when that fails (another layout of the package), the full import does it.
    """
    import importlib.util
    import types

    try:
        spec = importlib.util.find_spec("openvino")
        if spec is None or not spec.submodule_search_locations:
            raise ImportError("openvino")
        pkg = types.ModuleType("openvino")
        pkg.__path__ = list(spec.submodule_search_locations)
        pkg.__spec__ = spec
        sys.modules["openvino"] = pkg
        try:  # (puts the bundled libraries on the search path where a platform needs it)
            from openvino.package_utils import _add_openvino_libs_to_search_path

            _add_openvino_libs_to_search_path()
        except ImportError:
            pass
        from openvino._pyopenvino import Core

        return Core()
    except Exception:  # noqa: BLE001 - any trouble: the supported way
        for k in [k for k in sys.modules if k == "openvino" or k.startswith("openvino.")]:
            del sys.modules[k]
        import openvino as ov

        return ov.Core()


def serve() -> None:
    """The worker's loop: one JSON request per line on stdin, one JSON answer per line on stdout."""
    import os

    # the answers get their own copy of stdout; whatever OpenVINO (or Python) prints goes where stderr goes,
    # so that it cannot corrupt an answer line
    out = os.fdopen(os.dup(1), "w", encoding="utf-8")
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    try:
        core = _binding_core()  # first: loading OpenVINO is what the worker exists to do ahead of time
    except Exception as e:  # noqa: BLE001 - a broken install: every check is skipped, saying why
        broken = {"ok": None, "message": f"openvino does not import: {first_line(f'{type(e).__name__}: {e}')}",
                  "runtime": "openvino"}
        for _line in sys.stdin:
            out.write(json.dumps(broken) + "\n")
            out.flush()
        return
    for line in sys.stdin:
        req = json.loads(line)
        try:
            res = check(req["xml"], req["bin"], compile=req["compile"], max_layers=req["max_layers"], core=core)
        except Exception as e:  # noqa: BLE001 - whatever went wrong is the check's answer, not the worker's end
            res = {"ok": False, "message": first_line(f"{type(e).__name__}: {e}"), "runtime": "openvino"}
        out.write(json.dumps(res) + "\n")
        out.flush()
