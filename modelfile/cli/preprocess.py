"""``modelfile preprocess``: mo's --mean_values/--scale_values/--reverse_input_channels/--layout on a model file."""

# no `from __future__ import annotations`: edit_command re-signs the function and typer must see the
# Annotated options themselves, not strings it cannot resolve in another module

from typing import Annotated, Optional

import typer

from ..errors import ModelfileError
from . import app
from .common import EditOptions, edit_command, handle_errors, run_edit
from .options import ModelArg


@app.command()
@handle_errors
@edit_command
def preprocess(
    model: ModelArg,
    mean_values: Annotated[Optional[str], typer.Option(
        "--mean-values", "--mean_values", help='Per-channel means, mo syntax: "data[123.675,116.28,103.53]".')] = None,
    scale_values: Annotated[Optional[str], typer.Option(
        "--scale-values", "--scale_values", help='Per-channel divisors: "data[58.395,57.12,57.375]".')] = None,
    scale: Annotated[Optional[float], typer.Option("--scale", help="One divisor for every input.")] = None,
    reverse_input_channels: Annotated[bool, typer.Option(
        "--reverse-input-channels", "--reverse_input_channels", help="RGB <-> BGR (applied first).")] = False,
    layout: Annotated[Optional[str], typer.Option(
        "--layout", "--source-layout", "--source_layout", help='The inputs\' layout: "data(nchw)" or "nchw".')] = None,
    opts: EditOptions = EditOptions(),
) -> None:
    """Embed input normalisation as ops after the inputs, as mo did: reverse channels, then (x - mean) / scale.

    Example: modelfile preprocess model.xml --mean-values "data[123.675,116.28,103.53]"
    --scale-values "data[58.395,57.12,57.375]" --reverse-input-channels --layout "data(nchw)" -o out.xml
    """
    from ..passes.preprocess import parse_layouts, parse_values, preprocess as _preprocess

    if not (mean_values or scale_values or scale is not None or reverse_input_channels):
        raise ModelfileError("nothing to do: give --mean-values, --scale-values, --scale or --reverse-input-channels")
    mean = parse_values(mean_values, "--mean-values") if mean_values else None
    sc = parse_values(scale_values, "--scale-values") if scale_values else None
    lays = parse_layouts(layout) if layout else None
    run_edit(model, lambda m: _preprocess(m, mean, sc, scale_all=scale, reverse=reverse_input_channels,
                                           layouts=lays),
             opts=opts)
