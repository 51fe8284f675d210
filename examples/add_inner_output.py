"""Expose an inner tensor as a model output (IR: a new Result; ncnn: any named blob is extractable).

    python examples/add_inner_output.py model.xml "aten::relu/Relu" out.xml

As a pass (``modelfile apply``) it exposes the output of the first activation it finds.
"""

from __future__ import annotations

import sys

import modelfile
from modelfile.api import Report, add_output

ACTIVATIONS = ("ReLU", "Relu", "Sigmoid", "Tanh", "Swish", "HSwish", "Clip")


def expose(model: modelfile.Model, layer: str, name: str | None = None) -> Report:
    """Make output 0 of ``layer`` a model output, named ``name`` (default: its tensor name)."""
    report = Report("add-output")
    node = model.find_node(layer)
    if node is None:
        raise modelfile.ModelfileError(f"no layer named {layer!r}", file=str(model.path))
    value = node.outputs[0]
    before = len(model.graph.outputs)
    add_output(model, value, name)
    report.add("add-output", value.name or layer, None, name or value.name,
               detail="" if len(model.graph.outputs) > before else "already an output / extractable")
    return report


def run(model: modelfile.Model) -> Report:
    """Expose the output of the first activation layer."""
    first = next((n for n in model.graph if n.op_type in ACTIVATIONS), None)
    if first is None:
        report = Report("add-output")
        report.notes.append("no activation layer found")
        return report
    return expose(model, first.name, f"{first.name}_out")


if __name__ == "__main__":
    m = modelfile.load(sys.argv[1])
    print(expose(m, sys.argv[2]).to_dict())
    m.save(sys.argv[3])
