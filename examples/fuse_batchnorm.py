"""Fold each ncnn BatchNorm into the Convolution before it (what ncnnoptimize does), with modelfile's API.

    modelfile apply examples/fuse_batchnorm.py fixtures/examples/convbn.ncnn.param -o fused.ncnn.param
    python examples/fuse_batchnorm.py fixtures/examples/convbn.ncnn.param fused.ncnn.param

ncnn's BatchNorm computes ``y = x * k + (bias - mean * k)`` with ``k = slope / sqrt(var + eps)``
per channel, so a Convolution whose only reader is the BatchNorm can absorb it: its weights
scale by ``k`` per output channel and its bias becomes ``(bias - mean) * k + bn_bias``.
"""

from __future__ import annotations

import sys

import numpy as np

import modelfile
from modelfile.api import Report, bypass, params, weights

#: layers whose weights are laid out output channel first ([out][in/group][kh][kw])
FUSABLE = ("Convolution", "ConvolutionDepthWise", "Convolution1D", "ConvolutionDepthWise1D", "InnerProduct")


def run(model: modelfile.Model) -> Report:
    """Fuse every Convolution -> BatchNorm pair of an ncnn model (IR models have no BatchNorm layers)."""
    report = Report("fuse-batchnorm")
    for bn in [n for n in model.graph if n.op_type == "BatchNorm"]:
        src = bn.inputs[0]
        conv = src.producer if src is not None else None
        if conv is None or conv.op_type not in FUSABLE or len(src.uses) != 1:
            continue
        cp = params(conv)
        if cp.activation_type != 0 or cp.int8_scale_term or (conv.op_type != "InnerProduct" and cp.dynamic_weight):
            continue  # an activation or int8 weights sit between the conv and the BatchNorm
        bw, cw = weights(bn), weights(conv)
        k = bw.slope / np.sqrt(bw.var + params(bn).eps)
        w = cw.weight.reshape(cp.num_output, -1) * k[:, None]
        b = ((cw.bias if cp.bias_term else 0.0) - bw.mean) * k + bw.bias
        cp.bias_term = 1
        cw.update(weight=w, bias=b)
        bypass(bn)
        report.add("fuse-batchnorm", bn.name, None, conv.name)
    return report


if __name__ == "__main__":
    m = modelfile.load(sys.argv[1])
    print(run(m).to_dict())
    m.save(sys.argv[2])
