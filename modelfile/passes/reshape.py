"""Set input shapes (mo's ``name[shape]``, ``name{type}``) on existing inputs."""

from __future__ import annotations

from ..errors import ModelfileError
from ..model import Model
from ..mo_input import InputSpec
from .locate import locate
from .report import Report

__all__ = ["reshape"]


def reshape(model: Model, specs: list[InputSpec]) -> Report:
    """Set the shape (IR: and optionally the element type) of existing inputs.

    IR: the Parameter ``shape``/``element_type`` and its port; the ports
    further down get the dims OpenVINO infers (-1 without OpenVINO), and the
    save gate also compiles the result, so a shape the model cannot take is
    refused with OpenVINO's message (see ``formats/openvino/shapes.py``).
    ncnn: ``Input`` params ``0=w 1=h 11=d 2=c``; a leading batch dim 1 is
    dropped as pnnx does. Unnamed items (``[1,100],[1,?]``) go by input order.
    """
    from .cut import cut, format_ops

    ops = format_ops(model)
    for spec in specs:
        if spec.value is not None:
            raise ModelfileError(f"{spec.text or spec.location!r} freezes a value; use freeze for that")
        if spec.location:
            places = locate(model.graph, spec.location)
            v = places[0].value if len(places) == 1 else None
            if v is None or v.producer is None or not ops.is_input(v.producer):
                raise ModelfileError(f"{spec.location!r} is not a model input; to make an inner tensor an input use cut --input")
    r = cut(model, specs, None)
    r.transform = "reshape"
    return r
