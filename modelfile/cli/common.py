"""Plumbing shared by the commands: error printing, load/transform/save, report rendering."""

from __future__ import annotations

import functools
import inspect
import json
import os
import sys
import typing
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import typer

from ..errors import ModelfileError, excerpt
from ..gcpause import paused_gc
from ..io import load, warm_runtime
from ..model import Model
from ..report import Report
from .options import (
    CustomLayerOpt, DiffOpt, DryRunOpt, ForceOpt, InPlaceOpt, JsonOpt, NoVerifyOpt, OutputOpt, VerboseOpt,
)

if TYPE_CHECKING:
    from rich.console import Console

    from ..report import SaveResult


class _LazyConsole:
    """A Rich console made on first use: importing Rich costs more than a quick command takes."""

    def __init__(self, **options: Any) -> None:
        self._options = options
        self._console: Console | None = None

    def __getattr__(self, name: str) -> Any:
        console = self._console
        if console is None:
            from rich.console import Console

            console = self._console = Console(**self._options)
        return getattr(console, name)


out: Console = _LazyConsole(highlight=False, soft_wrap=True)  # type: ignore[assignment]
err: Console = _LazyConsole(stderr=True, highlight=False, soft_wrap=True)  # type: ignore[assignment]

F = TypeVar("F", bound=Callable[..., Any])

EXIT_USAGE = 2
EXIT_INTERNAL = 3


def print_error(e: ModelfileError) -> None:
    """``file:line:col: message`` on one line, then a caret excerpt and the hint."""
    d = e.diagnostic
    sys.stderr.write(f"{d.one_line()}\n")
    ex = excerpt(e.source_line, d.column)
    if ex:
        sys.stderr.write("".join(f"  {ln}\n" for ln in ex.splitlines()))
    if d.hint:
        sys.stderr.write(f"  hint: {d.hint}\n")


