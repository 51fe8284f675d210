"""Options shared by several commands, defined once."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

ModelArg = Annotated[Path, typer.Argument(help="Model file: ncnn .param or OpenVINO .xml.", show_default=False)]
OutputOpt = Annotated[
    Optional[Path], typer.Option("-o", "--out", help="Write the result here (the weights file goes next to it).")
]
InPlaceOpt = Annotated[bool, typer.Option("--in-place", "-i", help="Replace the input file (atomically).")]
DryRunOpt = Annotated[bool, typer.Option("--dry-run", "-n", help="Report what would change; write nothing.")]
DiffOpt = Annotated[bool, typer.Option("--diff", help="Print a unified diff of the model file.")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print the result as JSON.")]
ForceOpt = Annotated[bool, typer.Option(
    "--force", help="Write even when a check of the save gate fails, or the target is read-only (with a warning).")]
NoVerifyOpt = Annotated[bool, typer.Option(
    "--no-verify", help="Skip loading the result in the runtime (re-read and lint still run).")]
CustomLayerOpt = Annotated[Optional[list[str]], typer.Option(
    "--custom-layer", help="A layer type your app registers itself (repeatable); counts as known.")]
VerboseOpt = Annotated[bool, typer.Option("--verbose", "-v", help="List every change.")]
