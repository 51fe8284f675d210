"""Run fuzz cases through the library and check the contract; run the runtimes on a sample.

The contract, per case (see ``test_fuzz.py``): loading succeeds or raises ``ModelfileError`` with
``file:line[:col]``; lint never raises; nothing takes more than :data:`LIMIT` seconds; an unedited save
is byte-identical; lint and the loader agree (a file the loader refuses has a lint error, an XML error
of the loader is lint's IR000 and back); what loads without a lint error loads in the runtime.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mutations import Case

#: seconds any one step may take
LIMIT = 10.0


@dataclass
class Outcome:
    """What happened to one case."""

    case: Case
    path: Path
    loaded: bool = False
    load_error: str = ""
    load_code: str = ""
    lint_codes: list[str] = field(default_factory=list)
    lint_errors: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    seconds: dict[str, float] = field(default_factory=dict)

    @property
    def clean(self) -> bool:
        """Loaded and lint found no error: the runtime must load it."""
        return self.loaded and not self.lint_errors


def _timed(out: Outcome, step: str, fn: Any, *args: Any, **kw: Any) -> Any:
    t = time.perf_counter()
    try:
        return fn(*args, **kw)
    finally:
        dt = time.perf_counter() - t
        out.seconds[step] = dt
        if dt > LIMIT:
            out.problems.append(f"{step} took {dt:.1f} s (> {LIMIT:.0f} s)")


def write_case(case: Case, folder: Path) -> Path:
    return case.write_to(folder)


def run_case(case: Case, folder: Path, *, describe: bool = True, full_save: bool = True,
             ignore: list[str] | None = None) -> Outcome:
    """Load, lint, save and describe one case in-process; record contract breaches in ``problems``.

    ``full_save`` saves through :meth:`Model.save` (the gate), else with the format's writer only.
    """
    import modelfile
    from modelfile.errors import ModelfileError
    from modelfile.lint import lint_file

    path = write_case(case, folder)
    out = Outcome(case, path)
    model = None
    try:
        model = _timed(out, "load", modelfile.load, path)
        out.loaded = True
    except ModelfileError as e:
        d = e.diagnostic
        out.load_error, out.load_code = str(e), d.code
        if not d.file or not d.line:
            out.problems.append(f"load error without file:line: {e!s}")
    except Exception as e:  # the contract: nothing but ModelfileError
        out.problems.append(f"load raised {type(e).__name__}: {e!s}"[:300])
    try:
        diags = _timed(out, "lint", lint_file, path, ignore=ignore)
        out.lint_codes = [d.code for d in diags]
        out.lint_errors = [f"{d.code} {d.one_line()}" for d in diags if d.severity.value == "error"]
        if any(not d.file for d in diags):
            out.problems.append("a lint finding without a file")
    except Exception as e:
        out.problems.append(f"lint raised {type(e).__name__}: {e!s}"[:300])
    # the loader and lint agree
    unreadable = {"IR000", "NCNN000"} & set(out.lint_codes)
    if not out.loaded and not out.problems and not out.lint_errors:
        out.problems.append(f"the loader refuses it but lint finds no error: {out.load_error}")
    if case.kind == "ir" and not out.problems:
        if (out.load_code == "IR-XML") != bool(unreadable):
            out.problems.append(f"loader and lint disagree on well-formed XML: loader {out.load_error or 'ok'}; "
                                f"lint {sorted(unreadable) or 'readable'}")
    if model is not None:
        saved = folder / "saved" / path.name
        saved.parent.mkdir(exist_ok=True)
        try:
            if full_save:  # through the save gate (re-read, lint; the runtimes are checked in bulk)
                _timed(out, "save", model.save, saved, verify=False)
            else:  # the writer alone: what the gate commits when nothing fails
                _timed(out, "save", model.handler.write, model, saved, final=saved)
            if saved.read_bytes() != case.data:
                out.problems.append("an unedited save is not byte-identical")
        except ModelfileError as e:
            if not out.lint_errors:  # a save gate may refuse what lint refuses, nothing else
                out.problems.append(f"an unedited save of a lint-clean file fails: {e!s}"[:300])
        except Exception as e:
            out.problems.append(f"save raised {type(e).__name__}: {e!s}"[:300])
        if describe:
            try:
                from modelfile.info import describe as info

                data = _timed(out, "info", info, model)
                json.dumps(data, default=str)
                if any(not e.startswith("IR020") for e in out.lint_errors) and "lint" not in data:
                    out.problems.append("info does not warn although lint fails")
            except Exception as e:
                out.problems.append(f"info raised {type(e).__name__}: {e!s}"[:300])
    return out


# ---------------------------------------------------------------------------------------------
# runtimes, in child processes (they may crash on bad input)
# ---------------------------------------------------------------------------------------------

_NCNN_CHILD = r"""
import json, os, resource, sys
fd = os.open(os.devnull, os.O_WRONLY); os.dup2(fd, 2)
resource.setrlimit(resource.RLIMIT_AS, (4 << 30, 4 << 30))
import ncnn
for line in sys.stdin:
    path = json.loads(line)
    net = ncnn.Net()
    net.opt.use_vulkan_compute = False
    for k in ("use_fp16_storage", "use_fp16_packed", "use_fp16_arithmetic", "use_bf16_storage"):
        setattr(net.opt, k, False)
    rc = net.load_param_bin(path) if path.endswith(".param.bin") else net.load_param(path)
    if rc == 0:
        rc = 10 if net.load_model(ncnn.DataReaderFromEmpty()) != 0 else 0
    print(json.dumps([rc, ""]), flush=True)
