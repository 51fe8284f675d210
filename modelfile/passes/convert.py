"""Change how a model is stored: weights fp32 <-> fp16, ncnn params text <-> binary (ncnn2mem)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from ..errors import ModelfileError
from ..model import Model
from .report import Report

__all__ = ["convert_param_format", "convert_weights"]


def convert_weights(model: Model, target: str, progress: Callable[[int], None] | None = None) -> Report:
    """Store ``model``'s weights as ``target`` (``fp32`` or ``fp16``).

    OpenVINO IR: ``fp16`` compresses f32 Consts as ``ov.save_model(...,
    compress_to_fp16=True)`` does (f16 Const + Convert); ``fp32`` folds those
    pairs back into f32 Consts (see :mod:`modelfile.formats.openvino.compress`).
    ncnn: every tagged blob (the ones ncnn reads with a flag word) is
    re-encoded the way pnnx's ``fp16=1`` export writes it, or back to plain
    fp32; biases and other raw blobs stay fp32, int8 and lookup-table blobs
    are kept and listed in the notes. The ``.param`` does not change.
    ``progress`` gets source bytes handled, layer by layer.
    """
    if target not in ("fp32", "fp16"):
        raise ModelfileError(f"unknown weight storage {target!r}; use fp32 or fp16")
    caps = model.handler.capabilities
    if "fp16-consts" in caps:
        return _convert_ir(model, target, progress)
    if "tagged-weights" not in caps:
        raise ModelfileError(f"convert --weights does not know {model.format} models", file=str(model.path or ""))
    from ..formats.ncnn.handler import HANDLER
    from ..formats.ncnn.weights.dtype import convert_store

    store = HANDLER.weights(model)  # follows edits made since the model was read
    if store is None:
        st = HANDLER.state(model)
        raise ModelfileError("weights file not found", code="NCNN-WEIGHTS", file=str(st.bin_path or model.path),
                             hint="ncnn needs the .bin next to the .param (x.param -> x.bin)")
    stats = convert_store(store, target, model.graph, progress)
    report = Report("convert")
    if stats.converted_blobs:
        other = "fp16" if target == "fp32" else "fp32"
        report.add("weights", str(store.path.name if store.path else ".bin"),
                   f"{other}: {stats.bytes_before} bytes", f"{target}: {stats.bytes_after} bytes",
                   f"{stats.converted_blobs} blob(s) in {stats.converted_layers} layer(s), {stats.values} values")
    else:
        report.notes.append(f"no weights stored as {'fp16' if target == 'fp32' else 'fp32'}: nothing to convert")
    kept: dict[str, int] = {}
    for name, op, role, why in stats.kept:
        key = f"{why} blobs kept as they are"
        kept[key] = kept.get(key, 0) + 1
        if kept[key] <= 5:
            report.notes.append(f"layer {name} ({op}): {role} is {why}, left as it is")
    for key, n in kept.items():
        if n > 5:
            report.notes.append(f"{n} {key} in all")
    return report


def _convert_ir(model: Model, target: str, progress: Callable[[int], None] | None) -> Report:
    from ..formats.openvino.compress import compress_to_fp16, decompress_to_fp32

    stats = (compress_to_fp16 if target == "fp16" else decompress_to_fp32)(model.graph, progress)
    report = Report("convert")
    if stats.converted:
        other = "f16" if target == "fp32" else "f32"
        mine = "f32" if target == "fp32" else "f16"
        report.add("weights", str(model.path.name if model.path else "model.xml"),
                   f"{other}: {stats.bytes_before} bytes", f"{mine}: {stats.bytes_after} bytes",
                   f"{stats.converted} Const(s)" + (" with their decompression Converts" if target == "fp32" else
                                                   " (each now f16 + Convert to f32)"))
    else:
        report.notes.append("no Const to convert")
    for why, n in stats.kept.items():
        report.notes.append(f"{n} Const(s) left as they are: {why}")
    if stats.clamped:
        report.notes.append(f"{stats.clamped} value(s) beyond fp16's range clamped to +-65504 (as OpenVINO does)")
    if target == "fp16" and stats.converted:
        report.notes.append("the new Converts carry no 'decompression' rt_info mark: OpenVINO folds them at "
                            "load, so the model computes the same but keeps f32 weights in memory")
    return report


def convert_param_format(model: Model, fmt: str, *, out: Path | None = None, id_header: Path | None = None) -> Report:
    """Switch an ncnn model between a text ``.param`` and ncnn2mem's binary ``.param.bin``.

    ``binary``: the graph is replaced by the ``.param.bin`` form ncnn2mem
    writes (see :mod:`modelfile.formats.ncnn.mem`), and the model's state
    holds the ``.id.h`` text naming its layers and blobs, saved with the param (namespace and guard
    from ``out``, the ``.param.bin`` it will be saved as). ``text``: names come
    from the ``.id.h`` at ``id_header`` when given, else ``layer<i>``/``blob<j>``
    (reported). Do this before converting the weights.
    """
    if "param-bin" not in model.handler.capabilities:
        raise ModelfileError("--param-format works on ncnn models", file=str(model.path or ""))
    from ..formats.ncnn import binparam
    from ..formats.ncnn.handler import HANDLER
    from ..formats.ncnn.mem import from_binary, id_header as render_id_header, parse_id_header, to_binary
    from ..formats.ncnn.reader import NcnnDocument

    report = Report("convert")
    binary = bool(HANDLER.state(model).binary)
    if fmt not in ("binary", "text"):
        raise ModelfileError(f"unknown param format {fmt!r}; use binary or text")
    if (fmt == "binary") == binary:
        report.notes.append(f"the param is already {fmt}")
        return report
    src = str(model.path.name if model.path else "model.param")
    if fmt == "binary":
        g = model.graph
        doc = g.source if isinstance(g.source, NcnnDocument) else None
        data, custom = to_binary(g, doc.declared_blobs if doc else None)
        target = out or (model.path.with_name(model.path.name + ".bin") if model.path else Path("model.param.bin"))
        stem = target.name[: -len(".param.bin")] if target.name.endswith(".param.bin") else target.stem
        header = render_id_header(g, stem + ".param", stem + ".id.h", custom)
        model.graph = binparam.read_bytes(data, str(target), target.name)
        model.graph.outputs = model.graph.dangling_values()
        st = HANDLER.state(model)
        st.binary = True
        st.id_header = header
        st.weights = None  # a store of the text graph does not know the new nodes: the .bin follows these
        st.source_nodes = tuple(model.graph.nodes)
        report.add("param-format", src, "text", "binary", f"{len(data)} bytes, {len(g.nodes)} layers")
        if custom:
            report.notes.append("custom layer types (register them by these indexes): "
                                + ", ".join(f"{t}={0x100 | k}" for k, t in enumerate(custom)))
        return report
    names = parse_id_header(id_header) if id_header is not None else None
    stats = from_binary(model.graph, names)
    st = HANDLER.state(model)
    st.binary = False
    st.id_header = None
    st.weights = None
    st.source_nodes = tuple(model.graph.nodes)
    report.add("param-format", src, "binary", "text", f"{len(model.graph.nodes)} layers")
    if stats["generated_layer_names"] or stats["generated_blob_names"]:
        report.notes.append(f"names generated for {stats['generated_layer_names']} layer(s) and "
                            f"{stats['generated_blob_names']} blob(s) (layer<i>, blob<j>): "
                            + ("the .id.h does not name them" if names else "pass --id-header x.id.h for the real ones"))
    if stats["unnamed_custom_types"]:
        report.notes.append(f"{stats['unnamed_custom_types']} layer(s) of custom types without a TYPEINDEX_ name "
                            "are written as custom_<k>")
    if stats["guessed_params"]:
        report.notes.append(f"{stats['guessed_params']} param(s) of ids ncnn's table does not type were written as "
                            "floats because their bits only make sense as floats")
    return report
