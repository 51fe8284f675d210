"""Swap every ReLU of an OpenVINO IR for HSwish, keeping names, edges and everything else byte-for-byte.

    modelfile apply examples/swap_activation.py fixtures/openvino/convnet/model.xml -o hswish.xml
"""

from __future__ import annotations

import sys

import modelfile
from modelfile.api import Report, new_node, replace

FROM, TO = ("ReLU", "Relu"), "HSwish"


def run(model: modelfile.Model) -> Report:
    """Replace each ReLU layer by an HSwish of the same name on the same tensors."""
    report = Report("swap-activation")
    for node in [n for n in model.graph if n.op_type in FROM]:
        # a node without inputs or outputs: replace() gives it the old one's tensors and place
        swap = new_node(model, TO, name=node.name, outputs=0)
        replace(node, swap)
        report.add("replace", node.name, node.op_type, TO)
    return report


if __name__ == "__main__":
    m = modelfile.load(sys.argv[1])
    print(run(m).to_dict())
    m.save(sys.argv[2])
