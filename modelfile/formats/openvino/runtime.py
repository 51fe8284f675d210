"""Does OpenVINO read it? The save gate's check, in a worker process (:mod:`.ovworker` is its program).

``import openvino`` costs about 0.4 s, more than reading most models, and in a thread of the saving
process it holds the interpreter lock the save gate's own re-read and lint need. So the check runs in a
child process that loads only OpenVINO's compiled binding (see :func:`.ovworker._binding_core`), started
once and reused (:class:`~modelfile.formats.worker.Worker`): :func:`warm` starts it as soon as a caller
knows a save will follow (the console does before it imports the command), and the import then runs on
the other core while the model is loaded, edited and written. A crash or a hang of the runtime is a
failed check with its signal or the timeout, never a dead modelfile.
"""

from __future__ import annotations

import importlib.util
import os
import sys
from pathlib import Path
from typing import Any

from ..worker import Worker
from . import ovworker

__all__ = ["check_in_worker", "warm"]

#: the child's program: load ovworker.py as a module and serve (``-P``: the working directory is not on its path)
_BOOT = ("import importlib.util as u, sys; s = u.spec_from_file_location('_modelfile_ovworker', sys.argv[1]); "
         "m = u.module_from_spec(s); s.loader.exec_module(m); m.serve()")


def _argv() -> list[str]:
    return [sys.executable, "-P", "-c", _BOOT, ovworker.__file__]


_WORKER = Worker(_argv)


def warm() -> None:
    """Start the worker (it loads OpenVINO right away) unless it is running or OpenVINO is not installed."""
    if importlib.util.find_spec("openvino") is None:
        return
    try:
        _WORKER.start()
    except OSError:  # no process for us: check_in_worker reads in-process
        pass


def check_in_worker(xml: Path, bin_path: Path | None, *, compile: bool, max_layers: int,
                    timeout: float) -> dict[str, Any]:
    """:func:`.ovworker.check` in the worker (started now if :func:`warm` did not); a crash or hang is a failed check."""
    # absolute: the worker keeps the working directory it started in, the caller may have moved since
    req = {"xml": os.path.abspath(xml), "bin": os.path.abspath(bin_path) if bin_path is not None else "",
           "compile": compile, "max_layers": max_layers}
    try:
        answer, why = _WORKER.ask(req, timeout)
    except OSError:
        return ovworker.check(req["xml"], req["bin"], compile=compile, max_layers=max_layers)
    if answer is not None:
        return answer
    if why == "timeout":
        return {"ok": False, "message": f"OpenVINO did not finish within {timeout:.0f} s", "runtime": "openvino"}
    return {"ok": False, "message": f"OpenVINO crashed ({why}) while reading the model", "runtime": "openvino"}
