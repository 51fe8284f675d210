"""``modelfile`` command line: one command calls one library function."""

from __future__ import annotations

import json
import sys
from typing import Annotated, Any, Optional

import typer

from ..errors import ModelfileError
from ..io import load
from .common import EXIT_USAGE, EditOptions, edit_command, handle_errors, out, run_edit, unified_diff
from .options import DiffOpt, ForceOpt, InPlaceOpt, JsonOpt, ModelArg, NoVerifyOpt, OutputOpt

app = typer.Typer(
    name="modelfile",
    help="Edit ncnn .param/.bin and OpenVINO IR .xml/.bin files without breaking them.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version(value: bool) -> None:
    if value:
        from .. import __version__

        sys.stdout.write(f"modelfile {__version__}\n")
        raise typer.Exit()


@app.callback()
def _root(version: Annotated[bool, typer.Option("--version", callback=_version, is_eager=True,
                                                help="Print the version and exit.")] = False) -> None:
    """Edit ncnn .param/.bin and OpenVINO IR .xml/.bin files without breaking them."""


@app.command()
@handle_errors
def info(model: ModelArg, as_json: JsonOpt = False, layers: Annotated[bool, typer.Option(
        "--layers", help="Weights per layer (ncnn) or per Const (IR).")] = False) -> None:
    """Summarise a model: counts, inputs, outputs, layer types, metadata, weights.

    Example: modelfile info encoder.ncnn.param --json
    """
    from ..info import describe

    data = describe(load(model), layers=layers)
    if as_json:
        sys.stdout.write(json.dumps(data, indent=2, default=str) + "\n")
        return
    _print_info(data)


def _print_info(data: dict[str, Any]) -> None:
    from rich.table import Table

    t = Table(show_header=False, title=str(data.get("path", "")), title_justify="left")
    t.add_column("key", style="bold")
    t.add_column("value")
    skip = {"path", "layer_types", "op_types", "inputs", "outputs", "sherpa_meta", "states", "rt_info", "weights", "lint"}
    for k, v in data.items():
        if k in skip or v is None or v == [] or v == {}:
            continue
        t.add_row(k.replace("_", " "), v if isinstance(v, str) else json.dumps(v, default=str))
    out.print(t)
    for key in ("inputs", "outputs"):
        rows = data.get(key) or []
        if not rows:
            continue
        io = Table(title=key, title_justify="left")
        cols = list(dict.fromkeys(c for r in rows for c in r))
        for c in cols:
            io.add_column(c)
        for r in rows:
            io.add_row(*[_cell(r.get(c)) for c in cols])
        out.print(io)
    hist = data.get("layer_types") or data.get("op_types") or {}
    if hist:
        h = Table(title="layer types" if "layer_types" in data else "op types", title_justify="left")
        h.add_column("type")
        h.add_column("count", justify="right")
        for k, v in hist.items():
            h.add_row(k, str(v))
        out.print(h)
    for key in ("states", "rt_info"):
        v = data.get(key)
        if v:
            out.print(f"[bold]{key.replace('_', ' ')}[/]: {json.dumps(v, indent=2, default=str)}")
    from .weights_table import print_weights

    print_weights(out, data.get("weights"))
    meta = data.get("sherpa_meta")
    if meta:
        derived = meta.get("derived") or {}
        s = Table(title=f"SherpaMetaData ({meta['family']})", title_justify="left")
        s.add_column("field", style="bold")
        s.add_column("declared")
        s.add_column("graph")
        for k in dict.fromkeys([*meta["fields"], *derived]):
            g = _cell(derived.get(k))
            s.add_row(k, _cell(meta["fields"].get(k)), f"[red]{g}[/]" if k.split(" (")[0] in meta.get("mismatch", ()) else g)
        if meta.get("warning"):
            s.add_row("warning", meta["warning"], "")
        out.print(s)
    lint = data.get("lint")
    if lint:  # the last line: what lint would say
        from rich.markup import escape

        n = lint["errors"]
        out.print(f"[yellow]warning:[/] modelfile lint fails with {n} error{'s' if n != 1 else ''} "
                  f"(first: {escape(lint['first'])})", markup=True, highlight=False, soft_wrap=True)


def _cell(v: Any) -> str:
    if v is None:
        return ""
    return v if isinstance(v, str) else json.dumps(v, default=str)


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


ListOpt = Optional[str]


@app.command()
@handle_errors
@edit_command
def patch(
    model: ModelArg,
    add_sherpa_meta: Annotated[bool, typer.Option("--add-sherpa-meta", help="Insert SherpaMetaData for sherpa-ncnn.")] = False,
    model_type: Annotated[Optional[str], typer.Option("--model-type", help="zipformer, conv-emformer or lstm.")] = None,
    from_export_command: Annotated[Optional[str], typer.Option(
        "--from-export-command", help="A pasted `export-for-ncnn.py ...` command line (or a file holding it).")] = None,
    decode_chunk_len: Annotated[Optional[int], typer.Option("--decode-chunk-len", rich_help_panel="zipformer")] = None,
    num_left_chunks: Annotated[Optional[int], typer.Option("--num-left-chunks", rich_help_panel="zipformer")] = None,
    encoder_dims: Annotated[ListOpt, typer.Option("--encoder-dims", rich_help_panel="zipformer")] = None,
    attention_dims: Annotated[ListOpt, typer.Option("--attention-dims", rich_help_panel="zipformer")] = None,
    zipformer_downsampling_factors: Annotated[ListOpt, typer.Option(
        "--zipformer-downsampling-factors", rich_help_panel="zipformer")] = None,
    cnn_module_kernels: Annotated[ListOpt, typer.Option("--cnn-module-kernels", rich_help_panel="zipformer")] = None,
    pad_length: Annotated[Optional[int], typer.Option("--pad-length", help="zipformer key 3 (default 7).",
                                                      rich_help_panel="zipformer")] = None,
    num_encoder_layers: Annotated[Optional[str], typer.Option(
        "--num-encoder-layers", help="zipformer: comma list per stack; conv-emformer/lstm: an integer.")] = None,
    memory_size: Annotated[Optional[int], typer.Option("--memory-size", rich_help_panel="conv-emformer")] = None,
    cnn_module_kernel: Annotated[Optional[int], typer.Option("--cnn-module-kernel", rich_help_panel="conv-emformer")] = None,
    left_context_length: Annotated[Optional[int], typer.Option(
        "--left-context-length", help="As passed to export-for-ncnn.py; written divided by 4.",
        rich_help_panel="conv-emformer")] = None,
    chunk_length: Annotated[Optional[int], typer.Option("--chunk-length", rich_help_panel="conv-emformer")] = None,
    right_context_length: Annotated[Optional[int], typer.Option("--right-context-length", rich_help_panel="conv-emformer")] = None,
    encoder_dim: Annotated[Optional[int], typer.Option("--encoder-dim", rich_help_panel="conv-emformer / lstm")] = None,
    rnn_hidden_size: Annotated[Optional[int], typer.Option("--rnn-hidden-size", rich_help_panel="lstm")] = None,
    replace: Annotated[bool, typer.Option("--replace", help="Replace an existing or misspelled meta layer.")] = False,
    opts: EditOptions = EditOptions(),
) -> None:
    """Patch an encoder .param for sherpa-ncnn (the icefall hand edit, done right).

    Values the graph shows are read off it (family, layer counts, dims, kernels, contexts); flags are only
    needed for what it does not show, and are refused when the graph contradicts them (--force writes them).
    Example: modelfile patch encoder_jit_trace-pnnx.ncnn.param --add-sherpa-meta --in-place
    Example: modelfile patch encoder_jit_trace-pnnx.ncnn.param --add-sherpa-meta --model-type zipformer
    --decode-chunk-len 32 --num-left-chunks 4 --num-encoder-layers 2,4,3,2,4 --encoder-dims 384,384,384,384,384
    --attention-dims 192,192,192,192,192 --zipformer-downsampling-factors 1,2,4,8,2 --cnn-module-kernels 31,31,31,31,31
    -o encoder.ncnn.param
    """
    from ..passes.sherpa_meta import patch_sherpa_meta

    if not add_sherpa_meta:
        raise ModelfileError("nothing to do: pass --add-sherpa-meta")
    flags: dict[str, Any] = {
        "decode-chunk-len": decode_chunk_len, "num-left-chunks": num_left_chunks, "encoder-dims": encoder_dims,
        "attention-dims": attention_dims, "zipformer-downsampling-factors": zipformer_downsampling_factors,
        "cnn-module-kernels": cnn_module_kernels, "pad-length": pad_length, "num-encoder-layers": num_encoder_layers,
        "memory-size": memory_size, "cnn-module-kernel": cnn_module_kernel, "left-context-length": left_context_length,
        "chunk-length": chunk_length, "right-context-length": right_context_length, "encoder-dim": encoder_dim,
        "rnn-hidden-size": rnn_hidden_size,
    }
    # --force also writes values that do not fit, or contradict, the graph
    run_edit(model, lambda m: patch_sherpa_meta(m.graph, model_type, flags, from_export_command, replace=replace,
                                                force=opts.force), opts=opts)


def main() -> None:
    """Console-script entry point."""
    try:
        app()
    except ModelfileError as e:  # raised outside a command (should not happen)
        from .common import print_error

        print_error(e)
        sys.exit(EXIT_USAGE)


def _register_optional_commands() -> None:
    # commands living in their own modules register themselves on import
    import importlib

    for mod in ("lint", "edit", "apply", "preprocess", "convert", "diff", "graph", "extract"):
        try:
            importlib.import_module(f"{__name__}.{mod}")
        except ModuleNotFoundError as e:
            if e.name != f"{__name__}.{mod}":
                raise


_register_optional_commands()