"""

_OV_CHILD = r"""
import json, os, resource, sys
resource.setrlimit(resource.RLIMIT_AS, (8 << 30, 8 << 30))
import openvino as ov
core = ov.Core()
import re
import numpy as np
for line in sys.stdin:
    path = json.loads(line)
    try:
        if os.path.exists(path[:-4] + ".bin"):
            core.read_model(path)
        else:  # corpus IRs come without weights: zeros of the size the Consts need
            text = open(path, encoding="utf-8", errors="replace").read()
            ends = []
            for attrs in re.findall(r"<data\b([^>]*)>", text):
                o, s = re.search(r'\boffset="(\d+)"', attrs), re.search(r'\bsize="(\d+)"', attrs)
                if o and s:
                    ends.append(int(o.group(1)) + int(s.group(1)))
            size = max(ends, default=0)
            core.read_model(text, ov.Tensor(np.zeros(max(size, 1), dtype=np.uint8)) if size < (1 << 28) else None)
        print(json.dumps([0, ""]), flush=True)
    except Exception as e:
        print(json.dumps([1, str(e).strip().splitlines()[-1][:200] if str(e).strip() else ""]), flush=True)
"""


def runtime_loads(kind: str, paths: list[Path], timeout: float = LIMIT) -> list[tuple[int, str]]:
    """``(rc, message)`` per file: 0 the runtime loads it; 99 it crashed the runtime; 98 it took too long."""
    import select

    child = _OV_CHILD if kind == "ir" else _NCNN_CHILD
    results: list[tuple[int, str]] = []
    proc: subprocess.Popen[str] | None = None
    for p in paths:
        if proc is None or proc.poll() is not None:
            proc = subprocess.Popen([sys.executable, "-c", child], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                    stderr=subprocess.DEVNULL, text=True)
        assert proc.stdin is not None and proc.stdout is not None
        try:
            proc.stdin.write(json.dumps(str(p)) + "\n")
            proc.stdin.flush()
            ready, _, _ = select.select([proc.stdout], [], [], timeout)
            line = proc.stdout.readline() if ready else None
        except BrokenPipeError:
            line = ""
        if line is None:
            proc.kill()
            proc.wait()
            results.append((98, "timeout"))
        elif not line:
            proc.wait()
            results.append((99, f"crashed (signal {-proc.returncode})" if proc.returncode else "crashed"))
        else:
            rc, msg = json.loads(line)
            results.append((rc, msg))
    if proc is not None and proc.poll() is None:
        proc.stdin.close()  # type: ignore[union-attr]
        proc.wait(timeout=30)
    return results


def scratch() -> Path:
    return Path(tempfile.mkdtemp(prefix="mf-fuzz-"))


def env_with(root: Path) -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(root) + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    return env
