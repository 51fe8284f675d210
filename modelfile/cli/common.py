"""Plumbing shared by the commands: error printing, load/transform/save, report rendering."""

from __future__ import annotations

import difflib
import functools
import json
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import typer
from rich.console import Console
from rich.table import Table

from ..errors import ModelfileError, excerpt
from ..model import Model, load
from ..passes.report import Report

out = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False, soft_wrap=True)

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
    return "".join(difflib.unified_diff(before.splitlines(True), after.splitlines(True),
                                        fromfile=f"a/{name}", tofile=f"b/{name}", n=1))


def run_edit(
    model_path: Path,
    transform: Callable[[Model], Report],
    *,
    output: Path | None,
    in_place: bool,
    dry_run: bool,
    diff: bool,
    as_json: bool,
    load_options: dict[str, Any] | None = None,
) -> Report:
    """load -> transform -> (diff) -> save, then print the report."""
    target = check_output(model_path, output, in_place, dry_run)
    model = load(model_path, **(load_options or {}))
    before = _text(model) if diff else None
    try:
        report = transform(model)
    except ModelfileError as e:
        if not e.diagnostic.file:  # errors about the graph as a whole: name the file
            raise ModelfileError(str(e.diagnostic.message), code=e.diagnostic.code, file=str(model_path),
                                 hint=e.diagnostic.hint) from None
        raise
    saved = None
    if diff and before is not None:
        after = _text(model)
        d = unified_diff(before, after, model_path.name)
        if d:
            sys.stdout.write(d)
    if target is not None and (report.modified or target != model_path):
        saved = model.save(target)
    if as_json:
        payload = report.to_dict()
        payload["written"] = [str(p) for p in saved.files] if saved else []
        payload["dry_run"] = dry_run
        sys.stdout.write(json.dumps(payload, indent=2, default=str) + "\n")
    elif not diff or not dry_run:
        print_report(report, saved.files if saved else [], dry_run)
    return report


def _text(model: Model) -> str | None:
    try:
        return model.to_text()
    except ModelfileError:
        return None


def print_report(report: Report, written: list[Path], dry_run: bool) -> None:
    """A Rich table of the changes."""
    if report.changes:
        t = Table(title=f"{report.transform}: {len(report.changes)} change(s)", title_justify="left")
        t.add_column("change")
        t.add_column("target")
        t.add_column("before")
        t.add_column("after")
        for c in report.changes:
            t.add_row(c.kind, c.target, _short(c.before), _short(c.after))
        out.print(t)
    else:
        out.print(f"{report.transform}: no changes")
    for note in report.notes:
        out.print(f"note: {note}")
    if dry_run:
        out.print("dry run: nothing written")
    for p in written:
        out.print(f"wrote {p}")


def _short(v: Any) -> str:
    if v is None:
        return ""
    s = v if isinstance(v, str) else json.dumps(v, default=str)
    return s if len(s) <= 80 else s[:77] + "..."
