"""``modelfile apply``: run your own pass; installed passes become commands of their own."""

# no `from __future__ import annotations`: edit_command re-signs the functions and typer must see the
# Annotated options themselves

from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer

from ..passes.user import installed_passes, load_installed, load_pass_file
from . import app
from .common import EditOptions, edit_command, handle_errors, run_edit
from .options import ModelArg


@app.command()
@handle_errors
@edit_command
def apply(
    pass_file: Annotated[str, typer.Argument(help="A .py file defining run(model) -> Report, or an installed "
                                                  "pass name.", show_default=False)],
    model: ModelArg,
    opts: EditOptions = EditOptions(),
) -> None:
    """Run your own pass (def run(model) -> Report) with the same options and checks as the built-in edits.

    Example: modelfile apply examples/fuse_batchnorm.py model.ncnn.param -o fused.ncnn.param --diff
    """
    path = Path(pass_file)
    fn = load_pass_file(path) if path.suffix == ".py" or path.exists() else load_installed(pass_file)
    run_edit(model, fn, opts=opts)


def _installed_command(name: str) -> Callable[..., Any]:
    def command(model: ModelArg, opts: EditOptions = EditOptions()) -> None:
        run_edit(model, load_installed(name), opts=opts)

    return command


_registered = False


def register_installed() -> None:
    """One command per installed pass (entry-point group ``modelfile.passes``); built-in names win.

    Called by the command group when a name is not a built-in, or to list the commands (the
    entry-point scan is skipped for every other command)."""
    global _registered
    if _registered:
        return
    _registered = True
    from . import COMMANDS

    taken = set(COMMANDS) | {c.name or (c.callback.__name__ if c.callback else "") for c in app.registered_commands}
    for name, ep in installed_passes().items():
        if name in taken:
            continue
        command = _installed_command(name)
        dist = getattr(ep, "dist", None)
        origin = f" (from {dist.name})" if dist is not None else ""
        command.__doc__ = f"Installed pass {ep.value}{origin}."
        app.command(name=name, rich_help_panel="Installed passes")(handle_errors(edit_command(command)))
