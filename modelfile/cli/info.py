"""``modelfile info``: a model's summary as tables (or JSON), ending with lint's verdict."""

from __future__ import annotations

import json
import sys
from typing import Annotated, Any

import typer

from ..io import load
from . import app
from .common import MAX_ROWS, handle_errors, out
from .options import JsonOpt, ModelArg


@app.command()
@handle_errors
def info(model: ModelArg, as_json: JsonOpt = False, layers: Annotated[bool, typer.Option(
        "--layers", help="Weights per layer (ncnn) or per Const (IR).")] = False) -> None:
    """Summarise a model: counts, inputs, outputs, layer types, metadata, weights.

    Example: modelfile info encoder.ncnn.param --json
    """
    from ..info import describe

    data = describe(load(model), layers=layers)
    if as_json:
        sys.stdout.write(json.dumps(data, indent=2, default=str) + "\n")
        return
    _print_info(data)


def _print_info(data: dict[str, Any]) -> None:
    from rich.table import Table

    t = Table(show_header=False, title=str(data.get("path", "")), title_justify="left")
    t.add_column("key", style="bold")
    t.add_column("value")
    skip = {"path", "layer_types", "op_types", "inputs", "outputs", "sherpa_meta", "states", "rt_info", "weights", "lint"}
    for k, v in data.items():
        if k in skip or v is None or v == [] or v == {}:
            continue
        t.add_row(k.replace("_", " "), v if isinstance(v, str) else json.dumps(v, default=str))
    out.print(t)
    for key in ("inputs", "outputs"):
        rows = data.get(key) or []
        if not rows:
            continue
        shown = rows[:MAX_ROWS]
        io = Table(title=key, title_justify="left")
        cols = list(dict.fromkeys(c for r in shown for c in r))
        for c in cols:
            io.add_column(c)
        for r in shown:
            io.add_row(*[_cell(r.get(c)) for c in cols])
        out.print(io)
        if len(rows) > len(shown):  # (a table of thousands of rows takes Rich seconds, and nobody reads it)
            out.print(f"... and {len(rows) - len(shown)} more {key} ({len(rows)} in all; --json lists them)")
    hist = data.get("layer_types") or data.get("op_types") or {}
    if hist:
        h = Table(title="layer types" if "layer_types" in data else "op types", title_justify="left")
        h.add_column("type")
        h.add_column("count", justify="right")
        for k, v in hist.items():
            h.add_row(k, str(v))
        out.print(h)
    for key in ("states", "rt_info"):
        v = data.get(key)
        if v:
            out.print(f"[bold]{key.replace('_', ' ')}[/]: {json.dumps(v, indent=2, default=str)}")
    from .weights_table import print_weights

    print_weights(out, data.get("weights"))
    meta = data.get("sherpa_meta")
    if meta:
        derived = meta.get("derived") or {}
        s = Table(title=f"SherpaMetaData ({meta['family']})", title_justify="left")
        s.add_column("field", style="bold")
        s.add_column("declared")
        s.add_column("graph")
        for k in dict.fromkeys([*meta["fields"], *derived]):
            g = _cell(derived.get(k))
            s.add_row(k, _cell(meta["fields"].get(k)), f"[red]{g}[/]" if k.split(" (")[0] in meta.get("mismatch", ()) else g)
        if meta.get("warning"):
            s.add_row("warning", meta["warning"], "")
        out.print(s)
    lint = data.get("lint")
    if lint:  # the last line: what lint would say
        from rich.markup import escape

        n = lint["errors"]
        out.print(f"[yellow]warning:[/] modelfile lint fails with {n} error{'s' if n != 1 else ''} "
                  f"(first: {escape(lint['first'])})", markup=True, highlight=False, soft_wrap=True)


def _cell(v: Any) -> str:
    if v is None:
        return ""
    return v if isinstance(v, str) else json.dumps(v, default=str)