def handle_errors(fn: F) -> F:
    """Turn ModelfileError (and OS errors) into a one-line message and exit code 2."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except ModelfileError as e:
            print_error(e)
            raise typer.Exit(EXIT_USAGE) from None
        except OSError as e:
            name = getattr(e, "filename", "") or ""
            sys.stderr.write(f"{name}: {e.strerror or e}\n" if name else f"error: {e}\n")
            raise typer.Exit(EXIT_USAGE) from None
        except RecursionError:
            sys.stderr.write("error: model too deeply nested\n")
            raise typer.Exit(EXIT_USAGE) from None
        except (typer.Exit, typer.Abort, KeyboardInterrupt):
            raise
        except Exception as e:  # a bug in modelfile, not bad input: still one line, distinct exit code
            if os.environ.get("MODELFILE_DEBUG"):
                raise
            sys.stderr.write(f"internal error: {type(e).__name__}: {e} (set MODELFILE_DEBUG=1 for a traceback)\n")
            raise typer.Exit(EXIT_INTERNAL) from None

    return wrapper  # type: ignore[return-value]


def check_output(model_path: Path, output: Path | None, in_place: bool, dry_run: bool) -> Path | None:
    """Where to write, refusing ambiguous combinations."""
    if output is not None and in_place:
        raise ModelfileError("use either -o/--out or --in-place, not both")
    if dry_run:
        return None
    if in_place:
        return model_path
    if output is None:
        raise ModelfileError("say where to write: -o OUT or --in-place (or --dry-run to only report)")
    return output


def unified_diff(before: str, after: str, name: str) -> str:
    """A unified diff of two file texts."""
    import difflib

    return "".join(difflib.unified_diff(before.splitlines(True), after.splitlines(True),
                                        fromfile=f"a/{name}", tofile=f"b/{name}", n=1))


@dataclass(slots=True)
class EditOptions:
    """The options every editing command shares (see :func:`edit_command`)."""

    out: Path | None = None
    in_place: bool = False
    dry_run: bool = False
    diff: bool = False
    as_json: bool = False
    force: bool = False
    no_verify: bool = False
    custom_layer: list[str] | None = None
    verbose: bool = False


_SHARED: list[tuple[str, Any]] = [
    ("out", OutputOpt), ("in_place", InPlaceOpt), ("dry_run", DryRunOpt), ("diff", DiffOpt), ("as_json", JsonOpt),
    ("force", ForceOpt), ("no_verify", NoVerifyOpt), ("custom_layer", CustomLayerOpt), ("verbose", VerboseOpt),
]


def edit_command(fn: F) -> F:
    """Give a command the shared editing options; it receives them as ``opts: EditOptions``.

    ``@app.command()`` / ``@handle_errors`` go above it. The options are
    defined once here, so every editing command spells and documents them alike.
    """
    sig = inspect.signature(fn)
    # modules with `from __future__ import annotations` hold strings: resolve them in the command's own
    # module, or Typer would see bare types and drop the options' help and spellings
    hints = typing.get_type_hints(fn, include_extras=True)
    params = [p.replace(annotation=hints.get(p.name, p.annotation)) for p in sig.parameters.values()
              if p.name != "opts"]
    defaults = EditOptions()
    for name, ann in _SHARED:
        params.append(inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, annotation=ann,
                                        default=getattr(defaults, name)))

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        opts = EditOptions(**{name: kwargs.pop(name) for name, _ in _SHARED if name in kwargs})
        return fn(*args, opts=opts, **kwargs)

    wrapper.__signature__ = sig.replace(parameters=params, return_annotation=hints.get("return", None))  # type: ignore[attr-defined]
    wrapper.__annotations__ = {p.name: p.annotation for p in params}
    return wrapper  # type: ignore[return-value]


def run_edit(
    model_path: Path,
    transform: Callable[[Model], Report],
    *,
    output: Path | None = None,
    in_place: bool = False,
    dry_run: bool = False,
    diff: bool = False,
    as_json: bool = False,
    opts: EditOptions | None = None,
    load_options: dict[str, Any] | None = None,
    save_options: dict[str, Any] | None = None,
) -> Report:
    """load -> transform -> (diff) -> save through the gate, then print the report.

    Pass ``opts`` (from :func:`edit_command`) or the individual flags.
    """
    if opts is None:
        opts = EditOptions(out=output, in_place=in_place, dry_run=dry_run, diff=diff, as_json=as_json)
    # one model, its edit and its re-read are all this command allocates: no cyclic collection walks them
    # in between, nor after when the process ends with the command (see modelfile.gcpause)
    from . import PROCESS_ENDS_AFTER

    with paused_gc(resume=not PROCESS_ENDS_AFTER):
        return _run_edit(model_path, transform, opts, load_options, save_options)


def _run_edit(model_path: Path, transform: Callable[[Model], Report], opts: EditOptions,
              load_options: dict[str, Any] | None, save_options: dict[str, Any] | None) -> Report:
    target = check_output(model_path, opts.out, opts.in_place, opts.dry_run)
    if target is not None and not opts.no_verify:
        warm_runtime(model_path)  # the runtime check's import runs while we load and edit
    model = load(model_path, **(load_options or {}))
    before = _text(model) if opts.diff else None
    try:
        report = transform(model)
    except ModelfileError as e:
        if not e.diagnostic.file:  # errors about the graph as a whole: name the file
            raise ModelfileError(str(e.diagnostic.message), code=e.diagnostic.code, file=str(model_path),
                                 hint=e.diagnostic.hint) from None
        raise
    saved = None
    if opts.diff and before is not None:
        after = _text(model)
        d = unified_diff(before, after or "", model_path.name)
        if d:
            sys.stdout.write(d)
    if target is not None and (report.modified or not _same_path(target, model_path)):
        saved = model.save(target, force=opts.force, verify=not opts.no_verify,
                           custom_layers=tuple(opts.custom_layer or ()), **(save_options or {}))
    if opts.as_json:
        payload = report.to_dict()
        payload["written"] = [str(p) for p in saved.files] if saved else []
        payload["checks"] = [c.to_dict() for c in saved.checks] if saved else []
        payload["save_notes"] = list(saved.notes) if saved else []
        payload["dry_run"] = opts.dry_run
        sys.stdout.write(json.dumps(payload, indent=2, default=str) + "\n")
    elif not opts.diff or not opts.dry_run:
        print_report(report, saved, opts.dry_run, verbose=opts.verbose)
    return report


def _same_path(a: Path, b: Path) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False


def _text(model: Model) -> str | None:
    try:
        return model.to_text()
    except ModelfileError:
        return None


#: more rows than this are summarised by kind (all of them: --verbose or --json)
MAX_ROWS = 40


def print_report(report: Report, saved: "SaveResult | list[Path] | None", dry_run: bool, *,
                 verbose: bool = False) -> None:
    """A table of the changes, the checks the save ran and the files written (plain text: names and shapes
    such as ``[batch, 8, 0, 64]`` are printed as they are, never read as Rich markup)."""
    from .texttable import Table, styled

    lines: list[str] = []
    changes = report.changes
    if changes:
        t = Table("change", "target", "before", "after", title=f"{report.transform}: {len(changes)} change(s)")
        shown = changes if verbose or len(changes) <= MAX_ROWS else changes[:MAX_ROWS]
        for c in shown:
            t.add_row(c.kind, c.target, _short(c.before), _short(c.after))
        lines.append(t.render().rstrip("\n"))
        if len(shown) < len(changes):
            from collections import Counter

            rest = Counter(c.kind for c in changes[len(shown):])
            lines.append(f"... and {len(changes) - len(shown)} more: "
                         + ", ".join(f"{n} {k}" for k, n in rest.most_common()) + " (--verbose or --json lists them)")
    else:
        lines.append(f"{report.transform}: no changes")
    lines.extend(f"note: {note}" for note in report.notes)
    if dry_run:
        lines.append("dry run: nothing written")
    if isinstance(saved, list):
        lines.extend(f"wrote {p}" for p in saved)
    elif saved is not None:
        lines.extend(f"note: {note}" for note in saved.notes)
        if saved.checks:
            lines.append("checks: " + ", ".join(
                f"{c.name} {styled(c.status, 'yellow') if c.status in ('skipped', 'forced') else c.status}"
                + (f" ({c.detail})" if c.status == "skipped" else "") for c in saved.checks))
        lines.extend(f"wrote {p}" for p in saved.files)
    sys.stdout.write("\n".join(lines) + "\n")


def _short(v: Any) -> str:
    if v is None:
        return ""
    s = v if isinstance(v, str) else json.dumps(v, default=str)
    return s if len(s) <= 80 else s[:77] + "..."
