"""``modelfile info``: a model's summary as tables (or JSON), ending with lint's verdict."""

from __future__ import annotations

import json
import sys
from typing import Annotated, Any

import typer

from ..io import load
from . import app
from .common import MAX_ROWS, handle_errors
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
    from .texttable import Table, styled

    w = sys.stdout.write
    t = Table("key", "value", title=str(data.get("path", "")), show_header=False, styles=("bold",))
    skip = {"path", "layer_types", "op_types", "inputs", "outputs", "sherpa_meta", "states", "rt_info", "weights", "lint"}
    for k, v in data.items():
        if k in skip or v is None or v == [] or v == {}:
            continue
        t.add_row(k.replace("_", " "), v if isinstance(v, str) else json.dumps(v, default=str))
    w(t.render())
    for key in ("inputs", "outputs"):
        rows = data.get(key) or []
        if not rows:
            continue
        shown = rows[:MAX_ROWS]
        cols = list(dict.fromkeys(c for r in shown for c in r))
        io = Table(*cols, title=key)
        for r in shown:
            io.add_row(*[_cell(r.get(c)) for c in cols])
        w(io.render())
        if len(rows) > len(shown):  # (thousands of rows: nobody reads them here)
            w(f"... and {len(rows) - len(shown)} more {key} ({len(rows)} in all; --json lists them)\n")
    hist = data.get("layer_types") or data.get("op_types") or {}
    if hist:
        h = Table("type", "count", title="layer types" if "layer_types" in data else "op types",
                  justify=("left", "right"))
        for k, v in hist.items():
            h.add_row(k, str(v))
        w(h.render())
    for key in ("states", "rt_info"):
        v = data.get(key)
        if v:
            w(f"{styled(key.replace('_', ' '), 'bold')}: {json.dumps(v, indent=2, default=str)}\n")
    from .weights_table import print_weights

    print_weights(data.get("weights"))
    meta = data.get("sherpa_meta")
    if meta:
        derived = meta.get("derived") or {}
        s = Table("field", "declared", "graph", title=f"SherpaMetaData ({meta['family']})", styles=("bold",))
        for k in dict.fromkeys([*meta["fields"], *derived]):
            mismatch = k.split(" (")[0] in meta.get("mismatch", ())
            s.add_row(k, _cell(meta["fields"].get(k)), _cell(derived.get(k)), styles=("", "", "red" if mismatch else ""))
        if meta.get("warning"):
            s.add_row("warning", meta["warning"], "")
        w(s.render())
    lint = data.get("lint")
    if lint:  # the last line: what lint would say
        n = lint["errors"]
        w(f"{styled('warning:', 'yellow')} modelfile lint fails with {n} error{'s' if n != 1 else ''} "
          f"(first: {lint['first']})\n")


def _cell(v: Any) -> str:
    if v is None:
        return ""
    return v if isinstance(v, str) else json.dumps(v, default=str)
