"""``modelfile graph MODEL -o out.svg|out.dot|out.html``: a picture of the graph or of a neighbourhood."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Optional

import typer

from ..errors import ModelfileError
from ..fileio import atomic_write
from ..io import load
from . import app
from .common import handle_errors, out
from .options import ModelArg

_KINDS = {".svg": "svg", ".dot": "dot", ".gv": "dot", ".html": "html", ".htm": "html"}


@app.command()
@handle_errors
def graph(
    model: ModelArg,
    output: Annotated[Path, typer.Option("-o", "--out", help="out.svg, out.dot or out.html.", show_default=False)],
    around: Annotated[Optional[str], typer.Option("--around", help="Draw only the nodes near this node "
                                                  "(or the producer of this tensor).")] = None,
    depth: Annotated[int, typer.Option("--depth", help="With --around: how many edges away.")] = 2,
    diff: Annotated[Optional[Path], typer.Option("--diff", help="Colour what changed since this (older) model: "
                                                 "added green, changed orange, removed red.")] = None,
    consts: Annotated[bool, typer.Option("--consts", help="Draw IR Const nodes (default: listed in their "
                                         "consumer's label).")] = False,
    max_nodes: Annotated[int, typer.Option("--max-nodes", help="Refuse to lay out more nodes than this as "
                                           "SVG/HTML (DOT is always written).")] = 2000,
) -> None:
    """Draw the graph (Graphviz): labels show type, name, key attributes and output shapes; file:line in tooltips.

    Without Graphviz 'dot' a .dot file is written instead. Big models: draw a neighbourhood.
    Example: modelfile graph encoder.xml --around "aten::relu/Relu" --depth 3 -o relu.svg
    """
    from ..view.dot import build_picture, dot_available, find_centre, neighbourhood, render_svg, to_html

    kind = _KINDS.get(output.suffix.lower())
    if kind is None:
        raise ModelfileError(f"cannot tell the picture format from {output.name!r}: use .svg, .dot or .html")
    m = load(model)
    nodes = None
    title = model.name
    if around is not None:
        centre = find_centre(m.graph, around)
        nodes = neighbourhood(m.graph, centre, depth)
        title = f"{model.name}: {depth} around {centre.name}"
    d = None
    if diff is not None:
        from ..compare.diff import diff_models

        d = diff_models(load(diff), m)
    pic = build_picture(m, nodes, diff=d, show_consts=consts, title=title)
    dot_text = pic.to_dot()
    if kind != "dot" and not dot_available():
        target = output.with_suffix(".dot")
        _write(target, dot_text)
        sys.stderr.write(f"Graphviz 'dot' not found: wrote {target} instead of {output} "
                         f"(apt-get install graphviz, or: dot -Tsvg {target} -o {output.with_suffix('.svg')})\n")
        return
    if kind != "dot" and len(pic.nodes) > max_nodes:
        raise ModelfileError(f"{len(pic.nodes)} nodes are too many to lay out (--max-nodes {max_nodes})",
                             file=str(model), hint="draw a neighbourhood with --around NODE --depth N, "
                                                   "or write a .dot file")
    if kind == "dot":
        text = dot_text
    else:
        svg = render_svg(dot_text)
        text = svg if kind == "svg" else to_html(svg, title)
    _write(output, text)
    out.print(f"wrote {output} ({sum(1 for n in pic.nodes if not n.stub)} nodes, {len(pic.edges)} edges)")


def _write(path: Path, text: str) -> None:
    with atomic_write(path, "wb") as f:
        f.write(text.encode("utf-8"))
