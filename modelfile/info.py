"""What ``modelfile info`` shows: the format's own summary plus decoded metadata and lint's verdict."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .errors import ModelfileError, Severity
from .model import Model

__all__ = ["describe", "lint_summary"]


def describe(model: Model, *, layers: bool = False) -> dict[str, Any]:
    """A JSON-able summary of ``model`` (counts, inputs, outputs, types, metadata, weights).

    ``layers``: the weights per layer (ncnn) or per Const (IR) as well. ``lint`` is there when
    ``modelfile lint`` would fail on the model's file: the number of errors and the first one (see
    :func:`lint_summary`).
    """
    from .sherpa.describe import describe_meta

    data: dict[str, Any] = model.handler.describe(model, layers=layers)
    name = Path(str(data.get("path") or "")).name.lower()
    # icefall's export names (encoder*.ncnn*.param): show what the graph would give a meta layer before one exists
    encoder_named = name.startswith("encoder") and ".ncnn" in name and name.endswith(".param")
    meta = describe_meta(model.graph, sherpa_encoder=encoder_named)  # None for graphs that are no sherpa encoder
    if meta is not None:
        data["sherpa_meta"] = meta
    summary = lint_summary(model)
    if summary is not None:
        data["lint"] = summary
    return data


def lint_summary(model: Model) -> dict[str, Any] | None:
    """``{"errors": n, "first": "file:line:col: message"}`` when lint finds errors in the model's file.

    Kept cheap: the file is linted without the OpenVINO read_model check (IR020), which costs as much as
    loading the model in the runtime, and a text ``.param`` is linted from the graph already read.
    """
    path = getattr(model, "path", None)
    if path is None:
        return None
    from .formats.ncnn.reader import NcnnDocument
    from .lint import lint_file
    from .lint.ncnn_read import lint_read

    try:
        diags = None
        doc = model.graph.source
        if isinstance(doc, NcnnDocument):  # a text .param just read: lint the graph we hold, not the file again
            diags = lint_read(path, model.graph, doc, ignore=["IR020"], errors_only=True)
        if diags is None:
            diags = lint_file(path, ignore=["IR020"])
    except ModelfileError:  # a bad pyproject.toml is lint's business, not info's
        return None
    errors = [d for d in diags if d.severity is Severity.ERROR]
    if not errors:
        return None
    return {"errors": len(errors), "first": errors[0].one_line()}
