"""Does ncnn load it? ``load_param`` + ``load_model`` in a worker process.

ncnn crashes on some bad files, so the loading happens in a child process
that is started once and reused (importing ncnn costs more than loading a
param). A crash or a hang is a failed check with its signal or the timeout.
Layer types the app registers itself are registered as placeholders.
"""

from __future__ import annotations

import importlib.util
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from ..base import RuntimeCheck
from ..worker import Worker

__all__ = ["check_load", "warm"]

_WORKER_CODE = r'''
import json, os, sys, tempfile
import ncnn
keep = []
class Placeholder(ncnn.Layer):
    def __init__(self):
        super().__init__()
        self.one_blob_only = False
def creator():
    layer = Placeholder(); keep.append(layer); return layer
err = tempfile.TemporaryFile()
saved = os.dup(2)
for line in sys.stdin:
    req = json.loads(line)
    net = ncnn.Net()
    net.opt.use_vulkan_compute = False
    for t in req["custom"]:
        net.register_custom_layer(t, creator, lambda l: None)
    err.seek(0); err.truncate()
    os.dup2(err.fileno(), 2)
    try:
        rc = net.load_param(req["param"]) if not req["binary"] else net.load_param_bin(req["param"])
        rm = 0
        if rc == 0 and req["bin"]:
            rm = net.load_model(req["bin"])
    finally:
        sys.stderr.flush()
        os.dup2(saved, 2)
    err.seek(0)
    msg = err.read().decode("utf-8", "replace").strip()
    del net
    sys.stdout.write(json.dumps({"param": rc, "model": rm, "stderr": msg}) + "\n")
    sys.stdout.flush()
'''


def _argv() -> list[str]:
    return [sys.executable, "-c", _WORKER_CODE]


_WORKER = Worker(_argv)


def warm() -> None:
    """Start the worker (it imports ncnn right away) unless it is running or ncnn is not installed."""
    if importlib.util.find_spec("ncnn") is not None:
        try:
            _WORKER.start()
        except OSError:  # check_load will say so
            pass


def check_load(param: Path, bin_path: Path, *, custom_layers: Sequence[str] = (),
               timeout: float = 60.0) -> RuntimeCheck:
    """Load ``param`` (and ``bin_path`` when it exists) in ncnn; never raises for what ncnn says."""
    if importlib.util.find_spec("ncnn") is None:
        return RuntimeCheck(None, skipped='ncnn not installed: pip install "modelfile[ncnn]"', runtime="ncnn")
    with open(param, "rb") as f:
        binary = f.read(4) == b"\xdd\x85\x76\x00"
    # absolute: the worker keeps the working directory it started in, the caller may have moved since
    req = {"param": os.path.abspath(param), "bin": os.path.abspath(bin_path) if bin_path.exists() else "",
           "binary": binary, "custom": list(custom_layers)}
    try:
        r, why = _WORKER.ask(req, timeout)
    except OSError as e:
        return RuntimeCheck(False, f"ncnn could not be started: {e}", runtime="ncnn")
    if r is None:
        if why == "timeout":
            return RuntimeCheck(False, f"ncnn did not finish loading within {timeout:.0f} s", runtime="ncnn")
        return RuntimeCheck(False, f"ncnn crashed ({why}) while loading the model", runtime="ncnn")
    first = next((ln for ln in r["stderr"].splitlines() if ln.strip()), "")
    if r["param"] != 0:
        return RuntimeCheck(False, f"load_param failed{': ' + first if first else ''}", runtime="ncnn")
    if r["model"] != 0:
        return RuntimeCheck(False, f"load_model failed{': ' + first if first else ''}", runtime="ncnn")
    return RuntimeCheck(True, runtime="ncnn")
