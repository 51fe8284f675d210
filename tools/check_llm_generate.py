#!/usr/bin/env python3
"""Does optimum-intel generate the same tokens with ``modelfile cut-state`` / ``make-state`` results?

Issue #10 asks that optimum-intel's own ``OVModelForCausalLM.generate`` on a model cut by
``modelfile cut-state`` returns the original's tokens. optimum-intel and torch are not dependencies
of modelfile (nor of its tests), so this is a tool script, run in a venv that has them:

1. export a tiny random Llama (``LlamaConfig``, ``torch.manual_seed``) with optimum-intel itself,
   stateful (``OVModelForCausalLM.from_pretrained(dir, export=True, stateful=True)``);
2. ``modelfile cut-state`` it (the modelfile CLI runs in ``--modelfile-python``, by default this repo's
   ``.venv``), and compare inputs and outputs (names, order) with OpenVINO's
   ``stateful_to_stateless_transformation`` of the same file;
3. ``modelfile make-state`` the cut model back;
4. generate with all three (greedy and beam search with 2 beams, which reorders the state through
   ``beam_idx`` or optimum's ``_reorder_cache``) and compare the tokens.

Exit 0 when everything matches, 1 otherwise.

    /work/venv-irsem/bin/python tools/check_llm_generate.py [--layers 2 4] [--new-tokens 12]
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def export(hf_dir: Path, ov_dir: Path, layers: int) -> None:
    import torch
    from optimum.intel import OVModelForCausalLM
    from transformers import LlamaConfig, LlamaForCausalLM

    torch.manual_seed(0)
    cfg = LlamaConfig(hidden_size=32, intermediate_size=64, num_hidden_layers=layers, num_attention_heads=4,
                      num_key_value_heads=2, head_dim=8, vocab_size=96, max_position_embeddings=128)
    LlamaForCausalLM(cfg).eval().save_pretrained(hf_dir)
    OVModelForCausalLM.from_pretrained(hf_dir, export=True, stateful=True, compile=False).save_pretrained(ov_dir)


def modelfile(py: str, *args: str) -> None:
    r = subprocess.run([py, "-m", "modelfile", *args], capture_output=True, text=True, cwd=ROOT)
    if r.returncode != 0:
        raise SystemExit(f"modelfile {' '.join(args)} failed ({r.returncode}): {r.stderr.strip() or r.stdout}")


def io_names(xml: Path) -> tuple[list[str], list[str]]:
    import openvino as ov

    m = ov.Core().read_model(str(xml))
    return [p.get_any_name() for p in m.inputs], [p.get_any_name() for p in m.outputs]


def reference_names(xml: Path) -> tuple[list[str], list[str]]:
    import openvino as ov
    from openvino._offline_transformations import stateful_to_stateless_transformation

    m = ov.Core().read_model(str(xml))
    stateful_to_stateless_transformation(m)
    return [p.get_any_name() for p in m.inputs], [p.get_any_name() for p in m.outputs]


def generate(model_dir: Path, beams: int, new_tokens: int) -> list[list[int]]:
    import torch
    from optimum.intel import OVModelForCausalLM

    model = OVModelForCausalLM.from_pretrained(model_dir, ov_config={"INFERENCE_PRECISION_HINT": "f32"},
                                               use_cache=True)
    ids = torch.tensor([[1, 5, 9, 17, 33], [1, 7, 3, 60, 2]])
    out = model.generate(input_ids=ids, attention_mask=torch.ones_like(ids), max_new_tokens=new_tokens,
                         min_new_tokens=new_tokens, do_sample=False, num_beams=beams, pad_token_id=0)
    return out.tolist()


def check(layers: int, new_tokens: int, py: str) -> bool:
    ok = True
    with tempfile.TemporaryDirectory(prefix="mf-llm-") as tmp:
        t = Path(tmp)
        orig, cut, back = t / "orig", t / "cut", t / "back"
        export(t / "hf", orig, layers)
        shutil.copytree(orig, cut)
        modelfile(py, "cut-state", str(cut / "openvino_model.xml"), "--in-place")
        shutil.copytree(cut, back)
        modelfile(py, "make-state", str(back / "openvino_model.xml"), "--in-place")
        want, got = reference_names(orig / "openvino_model.xml"), io_names(cut / "openvino_model.xml")
        same = want == got
        ok &= same
        print(f"{layers} layers: cut-state inputs/outputs {'==' if same else '!='} stateful_to_stateless_transformation "
              f"({len(got[0])} inputs, {len(got[1])} outputs)")
        if not same:
            print(f"  want {want}\n  got  {got}")
        back_names, orig_names = io_names(back / "openvino_model.xml"), io_names(orig / "openvino_model.xml")
        ok &= back_names == orig_names
        print(f"  make-state back: inputs/outputs {'==' if back_names == orig_names else '!='} the original's")
        for beams in (1, 2):
            a = generate(orig, beams, new_tokens)
            print(f"  original, num_beams={beams}: new tokens {[row[-new_tokens:] for row in a]}")
            for label, d in (("cut-state", cut), ("make-state", back)):
                b = generate(d, beams, new_tokens)
                ok &= a == b
                print(f"  generate (num_beams={beams}, {new_tokens} new tokens): {label} "
                      f"{'returns the original tokens' if a == b else f'DIFFERS: {b} vs {a}'}")
    return ok


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--layers", type=int, nargs="+", default=[2, 4])
    ap.add_argument("--new-tokens", type=int, default=12)
    ap.add_argument("--modelfile-python", default=str(ROOT / ".venv" / "bin" / "python"),
                    help="a Python with modelfile installed (default: the repo's .venv)")
    a = ap.parse_args()
    ok = all([check(n, a.new_tokens, a.modelfile_python) for n in a.layers])
    print("OK" if ok else "MISMATCH")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
