"""Embed ImageNet normalisation for BGR input (mo's --mean_values/--scale_values/--reverse_input_channels).

The same as ``modelfile preprocess MODEL --mean-values "data[123.675,116.28,103.53]"
--scale-values "data[58.395,57.12,57.375]" --reverse-input-channels --layout "data(nchw)"``, written
as a pass over the library function so it can be combined with other edits:

    modelfile apply examples/preprocess_imagenet.py fixtures/openvino/convnet/model.xml -o bgr.xml
"""

from __future__ import annotations

import sys

import modelfile
from modelfile.api import Report
from modelfile.passes.preprocess import preprocess

MEAN = [123.675, 116.28, 103.53]
SCALE = [58.395, 57.12, 57.375]


def run(model: modelfile.Model) -> Report:
    """Reverse channels, subtract the ImageNet mean and divide by its std on the first input."""
    first = model.inputs[0]
    name = first.names[0] if first.names else first.name
    # an IR Parameter says its layout; an ncnn Input is always a planar c,h,w Mat
    layouts = {name: "nchw"} if first.producer is not None and first.producer.op_type == "Parameter" else None
    return preprocess(model, {name: MEAN}, {name: SCALE}, reverse=True, layouts=layouts)


if __name__ == "__main__":
    m = modelfile.load(sys.argv[1])
    print(run(m).to_dict())
    m.save(sys.argv[2])
