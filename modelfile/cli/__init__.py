"""``modelfile`` command line: one command calls one library function.

The commands live in their own modules and are imported only when they run (or show their own
``--help``): :data:`COMMANDS` names each one's module and one-line help, which is all ``modelfile
--help`` needs. ``tests/cli/test_command_table.py`` checks the table against the real commands.
Installed passes (entry-point group ``modelfile.passes``) are looked up only when a name is not
a built-in command, or for the help listing.
"""

from __future__ import annotations

import importlib
import sys
from difflib import get_close_matches
from typing import Annotated, Any, NamedTuple

import typer
from typer._click.exceptions import UsageError
from typer.core import TyperGroup

__all__ = ["COMMANDS", "Entry", "app", "main"]


class Entry(NamedTuple):
    """A built-in command: the module that defines it and the first paragraph of its docstring."""

    module: str
    summary: str


#: every built-in command in help order (names as typed; summaries as their docstrings begin)
COMMANDS: dict[str, Entry] = {
    "info": Entry("info", "Summarise a model: counts, inputs, outputs, layer types, metadata, weights."),
    "fmt": Entry("fmt", "Normalise spacing and columns of an ncnn .param (values keep their spelling)."),
    "patch": Entry("patch", "Patch an encoder .param for sherpa-ncnn (the icefall hand edit, done right)."),
    "lint": Entry("lint", "Check model files for mistakes ncnn, sherpa-ncnn and OpenVINO make silent."),
    "cut": Entry("edit", "Cut, freeze and reshape with exactly what you would have passed to mo --input/--output."),
    "freeze": Entry("edit", "Freeze inputs to constant values (IR: Parameter -> Const; ncnn: Input -> MemoryData)."),
    "reshape": Entry("edit", "Set input shapes (and IR element types with {type})."),
    "rename": Entry("edit", "Rename inputs/outputs (any tensor) everywhere they are used; refuses collisions."),
    "cut-state": Entry("edit", "Turn ReadValue/Assign state into explicit inputs and outputs (OpenVINO IR)."),
    "make-state": Entry("edit", "Pair inputs with outputs into ReadValue/Assign state (the inverse of cut-state; "
                                "OpenVINO IR)."),
    "apply": Entry("apply", "Run your own pass (def run(model) -> Report) with the same options and checks as "
                            "the built-in edits."),
    "preprocess": Entry("preprocess", "Embed input normalisation as ops after the inputs, as mo did: reverse "
                                      "channels, then (x - mean) / scale."),
    "convert": Entry("convert", "Change how a model is stored, keeping what it computes."),
    "diff": Entry("diff", "Compare two models: nodes added/removed/changed, attributes, tensors, inputs/outputs, "
                          "weights."),
    "graph": Entry("graph", "Draw the graph (Graphviz): labels show type, name, key attributes and output shapes; "
                            "file:line in tooltips."),
    "extract": Entry("extract", "Write a standalone model of part of a graph: boundary tensors become inputs and "
                                "outputs, weights come along."),
}


class LazyGroup(TyperGroup):
    """A Typer group whose commands are built from their modules on first use."""

    def list_commands(self, ctx: Any) -> list[str]:
        names = list(COMMANDS)
        names += [n for n in _installed_names() if n not in COMMANDS]
        names += [n for n in self.commands if n not in names]
        return names

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        cmd = self.commands.get(cmd_name)
        if cmd is None:
            cmd = _build(cmd_name)
            if cmd is not None:
                self.commands[cmd_name] = cmd
        return cmd

    def format_commands(self, ctx: Any, formatter: Any) -> None:
        # built-in commands not loaded yet are listed from the table, so that --help imports none of them
        from typer._click.utils import make_default_short_help

        names = [n for n in self.list_commands(ctx)]
        if not names:
            return
        limit = formatter.width - 6 - max(len(n) for n in names)
        rows = []
        for name in names:
            cmd = self.commands.get(name)
            if cmd is None and name in COMMANDS:
                rows.append((name, make_default_short_help(COMMANDS[name].summary, limit)))
                continue
            cmd = cmd or self.get_command(ctx, name)
            if cmd is not None and not cmd.hidden:
                rows.append((name, cmd.get_short_help_str(limit)))
        with formatter.section("Commands"):
            formatter.write_dl(rows)

    def resolve_command(self, ctx: Any, args: list[str]) -> Any:
        try:
            return self._click_resolve_command(ctx, args)
        except UsageError as e:  # "Did you mean", over every command, loaded or not
            if self.suggest_commands and args:
                matches = get_close_matches(args[0], self.list_commands(ctx))
                if matches:
                    e.message = f"{e.message.rstrip('.')}. Did you mean {', '.join(repr(m) for m in matches)}?"
            raise


