"""``modelfile fmt``: normalise the spacing and columns of an ncnn ``.param``."""

from __future__ import annotations

import sys
from typing import Annotated, Optional

import typer

from ..errors import ModelfileError
from ..io import load
from . import app
from .common import handle_errors, unified_diff
from .options import DiffOpt, ForceOpt, InPlaceOpt, ModelArg, NoVerifyOpt, OutputOpt


@app.command()
@handle_errors
def fmt(
    model: ModelArg,
    output: OutputOpt = None,
    in_place: InPlaceOpt = False,
    check: Annotated[bool, typer.Option("--check", help="Exit 1 if the file would change; write nothing.")] = False,
    diff: DiffOpt = False,
    style: Annotated[Optional[str], typer.Option(help="Column style: pnnx, ncnn, onnx2ncnn, caffe, compact "
                                                       "(default: the file's own).")] = None,
    force: ForceOpt = False,
    no_verify: NoVerifyOpt = False,
) -> None:
    """Normalise spacing and columns of an ncnn .param (values keep their spelling).

    Prints to stdout unless -o or --in-place is given.
    Example: modelfile fmt model.param --check
    """
    from ..formats import ncnn

    m = load(model)
    if m.handler is not ncnn.HANDLER or m.handler.to_text(m) is None:
        raise ModelfileError("fmt works on text ncnn .param files", file=str(model))
    before = model.read_bytes().decode("utf-8")
    st = ncnn.Style.named(style) if style else ncnn.detect_style(m.graph)
    after = ncnn.to_text(m, reformat=True, style=st)
    if diff:
        sys.stdout.write(unified_diff(before, after, model.name))
    if check:
        if before != after:
            sys.stderr.write(f"{model}: would be reformatted\n")
            raise typer.Exit(1)
        return
    if output is not None and in_place:
        raise ModelfileError("use either -o/--out or --in-place, not both")
    target = model if in_place else output
    if target is None:
        if not diff:
            sys.stdout.write(after)
        return
    m.save(target, force=force, verify=not no_verify, reformat=True, style=st)
