"""``modelfile convert``: weights fp32 <-> fp16, ncnn params text <-> binary (ncnn2mem)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Optional

import typer

from ..errors import ModelfileError
from ..io import load
from ..passes.convert import convert_param_format, convert_weights
from ..passes.report import Report
from . import app
from .common import EditOptions, check_output, edit_command, handle_errors, print_report
from .options import ModelArg
from .progress import byte_progress


@app.command()
@handle_errors
@edit_command
def convert(
    model: ModelArg,
    weights: Annotated[Optional[str], typer.Option(
        "--weights", help="Store the weights as fp32 or fp16 (ncnn: the tagged blobs, as pnnx fp16=1 does; "
                          "IR: as compress_to_fp16 does).")] = None,
    param_format: Annotated[Optional[str], typer.Option(
        "--param-format", help="ncnn: binary (.param.bin + .id.h, as ncnn2mem) or text.")] = None,
    id_header: Annotated[Optional[Path], typer.Option(
        "--id-header", help="binary -> text: the ncnn2mem .id.h with the layer and blob names.")] = None,
    *,
    opts: EditOptions,
) -> None:
    """Change how a model is stored, keeping what it computes.

    Examples: modelfile convert encoder.ncnn.param --weights fp32 -o encoder32.ncnn.param;
    modelfile convert sq.param --param-format binary -o sq.param.bin (writes sq.bin and sq.id.h)
    """
    if weights is None and param_format is None:
        raise ModelfileError("nothing to do: pass --weights fp32|fp16 and/or --param-format binary|text")
    if weights is not None and weights not in ("fp32", "fp16"):
        raise ModelfileError(f"--weights must be fp32 or fp16, not {weights!r}")
    if param_format is not None and param_format not in ("binary", "text"):
        raise ModelfileError(f"--param-format must be binary or text, not {param_format!r}")
    if id_header is not None and param_format != "text":
        raise ModelfileError("--id-header names the layers of a .param.bin converted with --param-format text")
    target = check_output(model, opts.out, opts.in_place, opts.dry_run)
    if param_format is not None and opts.in_place:
        raise ModelfileError("--param-format changes the file kind: write it elsewhere with -o")
    m = load(model)
    report = Report("convert")
    if param_format is not None:
        report.extend(convert_param_format(m, param_format, out=target, id_header=id_header))
    if weights is not None:
        companions = m.handler.companions(model)
        total = sum(p.stat().st_size for p in companions if p.exists())
        with byte_progress(total, f"{weights} weights", enabled=not opts.as_json) as advance:
            report.extend(convert_weights(m, weights, advance))
    saved = None
    if target is not None and (report.modified or target != model):
        saved = m.save(target, force=opts.force, verify=not opts.no_verify,
                       custom_layers=tuple(opts.custom_layer or ()))
    if opts.as_json:
        payload = report.to_dict()
        payload["written"] = [str(p) for p in saved.files] if saved else []
        payload["checks"] = [c.to_dict() for c in saved.checks] if saved else []
        payload["dry_run"] = opts.dry_run
        sys.stdout.write(json.dumps(payload, indent=2, default=str) + "\n")
    else:
        print_report(report, saved, opts.dry_run, verbose=opts.verbose)