app = typer.Typer(
    name="modelfile",
    cls=LazyGroup,
    help="Edit ncnn .param/.bin and OpenVINO IR .xml/.bin files without breaking them.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _installed_names() -> list[str]:
    from ..passes.user import installed_passes

    return list(installed_passes())


def load_command_module(name: str) -> bool:
    """Import the module defining command ``name`` (built-in or installed pass); False if there is none."""
    entry = COMMANDS.get(name)
    if entry is not None:
        importlib.import_module(f"{__name__}.{entry.module}")
        return True
    if name in _installed_names():
        from .apply import register_installed

        register_installed()
        return True
    return False


def _build(name: str) -> Any:
    """The click command ``name``, from the Typer registration its module made."""
    if not load_command_module(name):
        return None
    from typer.main import get_command_from_info, get_command_name

    for info in app.registered_commands:
        if info.callback is not None and (info.name or get_command_name(info.callback.__name__)) == name:
            return get_command_from_info(info, pretty_exceptions_short=app.pretty_exceptions_short,
                                         rich_markup_mode=app.rich_markup_mode)
    return None


def _version(value: bool) -> None:
    if value:
        from .. import __version__

        sys.stdout.write(f"modelfile {__version__}\n")
        raise typer.Exit()


@app.callback()
def _root(version: Annotated[bool, typer.Option("--version", callback=_version, is_eager=True,
                                                help="Print the version and exit.")] = False) -> None:
    """Edit ncnn .param/.bin and OpenVINO IR .xml/.bin files without breaking them."""


#: set by :func:`main`, whose process ends after the one command it runs (see ``common.run_edit``)
PROCESS_ENDS_AFTER = False


def _prestart_runtime(args: list[str]) -> None:
    """A command that will save a model (an output option; no dry run, help or --no-verify) starts the save
    gate's runtime worker now, so that its import runs while this process imports and loads (a hint: the
    first existing file among the arguments picks the runtime; the command starts it anyway if needed)."""
    words = set(args)
    if not (words & {"-o", "--out", "-i", "--in-place"} or any(a.startswith("--out=") for a in args)):
        return
    if words & {"-n", "--dry-run", "--no-verify", "-h", "--help"}:
        return
    import os

    for a in args:
        if not a.startswith("-") and os.path.isfile(a):
            from ..io import warm_runtime

            warm_runtime(a)
            return


def main() -> None:
    """Console-script entry point."""
    global PROCESS_ENDS_AFTER
    from ..errors import ModelfileError

    PROCESS_ENDS_AFTER = True
    _prestart_runtime(sys.argv[1:])
    try:
        app()
    except ModelfileError as e:  # raised outside a command (should not happen)
        from .common import EXIT_USAGE, print_error

        print_error(e)
        sys.exit(EXIT_USAGE)
    finally:
        # the process ends here: what the command loaded goes back to the OS with it, instead of in a cyclic
        # collection over every node and value at interpreter exit (0.35 s per loaded 20,000-op IR)
        import gc

        gc.freeze()
