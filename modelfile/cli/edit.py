"""Graph-editing commands: cut, freeze, reshape, rename, cut-state, make-state."""

from __future__ import annotations

from typing import Annotated, Optional

import typer

from ..errors import ModelfileError
from . import app
from .common import EditOptions, edit_command, handle_errors, run_edit
from .options import ModelArg


def _inputs(text: str | None, option: str = "--input"):  # type: ignore[no-untyped-def]
    from ..mo_input import MoSyntaxError, parse_input

    if not text:
        return []
    try:
        return parse_input(text)
    except MoSyntaxError as e:
        raise ModelfileError(e.message, code="MO-SYNTAX", file=option, line=1, column=e.column,
                             source_line=e.text) from None


def _outputs(text: str | None):  # type: ignore[no-untyped-def]
    from ..mo_input import MoSyntaxError, parse_output

    if not text:
        return []
    try:
        return parse_output(text)
    except MoSyntaxError as e:
        raise ModelfileError(e.message, code="MO-SYNTAX", file="--output", line=1, column=e.column,
                             source_line=e.text) from None


@app.command()
@handle_errors
@edit_command
def cut(
    model: ModelArg,
    input: Annotated[Optional[str], typer.Option("--input", help='mo syntax: "input.1[157 1 240],1->157", "0:op", "op:0".')] = None,
    output: Annotated[Optional[str], typer.Option("--output", help='Comma list of tensors/ops to make the outputs, e.g. "a,b".')] = None,
    opts: EditOptions = EditOptions(),
) -> None:
    """Cut, freeze and reshape with exactly what you would have passed to mo --input/--output.

    Example: modelfile cut encoder.xml --input "input.1[157 1 240],1->157" -o out.xml
    """
    from ..passes.cut import cut as _cut

    ins, outs = _inputs(input), _outputs(output)
    if not ins and not outs:
        raise ModelfileError("nothing to do: give --input and/or --output")
    run_edit(model, lambda m: _cut(m, ins, outs, source_input=input, source_output=output), opts=opts)


@app.command()
@handle_errors
@edit_command
def freeze(
    model: ModelArg,
    items: Annotated[list[str], typer.Argument(help='Items like "feature_length->157" or "x[2]{i32}->[1 2]".')],
    opts: EditOptions = EditOptions(),
) -> None:
    """Freeze inputs to constant values (IR: Parameter -> Const; ncnn: Input -> MemoryData).

    Example: modelfile freeze model.xml "feature_length->157" -o out.xml
    """
    from ..passes.freeze import freeze as _freeze

    specs = _inputs(",".join(items))
    run_edit(model, lambda m: _freeze(m, specs), opts=opts)


@app.command()
@handle_errors
@edit_command
def reshape(
    model: ModelArg,
    items: Annotated[list[str], typer.Argument(help='Items like "input[157,1,240]" or "[1,100],[1,?]" by position.')],
    opts: EditOptions = EditOptions(),
) -> None:
    """Set input shapes (and IR element types with {type}).

    Example: modelfile reshape model.xml "input[157,1,240]" -o out.xml
    """
    from ..passes.reshape import reshape as _reshape

    specs = _inputs(",".join(items))
    run_edit(model, lambda m: _reshape(m, specs), opts=opts)


@app.command()
@handle_errors
@edit_command
def rename(
    model: ModelArg,
    pairs: Annotated[Optional[list[str]], typer.Argument(
        help="old=new pairs, e.g. input.1=input 1=feature_length output#0=logits")] = None,
    name_outputs: Annotated[bool, typer.Option(
        "--name-outputs", help="Name every nameless output after its producing layer (IR).")] = False,
    opts: EditOptions = EditOptions(),
) -> None:
    """Rename inputs/outputs (any tensor) everywhere they are used; refuses collisions.

    OLD is a tensor name, input#N / output#N (0-based position), or the producing layer (op, op:N).
    Example: modelfile rename model.xml input.1=input output#0=logits -o out.xml
    """
    from ..passes.rename import name_outputs as _name_outputs
    from ..passes.rename import rename as _rename

    mapping: dict[str, str] = {}
    for p in pairs or []:
        old, sep, new = p.rpartition("=")
        if not sep or not old:
            raise ModelfileError(f"expected old=new, got {p!r}")
        mapping[old] = new
    if not mapping and not name_outputs:
        raise ModelfileError("nothing to do: give old=new pairs and/or --name-outputs")

    def _apply(m):  # type: ignore[no-untyped-def]
        r = _rename(m, mapping)
        if name_outputs:
            r.extend(_name_outputs(m))
        return r

    run_edit(model, _apply, opts=opts)


@app.command("cut-state")
@handle_errors
@edit_command
def cut_state(
    model: ModelArg,
    names: Annotated[Optional[list[str]], typer.Option(
        "--name", help="variable_id=INPUT[:OUTPUT] to name the new input/output (default: as OpenVINO's "
                       "StatefulToStateless: past_key_values.N.key/present.N.key; else the id and <id>_out).")] = None,
    variables: Annotated[Optional[list[str]], typer.Option("--variable", help="Only these variable ids.")] = None,
    keep_beam_idx: Annotated[bool, typer.Option(
        "--keep-beam-idx", help="Keep the beam_idx input and its Gathers (cut at the ReadValues).")] = False,
    opts: EditOptions = EditOptions(),
) -> None:
    """Turn ReadValue/Assign state into explicit inputs and outputs (OpenVINO IR).

    Example: modelfile cut-state model.xml -o stateless.xml
    """
    from ..passes.state import cut_state as _cut_state

    mapping: dict[str, tuple[str | None, str | None]] = {}
    for item in names or []:
        var, sep, rest = item.partition("=")
        if not sep:
            raise ModelfileError(f"expected variable_id=INPUT[:OUTPUT], got {item!r}")
        i, _, o = rest.partition(":")
        mapping[var] = (i or None, o or None)
    run_edit(model, lambda m: _cut_state(m, names=mapping, variables=variables, keep_beam_idx=keep_beam_idx),
             opts=opts)


@app.command("make-state")
@handle_errors
@edit_command
def make_state(
    model: ModelArg,
    pairs: Annotated[Optional[list[str]], typer.Argument(
        help="INPUT=OUTPUT pairs to join into a variable (default: the pairs cut-state recorded).")] = None,
    opts: EditOptions = EditOptions(),
) -> None:
    """Pair inputs with outputs into ReadValue/Assign state (the inverse of cut-state; OpenVINO IR).

    Example: modelfile make-state stateless.xml previous_state_h=state_h_out -o stateful.xml
    """
    from ..passes.state import make_state as _make_state

    mapping: dict[str, str] = {}
    for p in pairs or []:
        i, sep, o = p.partition("=")
        if not sep:
            raise ModelfileError(f"expected INPUT=OUTPUT, got {p!r}")
        mapping[i] = o
    run_edit(model, lambda m: _make_state(m, mapping or None), opts=opts)

