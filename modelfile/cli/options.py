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
