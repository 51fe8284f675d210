"""``modelfile extract``: a standalone model of a neighbourhood, or of the part between named tensors."""

from __future__ import annotations

from typing import Annotated, Optional

import typer

from ..errors import ModelfileError
from . import app
from .common import EditOptions, edit_command, handle_errors, run_edit
from .edit import _inputs, _outputs
from .options import ModelArg


@app.command()
@handle_errors
@edit_command
def extract(
    model: ModelArg,
    around: Annotated[Optional[str], typer.Option("--around", help="Keep the nodes near this node "
                                                  "(or the producer of this tensor).")] = None,
    depth: Annotated[int, typer.Option("--depth", help="With --around: how many edges away.")] = 2,
    from_: Annotated[Optional[str], typer.Option("--from", help='Tensors that become the inputs, mo syntax: '
                                                 '"a,b" or "a[1 3 224 224]".')] = None,
    to: Annotated[Optional[str], typer.Option("--to", help="Tensors that become the outputs: \"c,d\".")] = None,
    opts: EditOptions = EditOptions(),
) -> None:
    """Write a standalone model of part of a graph: boundary tensors become inputs and outputs, weights come along.

    Examples: modelfile extract encoder.xml --around "aten::relu/Relu" --depth 3 -o sub.xml
              modelfile extract encoder.ncnn.param --from 5 --to 9 -o sub.ncnn.param
    """
    from ..passes.extract import extract_around, extract_between

    if around is not None and (from_ or to):
        raise ModelfileError("use either --around or --from/--to, not both")
    if around is not None:
        def fn(m):  # type: ignore[no-untyped-def]
            return extract_around(m, around, depth)
    elif from_ or to:
        ins, outs = _inputs(from_, "--from"), _outputs(to)
        if not ins or not outs:
            raise ModelfileError("give both --from and --to")

        def fn(m):  # type: ignore[no-untyped-def]
            return extract_between(m, ins, outs, source_input=from_, source_output=to)
    else:
        raise ModelfileError("say what to extract: --around NODE [--depth N], or --from T1,T2 --to T3")
    if opts.in_place:
        raise ModelfileError("extract writes a new model: give -o OUT, not --in-place")
    if opts.out is None and not opts.dry_run:
        raise ModelfileError("say where to write: -o OUT (or --dry-run to only report)")
    run_edit(model, fn, opts=opts)
