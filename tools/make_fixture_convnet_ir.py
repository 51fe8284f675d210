"""Write fixtures/openvino/convnet/model.xml/.bin: a small image classifier converted with openvino.convert_model.

A seeded torch module (Conv2d 3->4 k3 + ReLU -> Conv2d 4->4 k3 stride 2 + ReLU -> Conv2d 4->2 k1
-> global average pool), input ``data`` f32 [1,3,16,16] in NCHW as torchvision feeds it, output
``logits`` f32 [1,2,1,1]; saved with ``compress_to_fp16=False``. It is the model the
``preprocess`` tests compare against ``PrePostProcessor``.

    python tools/make_fixture_convnet_ir.py      # needs torch (pip install torch==2.13.0) and openvino
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

OUT = Path(__file__).resolve().parent.parent / "fixtures" / "openvino" / "convnet"


def main() -> int:
    import openvino as ov
    import torch

    torch.manual_seed(20261201)

    class Net(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.c1 = torch.nn.Conv2d(3, 4, 3, padding=1)
            self.c2 = torch.nn.Conv2d(4, 4, 3, stride=2, padding=1)
            self.c3 = torch.nn.Conv2d(4, 2, 1)

        def forward(self, data: torch.Tensor) -> torch.Tensor:
            x = torch.relu(self.c1(data))
            x = torch.relu(self.c2(x))
            return self.c3(x).mean(dim=(2, 3), keepdim=True)

    net = Net().eval()
    example = torch.randn(1, 3, 16, 16)
    om = ov.convert_model(net, example_input=example, input=[("data", [1, 3, 16, 16])])
    om.outputs[0].get_tensor().set_names({"logits"})
    OUT.mkdir(parents=True, exist_ok=True)
    ov.save_model(om, str(OUT / "model.xml"), compress_to_fp16=False)
    compiled = ov.Core().compile_model(str(OUT / "model.xml"), "CPU", {"INFERENCE_PRECISION_HINT": "f32"})
    got = compiled({"data": example.numpy()})[0]
    want = net(example).detach().numpy()
    err = float(np.abs(got - want).max())
    print(f"openvino vs torch: max abs diff {err:.2e}")
    return 0 if err < 1e-4 else 1


if __name__ == "__main__":
    raise SystemExit(main())
