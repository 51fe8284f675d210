"""Your own passes: a Python file or an installed entry point defining ``run(model) -> Report``.

A pass file is any Python file with a top-level ``run`` function; packages can install passes
under the entry-point group ``modelfile.passes`` (``name = "pkg.module:run"`` or a module with
``run``), and each then appears as a ``modelfile`` command. Failures inside a pass are reported
at the line of the pass that raised them, never as a modelfile internal error.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import sys
import traceback
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any

from ..errors import ModelfileError
from ..model import Model
from .report import Report

if TYPE_CHECKING:
    import importlib.metadata

__all__ = ["ENTRY_POINT_GROUP", "PassFn", "installed_passes", "load_pass_file", "load_installed", "wrap"]

ENTRY_POINT_GROUP = "modelfile.passes"
PassFn = Callable[[Model], Report]


def load_pass_file(path: Path) -> PassFn:
    """The ``run`` function of a pass file (imported under a private module name)."""
    path = Path(path)
    if not path.is_file():
        raise ModelfileError("no such pass file", file=str(path))
    digest = hashlib.sha1(str(path.resolve()).encode()).hexdigest()[:12]
    name = f"_modelfile_pass_{digest}"
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise ModelfileError("cannot import this file as Python", file=str(path))
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except SyntaxError as e:
        raise ModelfileError(f"syntax error: {e.msg}", file=str(path), line=e.lineno or 0,
                             column=e.offset or 0, source_line=(e.text or "").rstrip("\n")) from None
    except Exception as e:  # the pass module itself failed to import
        raise _user_error(e, path) from None
    return wrap(_run_of(module, str(path)), path)


def _run_of(module: ModuleType | Any, label: str) -> Callable[..., Any]:
    fn = module if callable(module) and not isinstance(module, ModuleType) else getattr(module, "run", None)
    if not callable(fn):
        raise ModelfileError("defines no run(model) function", file=label,
                             hint="a pass is a function `def run(model) -> modelfile.api.Report`")
    return fn  # type: ignore[no-any-return]


def wrap(fn: Callable[..., Any], origin: Path | str) -> PassFn:
    """``fn`` with its errors reported at the pass's own line and its result checked to be a Report."""
    def run(model: Model) -> Report:
        try:
            report = fn(model)
        except ModelfileError:
            raise
        except Exception as e:
            raise _user_error(e, origin) from None
        if not isinstance(report, Report):
            raise ModelfileError(f"run() returned {type(report).__name__}, not a Report", file=str(origin),
                                 hint="return modelfile.api.Report('my-pass') and record edits with report.add()")
        return report

    run.__doc__ = fn.__doc__
    return run


def _user_error(e: BaseException, origin: Path | str) -> ModelfileError:
    """The error of a pass, located at the deepest frame inside the pass's file."""
    where = str(origin)
    line = 0
    for fr in traceback.extract_tb(e.__traceback__):
        if isinstance(origin, Path) and Path(fr.filename).resolve() == origin.resolve():
            line = fr.lineno or 0
    return ModelfileError(f"the pass raised {type(e).__name__}: {e}", file=where, line=line)


def installed_passes() -> dict[str, importlib.metadata.EntryPoint]:
    """Passes other packages install under the ``modelfile.passes`` entry-point group, by name."""
    if not _may_declare(ENTRY_POINT_GROUP):
        return {}
    import importlib.metadata

    try:
        eps = importlib.metadata.entry_points(group=ENTRY_POINT_GROUP)
    except Exception:  # broken metadata of an unrelated package must not break the CLI
        return {}
    return {ep.name: ep for ep in eps}


def _may_declare(group: str) -> bool:
    """Whether any distribution on ``sys.path`` could declare entry points of ``group``.

    The same places ``importlib.metadata`` looks (``*.dist-info`` / ``*.egg-info`` folders on
    ``sys.path``), read as text: importing ``importlib.metadata`` and parsing every distribution
    costs more than a CLI start may, and almost no environment has a pass installed. True (look
    properly) whenever something else could hold metadata: a zip on ``sys.path``, another finder.
    """
    from importlib.machinery import PathFinder

    if any(hasattr(f, "find_distributions") and f is not PathFinder for f in sys.meta_path):
        return True
    for entry in sys.path:
        folder = entry or "."
        if not os.path.isdir(folder):
            if os.path.exists(folder):
                return True  # a zip (or something else importlib.metadata may read)
            continue
        try:
            names = os.listdir(folder)
        except OSError:
            continue
        for name in names:
            if not name.lower().endswith((".dist-info", ".egg-info")):
                continue
            try:
                with open(os.path.join(folder, name, "entry_points.txt"), encoding="utf-8", errors="replace") as fh:
                    if group in fh.read():
                        return True
            except OSError:  # no entry points (or an .egg-info file)
                continue
    return False


def load_installed(name: str) -> PassFn:
    """The run function of the installed pass ``name``."""
    ep = installed_passes().get(name)
    if ep is None:
        raise ModelfileError(f"no installed pass named {name!r}",
                             hint=f"installed: {', '.join(sorted(installed_passes())) or 'none'}")
    label = f"{ep.value} (entry point {name!r})"
    try:
        obj = ep.load()
    except Exception as e:
        raise ModelfileError(f"cannot load pass {label}: {type(e).__name__}: {e}") from None
    return wrap(_run_of(obj, label), label)
