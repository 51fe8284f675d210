"""``modelfile convert``: weights fp32 <-> fp16, ncnn params text <-> binary (ncnn2mem)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Optional

import typer

from ..errors import ModelfileError
from ..model import atomic_write, load
from ..passes.convert import convert_param_format, convert_weights
from ..passes.report import Report
from . import app
from .common import check_output, handle_errors, print_report
from .options import DryRunOpt, InPlaceOpt, JsonOpt, ModelArg, OutputOpt
from .progress import byte_progress


@app.command()
@handle_errors
def convert(
    model: ModelArg,
    weights: Annotated[Optional[str], typer.Option(
        "--weights", help="Store the weights as fp32 or fp16 (ncnn: the tagged blobs, as pnnx fp16=1 does).")] = None,
    param_format: Annotated[Optional[str], typer.Option(
        "--param-format", help="ncnn: binary (.param.bin + .id.h, as ncnn2mem) or text.")] = None,
    id_header: Annotated[Optional[Path], typer.Option(
        "--id-header", help="binary -> text: the ncnn2mem .id.h with the layer and blob names.")] = None,
    output: OutputOpt = None,
    in_place: InPlaceOpt = False,
    dry_run: DryRunOpt = False,
    as_json: JsonOpt = False,
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
    target = check_output(model, output, in_place, dry_run)
    if param_format is not None and in_place:
        raise ModelfileError("--param-format changes the file kind: write it elsewhere with -o")
    m = load(model)
    report = Report("convert")
    if param_format is not None:
        report.extend(convert_param_format(m, param_format, out=target, id_header=id_header))
    if weights is not None:
        bin_path = m.meta.get("bin_path")
        total = Path(bin_path).stat().st_size if bin_path and Path(bin_path).exists() else 0
        with byte_progress(total, f"{weights} weights", enabled=not as_json) as advance:
            report.extend(convert_weights(m, weights, advance))
    saved = None
    written: list[Path] = []
    if target is not None and (report.modified or target != model):
        saved = m.save(target)
        written = list(saved.files)
        header = m.meta.get("id_header")
        if header and m.meta.get("binary"):
            name = target.name[: -len(".param.bin")] if target.name.endswith(".param.bin") else target.stem
            hp = target.with_name(name + ".id.h")
            with atomic_write(hp, "wb") as f:
                f.write(header.encode("utf-8"))
            written.append(hp)
    if as_json:
        payload = report.to_dict()
        payload["written"] = [str(p) for p in written]
        payload["dry_run"] = dry_run
        sys.stdout.write(json.dumps(payload, indent=2, default=str) + "\n")
    else:
        print_report(report, written, dry_run)
