"""``modelfile diff A B``: what differs between two models, structurally."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.markup import escape

from ..io import load
from . import app
from .common import handle_errors, out
from .options import JsonOpt

if TYPE_CHECKING:  # the comparison (and numpy) loads only when the command runs
    from ..compare.diff import Diff, NodeRef


@app.command()
@handle_errors
def diff(
    a: Annotated[Path, typer.Argument(help="The model before (ncnn .param or IR .xml).", show_default=False)],
    b: Annotated[Path, typer.Argument(help="The model after (same format as A).", show_default=False)],
    as_json: JsonOpt = False,
    stat: Annotated[bool, typer.Option("--stat", help="Only the counts of each kind of change.")] = False,
    no_weights: Annotated[bool, typer.Option("--no-weights", help="Do not compare the .bin data.")] = False,
) -> None:
    """Compare two models: nodes added/removed/changed, attributes, tensors, inputs/outputs, weights.

    Nodes are paired by name, then by structure, so renamed or renumbered layers still pair up.
    Exit 0 when the models are the same, 1 when they differ, 2 on error (like diff).
    Example: modelfile diff encoder.ncnn.param encoder.patched.ncnn.param
    """
    from ..compare.diff import diff_models

    result = diff_models(load(a), load(b), weights=not no_weights)
    if as_json:
        payload: Any = result.stat() | {"same": result.same} if stat else result.to_dict()
        sys.stdout.write(json.dumps(payload, indent=2, default=str) + "\n")
    elif stat:
        print_stat(result)
    else:
        print_diff(result)
    if not result.same:
        raise typer.Exit(1)


def _ref(r: NodeRef) -> str:
    return f"[bold]{escape(r.op_type)}[/] {escape(r.name)}"


def _where(r: NodeRef) -> str:
    return f"[dim]{escape(r.where)}[/]" if r.where else ""


def _v(x: Any) -> str:
    if x is None:
        return "(none)"
    s = x if isinstance(x, str) else json.dumps(x, default=str)
    return escape(s if len(s) <= 100 else s[:97] + "...")


def print_diff(d: Diff) -> None:
    """The diff as grouped Rich text."""
    out.print(f"[red]--- {escape(d.a_path)}[/] ({d.nodes_a} nodes)")
    out.print(f"[green]+++ {escape(d.b_path)}[/] ({d.nodes_b} nodes)")
    if d.same:
        out.print("same")
    if d.header:
        out.print("[bold]header[/]")
        for c in d.header:
            out.print(f"  {escape(c.what)}: {_v(c.before)} -> {_v(c.after)}")
    for title, items in (("inputs", d.inputs), ("outputs", d.outputs)):
        if items:
            out.print(f"[bold]{title}[/]")
            for io in items:
                mark = {"added": "[green]+[/]", "removed": "[red]-[/]"}.get(io.kind, "[yellow]~[/]")
                if io.kind == "added":
                    out.print(f"  {mark} {escape(io.name)} {_v(io.after)}")
                elif io.kind == "removed":
                    out.print(f"  {mark} {escape(io.name)} {_v(io.before)}")
                else:
                    out.print(f"  {mark} {escape(io.name)} {io.kind}: {_v(io.before)} -> {_v(io.after)}")
    if d.removed:
        out.print(f"[bold]removed ({len(d.removed)})[/]")
        for r in d.removed:
            out.print(f"  [red]-[/] {_ref(r)}  {_where(r)}")
    if d.added:
        out.print(f"[bold]added ({len(d.added)})[/]")
        for r in d.added:
            out.print(f"  [green]+[/] {_ref(r)}  {_where(r)}")
    if d.changed:
        out.print(f"[bold]changed ({len(d.changed)})[/]")
        for c in d.changed:
            name = escape(c.b.name) if c.a.name == c.b.name else f"{escape(c.a.name)} -> {escape(c.b.name)}"
            how = "" if c.matched_by == "name" else " [dim](paired by structure)[/]"
            out.print(f"  [yellow]~[/] [bold]{escape(c.b.op_type)}[/] {name}  {_where(c.a)} {_where(c.b)}{how}")
            for x in c.changes:
                out.print(f"      {escape(x.what)}: {_v(x.before)} -> {_v(x.after)}")
            if c.weights is not None:
                w = c.weights
                extra = f", max |diff| {w.max_abs_diff:.6g}" if w.max_abs_diff is not None else ""
                out.print(f"      weights {w.status}{extra}: {_v(w.before or None)} -> {_v(w.after or None)}")
    if d.renamed_tensors:
        out.print(f"[bold]renamed tensors ({len(d.renamed_tensors)})[/]")
        for t in d.renamed_tensors:
            out.print(f"  {escape(t.before)} -> {escape(t.after)}")
    for n in d.notes:
        out.print(f"note: {escape(n)}")
    if not d.same:
        print_stat(d)


def print_stat(d: Diff) -> None:
    """One line of counts."""
    s = d.stat()
    parts = [f"{s[k]} {k.replace('_', ' ')}" for k in
             ("added", "removed", "changed", "attributes_changed", "weights_changed", "tensors_renamed",
              "inputs_changed", "outputs_changed", "header_changed") if s[k]]
    body = ", ".join(parts) if parts else "no differences"
    out.print(f"{body} ({s['matched']} of {s['nodes_a']}/{s['nodes_b']} nodes paired, "
              f"{s['matched_by_structure']} by structure; {s['weights_compared']} weights compared)")
