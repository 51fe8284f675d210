"""``modelfile patch``: add the SherpaMetaData layer sherpa-ncnn needs to an encoder ``.param``."""

from __future__ import annotations

from typing import Annotated, Any, Optional

import typer

from ..errors import ModelfileError
from . import app
from .common import EditOptions, edit_command, handle_errors, run_edit
from .options import ModelArg

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
