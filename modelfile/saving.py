"""The save gate: every write of a model goes render → re-read → lint → runtime → commit.

:func:`save_model` renders the files into a staging folder beside the target
(:class:`~modelfile.fileio.Transaction`), reads them back with modelfile's own
reader, lints them (an error the source file did not already have blocks the
write), loads them in the format's runtime when it is importable (in a worker
process: see the handlers' ``runtime_check``), and only then moves them into place
together. A failed check writes nothing unless ``force``; the result says
which checks ran and why any was skipped.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .errors import Diagnostic, ModelfileError, Severity
from .fileio import Transaction
from .gcpause import paused_gc
from .report import Check, SaveResult

if TYPE_CHECKING:
    from .model import Model

__all__ = ["Check", "SaveResult", "save_model"]


def _writable(path: Path) -> bool:
    st = path.stat()
    if os.geteuid() == 0:  # root may write anything: honour the file's own write bits instead
        return bool(st.st_mode & 0o222)
    return os.access(path, os.W_OK)


def save_model(model: "Model", target: Path, *, force: bool = False, verify: bool = True, lint: bool = True,
               custom_layers: Sequence[str] = (), **options: Any) -> SaveResult:
    """Write ``model`` to ``target`` (and its companion files) through the gate; see the module doc.

    ``verify=False`` skips only the runtime step; ``force`` writes even when
    a check fails (the result's checks say ``forced``). Raises
    :class:`ModelfileError` naming the failed check and its first problem.
    """
    target = Path(target)
    handler = model.handler
    if target.exists() and target.is_dir():
        raise ModelfileError("is a directory", file=str(target))
    if target.exists() and not force and not _writable(target):
        raise ModelfileError("is read-only; not replaced", file=str(target), hint="--force replaces it anyway")
    with paused_gc(), Transaction(target) as tx:
        staged = tx.path_for(target)
        result = handler.write(model, staged, final=target, **options)
        written = [Path(p) for p in result.files]
        finals = [target.parent / p.name for p in written]
        # a companion that stays as it is (an unchanged .bin) is linked in so the checks see the pair
        for comp in handler.companions(target):
            sc = tx.path_for(comp)
            if not sc.exists() and comp.exists():
                os.symlink(comp.resolve(), sc)
        checks = _verify(model, staged, target, lint=lint, runtime=verify, custom_layers=custom_layers)
        failed = [c for c in checks if c.status == "failed"]
        if failed and not force:
            raise _refusal(failed[0], target)
        for c in failed:
            c.status = "forced"
            result.notes.append(f"warning: written with --force although the {c.name} check failed: {c.detail}")
        tx.commit(finals)
    result.path = target
    result.files = finals
    result.checks = checks
    return result


@dataclass(slots=True)
class _Failed(Exception):
    diagnostic: Diagnostic


def _refusal(check: Check, target: Path) -> ModelfileError:
    return ModelfileError(f"not written: the {check.name} check failed: {check.detail}", code="SAVE-GATE",
                          file=str(target), hint="--force writes it anyway; --no-verify skips the runtime check")


def _rename(text: str, staged: Path, target: Path) -> str:
    """Messages about staged files name the files the user asked for."""
    return text.replace(str(staged.parent) + os.sep, str(target.parent) + os.sep if str(target.parent) != "." else "")


def _verify(model: "Model", staged: Path, target: Path, *, lint: bool, runtime: bool,
            custom_layers: Sequence[str]) -> list[Check]:
    handler = model.handler
    # the runtime loads the files (in its worker process; this thread only waits for the answer) while
    # this process re-reads and lints them: the gate costs the slower of the two, not the sum
    from concurrent.futures import ThreadPoolExecutor  # here: a command that saves nothing does not pay for it

    pool = ThreadPoolExecutor(max_workers=1) if runtime else None
    pending = pool.submit(handler.runtime_check, staged, custom_layers=custom_layers, source=model) if pool else None
    try:
        checks = _check_files(model, staged, target, lint=lint, custom_layers=custom_layers)
        if checks[-1].status == "failed" or pending is None:
            if pending is None:
                checks.append(Check("runtime", "skipped", "--no-verify"))
            return checks
        rc = pending.result()
    finally:
        if pool is not None:
            pool.shutdown(wait=True)
    if rc.ok is None:
        checks.append(Check("runtime", "skipped", rc.skipped))
    elif rc.ok:
        checks.append(Check("runtime", "passed", rc.runtime))
        checks.extend(_app_checks(model, staged, target))
    elif model.path is not None and model.path.exists() and _source_fails(handler, model, custom_layers):
        checks.append(Check("runtime", "skipped",
                            f"the source does not load in {rc.runtime} either ({_rename(rc.message, staged, target)})"))
    else:
        checks.append(Check("runtime", "failed", f"{rc.runtime}: {_rename(rc.message, staged, target)}"))
    return checks


def _check_files(model: "Model", staged: Path, target: Path, *, lint: bool,
                 custom_layers: Sequence[str]) -> list[Check]:
    """Re-read and lint the staged files (lint starts from the re-read model: the files are read once)."""
    checks: list[Check] = []
    prepared = None
    if lint:
        from .lint import prepare

        prepared = prepare(staged, source=model)  # started now, to overlap the re-read
    try:
        # (lint checks every weights reference when it runs: the reader need not do it too)
        reread = model.handler.read(staged, check_weights=not lint, prior=model)
    except ModelfileError as e:
        d = e.diagnostic
        where = f"line {d.line}: " if d.line else ""
        checks.append(Check("re-read", "failed", _rename(where + d.message, staged, target)))
        return checks
    except RecursionError:
        checks.append(Check("re-read", "failed", "the written model is nested too deeply to read back"))
        return checks
    checks.append(Check("re-read", "passed"))
    if lint:
        checks.append(_lint_check(model, staged, target, custom_layers, reread, prepared))
    reread.graph.release()  # nothing keeps it: free it now rather than in a GC pass over all of it
    return checks


#: checks of the apps that load a model (by import path, imported when a save needs them):
#: ``fn(model, staged, target) -> (status, detail) | None`` (None: not that app's model)
APP_CHECKS: dict[str, str] = {"sherpa-ncnn": "modelfile.sherpa.verify:gate_check"}


def _app_checks(model: "Model", staged: Path, target: Path) -> list[Check]:
    import importlib

    out = []
    for name, target_fn in APP_CHECKS.items():
        mod, _, attr = target_fn.partition(":")
        res = getattr(importlib.import_module(mod), attr)(model, staged, target)
        if res is not None:
            out.append(Check(name, res[0], _rename(res[1], staged, target)))
    return out


def _source_fails(handler: Any, model: "Model", custom_layers: Sequence[str]) -> bool:
    assert model.path is not None
    src = handler.runtime_check(model.path, custom_layers=custom_layers, source=model)
    return src.ok is False


def _errors(path: Path, custom_layers: Sequence[str], preread: "Model | None" = None,
            prepared: Any = None) -> list[Diagnostic]:
    from .lint import lint_file

    # IR020 is OpenVINO's read_model: the gate's runtime step runs it (and --no-verify skips it)
    found = lint_file(path, ignore=["IR020"], custom_layers=custom_layers, preread=preread, prepared=prepared)
    return [d for d in found if d.severity == Severity.ERROR]


def _lint_check(model: "Model", staged: Path, target: Path, custom_layers: Sequence[str],
                reread: "Model | None" = None, prepared: Any = None) -> Check:
    errors = _errors(staged, custom_layers, reread, prepared)
    if not errors:
        return Check("lint", "passed", getattr(prepared, "detail", ""))
    # errors the source already had are not the edit's doing: only new ones block
    before: Counter[str] = Counter()
    if model.path is not None and model.path.exists():
        # (the source as it was loaded: lint starts from the text the model was read from)
        before = Counter(d.code for d in _errors(model.path, custom_layers, model))
    after = Counter(d.code for d in errors)
    new = [code for code in after if after[code] > before.get(code, 0)]
    if not new:
        return Check("lint", "passed", f"{len(errors)} error(s) the source already had")
    first = next(d for d in errors if d.code == new[0])
    where = f"line {first.line}: " if first.line else ""
    return Check("lint", "failed", f"{where}{first.code} {_rename(first.message, staged, target)}")
