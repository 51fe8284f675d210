#!/usr/bin/env python3
"""Make the tiny sherpa-ncnn transducer fixtures under ``fixtures/sherpa/``.

For each family F in {lstm, conv-emformer, zipformer} this writes
``fixtures/sherpa/F/``::

    encoder.ncnn.param  encoder.ncnn.bin     <- pnnx export, WITHOUT SherpaMetaData
    decoder.ncnn.param  decoder.ncnn.bin
    joiner.ncnn.param   joiner.ncnn.bin
    tokens.txt                               <- "<blk> 0" then single letters
    meta.json                                <- icefall export-for-ncnn.py flag values
                                                matching the graph + the exact
                                                SherpaMetaData line expected for it

The models are tiny, seeded, *untrained* torch modules that only have the encoder
I/O signature sherpa-ncnn 2.1.15 expects for the family (input/output blob names
in0.. / out0.., state shapes as sherpa-ncnn builds them, frame counts as it feeds
them).  They are exported with pnnx (``fp16=0``); all pnnx work happens in a
temporary directory and only the files listed above are copied into fixtures/.
The encoder .param files are committed without the SherpaMetaData layer on
purpose: adding it is the job of the tool under development
(``modelfile patch --add-sherpa-meta``).

Verification (run after generation, or alone with ``--verify-only``): for every
family the script copies the files to a temp dir, inserts the meta line itself
(line 3, layer count + 1, blob count unchanged), and runs
``sherpa_ncnn.Recognizer`` in a subprocess (bad files segfault sherpa-ncnn) on
2 s of seeded noise; it must exit 0 and print a result.  The same run without
the meta line must fail (non-zero exit).  During generation it additionally
compares the ncnn encoders against torch with the PyPI ``ncnn`` module and
probes, with throw-away "frame-counting" models, how many feature frames
sherpa-ncnn feeds per encoder call and how many encoder frames come out.

Requirements: regenerating needs torch, pnnx, ncnn (python) and sherpa_ncnn;
``--verify-only`` needs only sherpa_ncnn.  Output is deterministic (seeded),
so rerunning rewrites byte-identical files.

Usage::

    python tools/make_fixtures_sherpa.py              # generate + verify
    python tools/make_fixtures_sherpa.py --verify-only
    python tools/make_fixtures_sherpa.py --family lstm --no-verify
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

# What sherpa-ncnn 2.1.15 actually does with these encoders (found while making
# them; the frame counts are re-measured by the probes on every generation):
# * Feature frames per encoder call = Segment(): lstm 9, conv-emformer
#   chunk + right + 2*4 + 3 (35 here), zipformer decode-chunk-len + 7 (23 here);
#   the window advances by Offset() (4 / chunk-length / decode-chunk-len).
#   2 s of audio -> 199..200 fbank frames -> 48 / 11 / 12 encoder calls here;
#   input_finished() adds no padding, a final partial window is not decoded.
# * lstm: in1 is a 1-element float Mat holding the frame count (9.0), not an
#   int; out1 is never extracted.  States Mat(D, L) / Mat(H, L) round-trip as is.
# * conv-emformer: all 4L states are fed back exactly as extracted.
# * zipformer: the 5 "3-D" kinds are fed back as extracted, but cached_len and
#   cached_avg outputs are post-processed with Mat::reshape(out.h) and
#   Mat::reshape(out.w, out.c): the encoder must output them as Mat(1, L) and
#   Mat(E, 1, L) although it receives Mat(L) and Mat(E, L).  Outputs in the input
#   layout reshape to EMPTY Mats when L > 1 and the 2nd encoder call crashes.
# * pnnx 20261020 turns x[:, j] / unbind into Reshape with a shape expression
#   (6="0w,0h,0n"); sherpa-ncnn's ncnn crashes on that graph in the 1st call.
# * Joiner in0 is a row view of the encoder output (borrowed data, no refcount).

REPO = Path(__file__).resolve().parents[1]
OUT_ROOT = REPO / "fixtures" / "sherpa"
FAMILIES = ("lstm", "conv-emformer", "zipformer")
MODEL_FILES = (
    "encoder.ncnn.param",
    "encoder.ncnn.bin",
    "decoder.ncnn.param",
    "decoder.ncnn.bin",
    "joiner.ncnn.param",
    "joiner.ncnn.bin",
)

FEATURE_DIM = 80  # sherpa-ncnn's FeatureExtractorConfig(feature_dim=80)
CONTEXT_SIZE = 2  # sherpa-ncnn's decoder context size (2 for all families)
TOKENS = ["<blk>"] + list("ABCDEFGHI")  # vocab size 10
DECODER_EMBED = 8
DECODER_DIM = 12
JOINER_DIM = 16

# icefall export-for-ncnn.py flag values of each fixture (what the graph matches).
# Values are deliberately pairwise different where possible so that a key mix-up
# in a patch tool changes the line.
FLAGS = {
    "lstm": {
        "num-encoder-layers": 2,
        "encoder-dim": 16,
        "rnn-hidden-size": 24,
    },
    "conv-emformer": {
        "num-encoder-layers": 2,
        "memory-size": 3,
        "cnn-module-kernel": 5,
        "left-context-length": 24,  # before subsampling; meta key 4 = 24 // 4 = 6
        "chunk-length": 16,
        "right-context-length": 8,
        "encoder-dim": 12,
    },
    "zipformer": {
        "decode-chunk-len": 16,
        "num-left-chunks": 2,
        "num-encoder-layers": [1, 2],
        "encoder-dims": [16, 24],
        "attention-dims": [8, 12],
        "zipformer-downsampling-factors": [1, 2],
        "cnn-module-kernels": [3, 5],
    },
}
# Second configurations (non-default layer counts, dims, kernels) and an equivalent of
# icefall's 2023 bilingual zipformer (2,4,3,2,4 layers, 384 dims, 192 attention,
# 1,2,4,8,2, kernels 31, decode-chunk-len 32, 4 left chunks): same numbers, the
# fixture's simplified layers. That one is committed as encoder.ncnn.param only
# (its .bin would be ~18 MB); the derivation only needs the .param.
FLAGS.update({
    "lstm-b": {"num-encoder-layers": 3, "encoder-dim": 20, "rnn-hidden-size": 32},
    "conv-emformer-b": {
        "num-encoder-layers": 3,
        "memory-size": 4,
        "cnn-module-kernel": 7,
        "left-context-length": 16,
        "chunk-length": 8,
        "right-context-length": 4,
        "encoder-dim": 16,
    },
    "zipformer-b": {
        "decode-chunk-len": 32,
        "num-left-chunks": 2,
        "num-encoder-layers": [3, 2, 2, 2, 2],
        "encoder-dims": [16, 24, 24, 24, 16],
        "attention-dims": [8, 12, 12, 8, 8],
        "zipformer-downsampling-factors": [1, 2, 4, 8, 2],
        "cnn-module-kernels": [3, 5, 7, 5, 3],
    },
    "zipformer-bilingual": {
        "decode-chunk-len": 32,
        "num-left-chunks": 4,
        "num-encoder-layers": [2, 4, 3, 2, 4],
        "encoder-dims": [384] * 5,
        "attention-dims": [192] * 5,
        "zipformer-downsampling-factors": [1, 2, 4, 8, 2],
        "cnn-module-kernels": [31] * 5,
    },
})
#: configuration (fixture dir) -> family
CONFIG_FAMILY = {c: next(f for f in FAMILIES if c == f or c.startswith(f + "-")) for c in FLAGS}
CONFIGS = tuple(FLAGS)
#: configurations committed as encoder.ncnn.param only (too big for weights, not decoded)
PARAM_ONLY = frozenset({"zipformer-bilingual"})
ZIPFORMER_PAD_LENGTH = 7  # meta key 3, "7 if you don't change code"
ZIPFORMER_OUT_DIM = 16
SEEDS = {"lstm": 1001, "conv-emformer": 1002, "zipformer": 1003, "lstm-b": 1011, "conv-emformer-b": 1012,
         "zipformer-b": 1013, "zipformer-bilingual": 1023}

# Layer types compiled into sherpa-ncnn 2.1.15's own libncnn.so (probed with
# ncnn::create_layer(); everything else, e.g. Pooling, Clip, Tile, Swish,
# HardSwish, Scale, ConvolutionDepthWise (2-D), is disabled in its build).
SHERPA_NCNN_LAYERS = frozenset(
    "Concat Convolution Crop Dropout Eltwise Embed Flatten InnerProduct Input "
    "MemoryData Reduction ReLU Reshape Sigmoid Slice Softmax Split TanH RNN LSTM "
    "BinaryOp UnaryOp Padding Squeeze ExpandDims Permute Quantize Dequantize "
    "Packing Requantize Cast Gemm LayerNorm GELU Convolution1D "
    "ConvolutionDepthWise1D MatMul Deconvolution1D DeconvolutionDepthWise1D GLU "
    "Flip".split()
)


# --------------------------------------------------------------------------
# family facts (pure python, shared by generation and verification)
# --------------------------------------------------------------------------


def meta_line(family: str, flags: dict) -> str:
    """The SherpaMetaData line sherpa-ncnn needs for `flags` (single spaces,
    keys ascending, arrays in ncnn's ``-(23300+id)=len,v...`` form)."""
    if family == "lstm":
        keys = [
            (0, 3),
            (1, flags["num-encoder-layers"]),
            (2, flags["encoder-dim"]),
            (3, flags["rnn-hidden-size"]),
        ]
    elif family == "conv-emformer":
        assert flags["left-context-length"] % 4 == 0
        keys = [
            (0, 1),
            (1, flags["num-encoder-layers"]),
            (2, flags["memory-size"]),
            (3, flags["cnn-module-kernel"]),
            (4, flags["left-context-length"] // 4),
            (5, flags["chunk-length"]),
            (6, flags["right-context-length"]),
            (7, flags["encoder-dim"]),
        ]
    elif family == "zipformer":
        keys = [
            (0, 2),
            (1, flags["decode-chunk-len"]),
            (2, flags["num-left-chunks"]),
            (3, ZIPFORMER_PAD_LENGTH),
            (15, 1),
        ]
        for k, name in (
            (16, "num-encoder-layers"),
            (17, "encoder-dims"),
            (18, "attention-dims"),
            (19, "zipformer-downsampling-factors"),
            (20, "cnn-module-kernels"),
        ):
            vals = flags[name]
            keys.append((-(23300 + k), ",".join(str(v) for v in [len(vals), *vals])))
    else:
        raise ValueError(family)
    return "SherpaMetaData sherpa_meta_data1 0 0 " + " ".join(f"{k}={v}" for k, v in keys)


def num_encoder_io(family: str, flags: dict) -> int:
    """Number of encoder inputs (= outputs) sherpa-ncnn uses for the family."""
    if family == "lstm":
        return 4
    if family == "conv-emformer":
        return 1 + 4 * flags["num-encoder-layers"]
    return 1 + 7 * len(flags["num-encoder-layers"])


def segment_offset(family: str, flags: dict) -> tuple[int, int]:
    """(Segment(), Offset()) of sherpa-ncnn's model classes, in feature frames."""
    if family == "lstm":
        return 9, 4
    if family == "conv-emformer":
        c, r = flags["chunk-length"], flags["right-context-length"]
        return c + r + 2 * 4 + 3, c
    c = flags["decode-chunk-len"]
    return c + ZIPFORMER_PAD_LENGTH, c


def encoder_out_frames(family: str, flags: dict) -> int:
    """Encoder output frames per call that our graphs produce for one Segment."""
    if family == "lstm":
        return 1
    if family == "conv-emformer":
        return flags["chunk-length"] // 4
    return flags["decode-chunk-len"] // 4


def state_mat_shapes(family: str, flags: dict) -> list[tuple[int, ...]]:
    """ncnn Mat shapes (w[, h[, c]]) of the encoder states, in sherpa-ncnn's
    order (in1.. / out1..), exactly as its GetEncoderInitStates() builds them."""
    if family == "lstm":
        L, d, h = flags["num-encoder-layers"], flags["encoder-dim"], flags["rnn-hidden-size"]
        return [(d, L), (h, L)]
    if family == "conv-emformer":
        f = flags
        d, m, k = f["encoder-dim"], f["memory-size"], f["cnn-module-kernel"]
        lc = f["left-context-length"] // 4
        return [s for _ in range(f["num-encoder-layers"]) for s in ((d, m), (d, lc), (d, lc), (k - 1, d))]
    f = flags
    lcl = f["decode-chunk-len"] // 2 * f["num-left-chunks"]
    per_kind: list[list[tuple[int, ...]]] = [[] for _ in range(7)]
    for L, e, a, ds, k in zip(
        f["num-encoder-layers"],
        f["encoder-dims"],
        f["attention-dims"],
        f["zipformer-downsampling-factors"],
        f["cnn-module-kernels"],
    ):
        lc = lcl // ds
        per_kind[0].append((L,))
        per_kind[1].append((e, L))
        per_kind[2].append((a, lc, L))
        per_kind[3].append((a // 2, lc, L))
        per_kind[4].append((a // 2, lc, L))
        per_kind[5].append((k - 1, e, L))
        per_kind[6].append((k - 1, e, L))
    return [s for kind in per_kind for s in kind]


def state_out_mat_shapes(family: str, flags: dict) -> list[tuple[int, ...]]:
    """ncnn Mat shapes the encoder must OUTPUT for the states (out1..).

    Same as the input shapes, except zipformer's cached_len and cached_avg:
    sherpa-ncnn 2.1.15 (ZipformerModel::RunEncoder) post-processes those two
    outputs with ``reshape(m.h)`` and ``reshape(m.w, m.c)``, so it expects them
    as Mat(1, L) and Mat(E, 1, L) (icefall's (L, 1) / (L, 1, E) layout)."""
    shapes = state_mat_shapes(family, flags)
    if family == "zipformer":
        n = len(flags["num-encoder-layers"])
        for i in range(n):
            (L,) = shapes[i]
            shapes[i] = (1, L)
            E, L2 = shapes[n + i]
            shapes[n + i] = (E, 1, L2)
    return shapes


def parse_param(text: str):
    """Minimal ncnn .param reader: (layer_count, blob_count, layers) with
    layers = [(type, name, bottoms, tops, params_str)]."""
    lines = text.splitlines()
    assert lines[0].strip() == "7767517", "bad magic"
    layer_count, blob_count = (int(v) for v in lines[1].split())
    layers = []
    for line in lines[2:]:
        tok = line.split()
        if not tok:
            continue
        typ, name, nb, nt = tok[0], tok[1], int(tok[2]), int(tok[3])
        bottoms = tok[4 : 4 + nb]
        tops = tok[4 + nb : 4 + nb + nt]
        layers.append((typ, name, bottoms, tops, " ".join(tok[4 + nb + nt :])))
    return layer_count, blob_count, layers


def insert_meta(param_text: str, line: str) -> str:
    """Insert `line` as line 3, bump the layer count by one, keep blob count."""
    lines = param_text.splitlines()
    layer_count, blob_count = (int(v) for v in lines[1].split())
    lines[1] = f"{layer_count + 1} {blob_count}"
    lines.insert(2, line)
    return "\n".join(lines) + "\n"


def check_encoder_param(family: str, flags: dict, text: str) -> list[str]:
    """Problems with an exported encoder .param (empty list = fine)."""
    return check_param(text, num_encoder_io(family, flags), num_encoder_io(family, flags))


def check_param(text: str, n_in: int, n_out: int) -> list[str]:
    """Problems with an exported .param: Input layers must be exactly in0..,
    graph outputs exactly out0.., every input used, only layer types that
    sherpa-ncnn's ncnn build has (empty list = fine)."""
    layer_count, blob_count, layers = parse_param(text)
    problems = []
    if layer_count != len(layers):
        problems.append(f"layer count {layer_count} != {len(layers)} layer lines")
    blobs = {b for _, _, bs, ts, _ in layers for b in bs + ts}
    if blob_count < len(blobs):
        problems.append(f"blob count {blob_count} < {len(blobs)} distinct blobs")
    inputs = [(name, tops) for typ, name, _, tops, _ in layers if typ == "Input"]
    want_in = [(f"in{i}", [f"in{i}"]) for i in range(n_in)]
    if inputs != want_in:
        problems.append(f"Input layers {inputs} != {want_in}")
    produced = [t for typ, _, _, ts, _ in layers if typ != "Input" for t in ts]
    consumed = {b for _, _, bs, _, _ in layers for b in bs}
    outs = sorted((t for t in produced if t not in consumed), key=lambda s: (len(s), s))
    want_out = [f"out{i}" for i in range(n_out)]
    if outs != want_out:
        problems.append(f"graph outputs {outs} != {want_out}")
    for i in range(n_in):
        if f"in{i}" not in consumed:
            problems.append(f"input in{i} is not used")
    if any('="' in params for *_, params in layers):
        # pnnx emits e.g. `Reshape ... 6="0w,0h,0n"` for x[:, j] / unbind;
        # sherpa-ncnn 2.1.15's ncnn crashes on it in the first encoder call
        problems.append("string-valued params (pnnx shape expressions) present")
    bad_types = sorted({typ for typ, *_ in layers} - SHERPA_NCNN_LAYERS)
    if bad_types:
        problems.append(f"layer types not in sherpa-ncnn's ncnn build: {bad_types}")
    if any(typ == "SherpaMetaData" for typ, *_ in layers):
        problems.append("encoder already has SherpaMetaData")
    return problems


# --------------------------------------------------------------------------
# sherpa-ncnn runs (always in a subprocess)
# --------------------------------------------------------------------------

_CHILD = r"""
import json, sys
import numpy as np
import sherpa_ncnn
args = json.loads(sys.argv[1])
d = args["dir"]
rec = sherpa_ncnn.Recognizer(
    tokens=d + "/tokens.txt",
    encoder_param=d + "/encoder.ncnn.param", encoder_bin=d + "/encoder.ncnn.bin",
    decoder_param=d + "/decoder.ncnn.param", decoder_bin=d + "/decoder.ncnn.bin",
    joiner_param=d + "/joiner.ncnn.param", joiner_bin=d + "/joiner.ncnn.bin",
    num_threads=1,
)
rng = np.random.default_rng(args["seed"])
n = int(16000 * args["seconds"])
t = np.arange(n) / 16000.0
# seeded noise, amplitude-modulated, plus a 200->2000 Hz sweep: features that vary
samples = 0.1 * rng.standard_normal(n) * np.abs(np.sin(2 * np.pi * 1.5 * t))
samples += 0.2 * np.sin(2 * np.pi * (200 * t + 450 * t * t))
samples = samples.astype(np.float32)
if args["mode"] == "decode":
    rec.accept_waveform(16000, samples)
    rec.input_finished()
    out = {"text": rec.text, "tokens": list(rec.tokens), "timestamps": [round(t, 3) for t in rec.timestamps]}
else:  # "count": tokens emitted per encoder call (decode_stream), via the low-level API
    r, s = rec.recognizer, rec.stream
    deltas, prev = [], 0
    def drain():
        global prev
        while r.is_ready(s):
            r.decode_stream(s)
            n = len(r.get_result(s).tokens)
            deltas.append(n - prev)
            prev = n
    s.accept_waveform(16000, samples)
    drain()
    s.input_finished()
    drain()
    out = {"deltas": deltas, "text": r.get_result(s).text}
print("RESULT " + json.dumps(out))
"""


def run_sherpa(model_dir: Path, mode: str = "decode", seconds: float = 2.0, seed: int = 0):
    """Run sherpa-ncnn on `model_dir` in a subprocess.
    Returns (returncode, parsed RESULT dict or None, stderr tail)."""
    arg = json.dumps({"dir": str(model_dir), "mode": mode, "seconds": seconds, "seed": seed})
    p = subprocess.run(
        [sys.executable, "-c", _CHILD, arg],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "OMP_NUM_THREADS": "1"},
    )
    result = None
    for line in p.stdout.splitlines():
        if line.startswith("RESULT "):
            result = json.loads(line[len("RESULT ") :])
    return p.returncode, result, p.stderr.strip()[-400:]


def stage_with_meta(src: Path, dst: Path, line: str | None) -> None:
    """Copy a model dir to `dst`, inserting `line` into the encoder if given."""
    dst.mkdir(parents=True, exist_ok=True)
    for name in (*MODEL_FILES, "tokens.txt"):
        shutil.copyfile(src / name, dst / name)
    if line is not None:
        text = (src / "encoder.ncnn.param").read_text()
        (dst / "encoder.ncnn.param").write_text(insert_meta(text, line))


def verify_family(config: str, fam_dir: Path, work: Path) -> dict:
    """Accepted with the meta line, rejected without it."""
    family = CONFIG_FAMILY[config]
    meta = json.loads((fam_dir / "meta.json").read_text())
    flags, line = meta["flags"], meta["sherpa_meta_data"]
    assert line == meta_line(family, flags), "meta.json line does not match its flags"
    problems = check_encoder_param(family, flags, (fam_dir / "encoder.ncnn.param").read_text())
    with_meta, without_meta = work / f"{config}-meta", work / f"{config}-nometa"
    stage_with_meta(fam_dir, with_meta, line)
    stage_with_meta(fam_dir, without_meta, None)
    rc_ok, res_ok, err_ok = run_sherpa(with_meta, "decode")
    rc_bad, res_bad, err_bad = run_sherpa(without_meta, "decode")
    ok = not problems and rc_ok == 0 and res_ok is not None and rc_bad != 0
    return {
        "family": family,
        "ok": ok,
        "param_problems": problems,
        "with_meta_rc": rc_ok,
        "with_meta_result": res_ok,
        "with_meta_stderr": err_ok if rc_ok else "",
        "without_meta_rc": rc_bad,
        "without_meta_stderr": err_bad.splitlines()[0] if err_bad else "",
    }


# --------------------------------------------------------------------------
# torch models and pnnx export (generation only)
# --------------------------------------------------------------------------


def _define_models():
    import torch
    import torch.nn.functional as F
    from torch import nn

    class LstmEncoder(nn.Module):
        """x (1,T,80), x_lens (1,), hx (L,1,D), cx (L,1,H) ->
        out (1,T',D), lens (1,), hx', cx'.  T' = (T-3)//4 (1 for T=9)."""

        def __init__(self, L, D, H, probe=False):
            super().__init__()
            self.embed = nn.Linear(FEATURE_DIM, D)
            self.conv1 = nn.Conv1d(D, D, 3, stride=2)
            self.conv2 = nn.Conv1d(D, D, 3, stride=2)
            self.lstms = nn.ModuleList(nn.LSTM(D, H, proj_size=D, batch_first=True) for _ in range(L))
            self.norm = nn.LayerNorm(D)  # keeps the joiner out of tanh saturation
            self.probe = nn.Linear(FEATURE_DIM, D) if probe else None

        def forward(self, x, x_lens, hx, cx):
            h = self.embed(x).transpose(1, 2)
            h = self.conv2(F.relu(self.conv1(h))).transpose(1, 2)
            new_h, new_c = [], []
            for i, lstm in enumerate(self.lstms):
                y, (hn, cn) = lstm(h, (hx[i : i + 1], cx[i : i + 1]))
                h = h + y
                new_h.append(hn)
                new_c.append(cn)
            # == T' of the two convs above; true division + floor because pnnx
            # turns `//` into BinaryOp op 15 (floor_divide), which crashes ncnn
            lens = torch.floor((x_lens - 3) / 4)
            h = self.norm(h)
            out = h if self.probe is None else self.probe(x) + h.mean(1, keepdim=True)
            return out, lens, torch.cat(new_h, 0), torch.cat(new_c, 0)

    class EmformerLayer(nn.Module):
        """One layer in the shape of icefall's emformer2.py ``EmformerEncoderLayer.infer`` (the ncnn
        export path): the same slices of memory (M), right context (R), chunk (U), left context (L)
        and conv cache (K-1), so the graph carries the constants icefall's does."""

        def __init__(self, D, M, LC, K, U, R):
            super().__init__()
            self.M, self.LC, self.K, self.U, self.R = M, LC, K, U, R
            self.q, self.k, self.v, self.o = (nn.Linear(D, D) for _ in range(4))
            self.ff = nn.Linear(D, 2 * D)
            self.dw = nn.Conv1d(D, D, K, groups=D)
            self.scale = D**-0.5

        def forward(self, src, mem, lk, lv, conv):
            # src = [right context (R); chunk (U)]
            M, R, U = self.M, self.R, self.U
            utt = src[:, R:, :]
            kv_in = torch.cat([mem, src], 1)  # [memory; right context; chunk]
            k, v = self.k(kv_in), self.v(kv_in)
            # EmformerAttention._forward_impl: key = [key[:M+R], left context, key[M+R:]]
            keys = torch.cat([k[:, : M + R], lk, k[:, M + R :]], 1)
            vals = torch.cat([v[:, : M + R], lv, v[:, M + R :]], 1)
            att = torch.softmax(torch.matmul(self.q(src), keys.transpose(1, 2)) * self.scale, -1)
            src = src + self.o(torch.matmul(att, vals))
            src = src + F.glu(self.ff(src), dim=-1)
            # ConvolutionModule.infer: x = [cache; chunk; right context], new cache x[-R-(K-1):-R]
            x = torch.cat([src[:, R:], src[:, :R]], 1).transpose(1, 2)
            x = torch.cat([conv, x], 2)
            new_conv = x[:, :, -R - (self.K - 1) : -R]
            y = self.dw(x)
            y = torch.cat([y[:, :, U:], y[:, :, :U]], 2).transpose(1, 2)  # back to [right context; chunk]
            src = src + y
            # _update_attn_cache: memory shifted by one summary, the last L keys/values of key[M+R:]
            new_mem = torch.cat([mem, utt.mean(1, keepdim=True)], 1)[:, 1:, :]
            return src, new_mem, keys[:, M + R :][:, -self.LC :], vals[:, M + R :][:, -self.LC :], new_conv

    class ConvEmformerEncoder(nn.Module):
        """x (1,Segment,80) + 4 states per layer (mem (1,M,D), left key/val
        (1,LC,D), conv cache (1,D,K-1)) -> out (1,chunk/4,D) + new states."""

        def __init__(self, f, probe=False):
            super().__init__()
            D = f["encoder-dim"]
            self.U, self.R = f["chunk-length"] // 4, f["right-context-length"] // 4
            self.embed = nn.Linear(FEATURE_DIM, D)
            self.conv1 = nn.Conv1d(D, D, 3, stride=2)
            self.conv2 = nn.Conv1d(D, D, 3, stride=2)
            self.layers = nn.ModuleList(
                EmformerLayer(D, f["memory-size"], f["left-context-length"] // 4, f["cnn-module-kernel"],
                              self.U, self.R)
                for _ in range(f["num-encoder-layers"])
            )
            self.norm = nn.LayerNorm(D)  # keeps the joiner out of tanh saturation
            self.probe = nn.Linear(FEATURE_DIM, D) if probe else None

        def forward(self, x, *states):
            h = self.embed(x).transpose(1, 2)
            h = self.conv2(F.relu(self.conv1(h))).transpose(1, 2)
            h = h[:, : self.U + self.R, :]  # chunk + right context after 4x subsampling
            src = torch.cat([h[:, self.U :], h[:, : self.U]], 1)  # [right context; chunk], as icefall
            new_states = []
            for i, layer in enumerate(self.layers):
                src, *s = layer(src, *states[4 * i : 4 * i + 4])
                new_states += s
            h = self.norm(src[:, self.R :])  # the chunk's frames
            out = h if self.probe is None else self.probe(x) + h.mean(1, keepdim=True)
            return (out, *new_states)

    class ZipformerLayer(nn.Module):
        def __init__(self, E, A, LC, K):
            super().__init__()
            self.LC, self.K = LC, K
            self.q, self.k = nn.Linear(E, A), nn.Linear(E, A)
            self.v, self.v2 = nn.Linear(E, A // 2), nn.Linear(E, A // 2)
            self.o, self.o2 = nn.Linear(A // 2, E), nn.Linear(A // 2, E)
            self.dw1 = nn.Conv1d(E, E, K, groups=E)
            self.dw2 = nn.Conv1d(E, E, K, groups=E)
            self.scale = A**-0.5

        def forward(self, h, avg, key, val, val2, c1, c2):
            # avg (1,1,E), key (1,LC,A), val/val2 (1,LC,A/2), c1/c2 (1,E,K-1)
            h = h + avg
            keys = torch.cat([key, self.k(h)], 1)
            vals = torch.cat([val, self.v(h)], 1)
            att = torch.softmax(torch.matmul(self.q(h), keys.transpose(1, 2)) * self.scale, -1)
            h = h + self.o(torch.matmul(att, vals))
            full1 = torch.cat([c1, h.transpose(1, 2)], 2)
            h = h + self.dw1(full1).transpose(1, 2)
            vals2 = torch.cat([val2, self.v2(h)], 1)
            h = h + self.o2(torch.matmul(att, vals2))
            full2 = torch.cat([c2, h.transpose(1, 2)], 2)
            h = h + self.dw2(full2).transpose(1, 2)
            k1 = self.K - 1
            return h, (
                0.5 * avg + h.mean(1, keepdim=True),
                keys[:, -self.LC :, :],
                vals[:, -self.LC :, :],
                vals2[:, -self.LC :, :],
                full1[:, :, -k1:],
                full2[:, :, -k1:],
            )

    class ZipformerEncoder(nn.Module):
        """x (1,chunk+7,80) + 7 states per stack, ordered by kind then stack:
        cached_len (1,L), cached_avg (1,L,E), cached_key (1,L,lc,A),
        cached_val/val2 (1,L,lc,A/2), cached_conv1/2 (1,L,E,K-1)
        -> out (1,chunk/4,16) + new states (same order)."""

        def __init__(self, f, probe=False):
            super().__init__()
            lcl = f["decode-chunk-len"] // 2 * f["num-left-chunks"]
            dims = f["encoder-dims"]
            self.embed = nn.Linear(FEATURE_DIM, dims[0])
            # (T - 9)//2 + 1 == (T - 7)//2 frames for odd T (icefall's embed rate)
            self.embed_conv = nn.Conv1d(dims[0], dims[0], 9, stride=2, groups=dims[0])
            self.proj = nn.ModuleList()
            self.down = nn.ModuleList()
            self.up = nn.ModuleDict()
            self.stacks = nn.ModuleList()
            prev = dims[0]
            for L, e, a, ds, k in zip(
                f["num-encoder-layers"],
                dims,
                f["attention-dims"],
                f["zipformer-downsampling-factors"],
                f["cnn-module-kernels"],
            ):
                self.proj.append(nn.Linear(prev, e))
                i = len(self.proj) - 1
                r = f["zipformer-downsampling-factors"][i - 1] if i else 1  # the previous stack's rate
                step = max(ds // r, 1)  # from the previous stack's frame rate to this one's
                self.down.append(nn.Conv1d(e, e, step, stride=step, groups=e))
                if r > ds:  # back to a higher frame rate (icefall's stacks each run at their own rate)
                    self.up[str(i)] = nn.ConvTranspose1d(e, e, r // ds, stride=r // ds, groups=e)
                self.stacks.append(nn.ModuleList(ZipformerLayer(e, a, lcl // ds, k) for _ in range(L)))
                prev = e
            self.out = nn.Linear(prev, ZIPFORMER_OUT_DIM)
            self.norm = nn.LayerNorm(ZIPFORMER_OUT_DIM)
            self.probe = nn.Linear(FEATURE_DIM, ZIPFORMER_OUT_DIM) if probe else None
            self.ds = list(f["zipformer-downsampling-factors"])
            self.dims = list(dims)

        def forward(self, x, *states):
            N = len(self.stacks)
            kinds = [states[j * N : (j + 1) * N] for j in range(7)]
            h = self.embed(x).transpose(1, 2)
            h = self.embed_conv(h).transpose(1, 2)
            rate = 1
            new = [[None] * N for _ in range(7)]
            for i, layers in enumerate(self.stacks):
                h = self.proj[i](h)
                step = self.ds[i] // rate
                rate = self.ds[i]
                if step > 1:
                    h = self.down[i](h.transpose(1, 2)).transpose(1, 2)
                elif str(i) in self.up:
                    h = self.up[str(i)](h.transpose(1, 2)).transpose(1, 2)
                per_layer = [[] for _ in range(6)]
                for j, layer in enumerate(layers):
                    h, s = layer(
                        h,
                        kinds[1][i][:, j : j + 1, :],
                        # explicit reshape: x[:, j] / squeeze become pnnx `unbind`
                        # + Reshape with a shape expression (6="0w,0h,0n"), a
                        # recent ncnn feature; keep to classic Reshape params
                        *(
                            kinds[t][i][:, j : j + 1].reshape(1, *kinds[t][i].shape[2:])
                            for t in range(2, 7)
                        ),
                    )
                    for t in range(6):
                        per_layer[t].append(s[t])
                # sherpa-ncnn reshapes these two outputs before feeding them
                # back: cached_len with reshape(out.h), cached_avg with
                # reshape(out.w, out.c); so they must come out as Mat(1, L)
                # and Mat(E, 1, L) (icefall's (L, 1) / (L, 1, E)), not in the
                # input layout Mat(L) / Mat(E, L) (that gives empty Mats and a
                # crash in the second encoder call when L > 1).
                # (pnnx finds no batch axis for cached_len, an input only used
                # elementwise, so the torch shape here is the Mat shape: (L, 1))
                L, E = len(layers), self.dims[i]
                new[0][i] = (kinds[0][i] + h.size(1)).reshape(L, 1)
                new[1][i] = torch.cat(per_layer[0], 1).reshape(1, L, 1, E)
                for t in range(2, 7):
                    new[t][i] = torch.stack(per_layer[t - 1], 1)
            out = self.norm(self.out(h))
            if self.probe is not None:
                out = self.probe(x) + out.mean(1, keepdim=True)
            return (out, *(s for kind in new for s in kind))

    class Decoder(nn.Module):
        """y (1,2) int64 token context -> (1, DECODER_DIM)."""

        def __init__(self):
            super().__init__()
            self.embed = nn.Embedding(len(TOKENS), DECODER_EMBED)
            self.fc = nn.Linear(CONTEXT_SIZE * DECODER_EMBED, DECODER_DIM)

        def forward(self, y):
            e = self.embed(y).reshape(1, CONTEXT_SIZE * DECODER_EMBED)
            return F.relu(self.fc(e))

    class Joiner(nn.Module):
        """enc (1,De), dec (1,Dd) -> logits (1,vocab)."""

        def __init__(self, enc_dim, always=None):
            super().__init__()
            self.enc = nn.Linear(enc_dim, JOINER_DIM)
            self.dec = nn.Linear(DECODER_DIM, JOINER_DIM)
            self.out = nn.Linear(JOINER_DIM, len(TOKENS))
            with torch.no_grad():
                if always is not None:  # probe: always emits token `always`
                    self.out.weight.zero_()
                    self.out.bias.zero_()
                    self.out.bias[always] = 10.0
                else:  # larger than default init so the (nonsense) text varies
                    self.enc.weight.normal_(0.0, 0.5)
                    self.dec.weight.normal_(0.0, 0.5)
                    self.out.weight.normal_(0.0, 1.0)
                    self.out.bias.zero_()
                    self.out.bias[0] = 2.0  # blank

        def forward(self, enc, dec):
            return self.out(torch.tanh(self.enc(enc) + self.dec(dec)))

    return {
        "torch": torch,
        "LstmEncoder": LstmEncoder,
        "ConvEmformerEncoder": ConvEmformerEncoder,
        "ZipformerEncoder": ZipformerEncoder,
        "Decoder": Decoder,
        "Joiner": Joiner,
    }


def _torch_state_shape(family: str, mat_shape: tuple[int, ...]) -> tuple[int, ...]:
    """torch shape whose pnnx/ncnn blob (batch dim dropped) is `mat_shape`.

    LSTM states use icefall's (num_layers, batch=1, dim) layout: nn.LSTM's h0/c0
    have the batch on dim 1, and pnnx follows that (with a (1, L, dim) layout it
    takes dim 1 as the batch axis and emits `Slice ... 1=-233`)."""
    if family == "lstm":
        w, h = mat_shape
        return (h, 1, w)
    return (1, *reversed(mat_shape))


def build_encoder(M, family: str, flags: dict, probe: bool = False):
    torch = M["torch"]
    seg, _ = segment_offset(family, flags)
    x = torch.randn(1, seg, FEATURE_DIM)
    states = [torch.zeros(_torch_state_shape(family, s)) for s in state_mat_shapes(family, flags)]
    if family == "lstm":
        model = M["LstmEncoder"](flags["num-encoder-layers"], flags["encoder-dim"], flags["rnn-hidden-size"], probe)
        inputs = (x, torch.tensor([seg], dtype=torch.int64), *states)
    elif family == "conv-emformer":
        model = M["ConvEmformerEncoder"](flags, probe)
        inputs = (x, *states)
    else:
        model = M["ZipformerEncoder"](flags, probe)
        inputs = (x, *states)
    return model.eval(), inputs


def encoder_out_dim(family: str, flags: dict) -> int:
    if family == "lstm":
        return flags["encoder-dim"]
    if family == "conv-emformer":
        return flags["encoder-dim"]
    return ZIPFORMER_OUT_DIM


def pnnx_export(model, inputs, name: str, work: Path) -> tuple[Path, Path]:
    """torch.jit.trace + pnnx CLI (fp16=0) in `work`; returns (param, bin)."""
    import pnnx
    import torch
    from pnnx.utils.utils import generate_inputs_arg, get_shape_from_inputs, get_type_from_inputs

    with torch.no_grad():
        traced = torch.jit.trace(model, inputs)
    pt = work / f"{name}.pt"
    traced.save(str(pt))
    shapes = generate_inputs_arg(get_shape_from_inputs(inputs), get_type_from_inputs(inputs))
    cmd = [
        pnnx.EXEC_PATH,
        pt.name,
        f"inputshape={shapes}",
        "device=cpu",
        "fp16=0",
        f"ncnnparam={name}.ncnn.param",
        f"ncnnbin={name}.ncnn.bin",
        f"ncnnpy={name}_ncnn.py",
        f"pnnxparam={name}.pnnx.param",
        f"pnnxbin={name}.pnnx.bin",
        f"pnnxpy={name}_pnnx.py",
        f"pnnxonnx={name}.pnnx.onnx",
    ]
    p = subprocess.run(cmd, cwd=work, capture_output=True, text=True)
    param, bin_ = work / f"{name}.ncnn.param", work / f"{name}.ncnn.bin"
    if p.returncode != 0 or not param.exists():
        raise RuntimeError(f"pnnx failed for {name}:\n{p.stdout[-2000:]}\n{p.stderr[-2000:]}")
    return param, bin_


_NCNN_CHILD = r"""
import sys
import ncnn
import numpy as np
param, bin_, npz_in, npz_out, n_out = sys.argv[1:6]
net = ncnn.Net()
net.opt.use_fp16_storage = False
net.opt.use_fp16_packed = False
net.opt.use_fp16_arithmetic = False
net.opt.num_threads = 1
assert net.load_param(param) == 0, "load_param failed"
assert net.load_model(bin_) == 0, "load_model failed"
ex = net.create_extractor()
inputs = np.load(npz_in)
keep = []
for name in inputs.files:
    # ncnn.Mat(numpy) borrows the array memory, and an in-place layer (BinaryOp
    # with a scalar, UnaryOp) applied directly to such an input blob segfaults
    # in PyPI ncnn 1.0.20261020: feed an owning clone (and keep refs alive).
    a = np.ascontiguousarray(inputs[name])
    m = ncnn.Mat(a).clone()
    keep.append((a, m))
    ex.input(name, m)
res = {}
for i in range(int(n_out)):
    rc, m = ex.extract(f"out{i}")
    assert rc == 0, f"extract out{i} rc={rc}"
    res[f"out{i}"] = np.array(m)
    res[f"shape{i}"] = np.array([v for v, d in ((m.w, 1), (m.h, 2), (m.c, 3)) if d <= m.dims])
np.savez(npz_out, **res)
"""


def ncnn_compare(param: Path, bin_: Path, model, inputs, n_out: int, state_shapes) -> dict:
    """Run the exported graph with the PyPI ncnn module (in a subprocess: ncnn
    segfaults on some graph errors) on sherpa-shaped inputs and compare with
    torch.  Returns {"max_abs_diff": [...per output], "out_shapes": [(w[,h[,c]])...]}."""
    import numpy as np
    import torch

    with torch.no_grad():
        ref = model(*inputs)
    feed = {}
    n_plain = len(inputs) - len(state_shapes)
    for i, t in enumerate(inputs):
        if i < n_plain:
            a = t.numpy()[0] if t.dim() > 1 else t.numpy()
        else:  # states: exactly the Mat shape sherpa-ncnn builds
            a = t.numpy().reshape(tuple(reversed(state_shapes[i - n_plain])))
        # sherpa-ncnn feeds every encoder input as a float Mat (the LSTM length
        # too), so feed int inputs as float values as well
        feed[f"in{i}"] = a.astype(np.float32)
    npz_in, npz_out = param.with_suffix(".in.npz"), param.with_suffix(".out.npz")
    np.savez(npz_in, **feed)
    p = subprocess.run(
        [sys.executable, "-c", _NCNN_CHILD, str(param), str(bin_), str(npz_in), str(npz_out), str(n_out)],
        capture_output=True,
        text=True,
    )
    if p.returncode != 0:
        raise RuntimeError(f"ncnn run of {param.name} failed (rc={p.returncode}): {p.stderr[-1500:]}")
    got = np.load(npz_out)
    diffs, shapes = [], []
    for i in range(n_out):
        shapes.append(tuple(int(v) for v in got[f"shape{i}"]))
        g = got[f"out{i}"].reshape(-1)
        w = ref[i].detach().numpy().reshape(-1).astype(np.float32)
        diffs.append(float(np.abs(g - w).max()) if g.size == w.size else float("nan"))
    return {"max_abs_diff": diffs, "out_shapes": shapes}


def generate_family(M, config: str, work: Path, report: dict) -> None:
    torch = M["torch"]
    family = CONFIG_FAMILY[config]
    flags = FLAGS[config]
    n_io = num_encoder_io(family, flags)
    fwork = work / config
    fwork.mkdir(parents=True)

    torch.manual_seed(SEEDS[config])
    enc, enc_in = build_encoder(M, family, flags)
    dec = M["Decoder"]().eval()
    joi = M["Joiner"](encoder_out_dim(family, flags)).eval()
    dec_in = (torch.tensor([[0, 0]], dtype=torch.int64),)
    joi_in = (torch.randn(1, encoder_out_dim(family, flags)), torch.randn(1, DECODER_DIM))

    files = {}
    for name, model, inputs in (("encoder", enc, enc_in), ("decoder", dec, dec_in), ("joiner", joi, joi_in)):
        files[name] = pnnx_export(model, inputs, name, fwork)

    text = files["encoder"][0].read_text()
    problems = check_encoder_param(family, flags, text)
    if problems:
        raise RuntimeError(f"{family}: exported encoder.ncnn.param: {problems}\n{text}")
    for name, n_in in (("decoder", 1), ("joiner", 2)):
        problems = check_param(files[name][0].read_text(), n_in, 1)
        if problems:
            raise RuntimeError(f"{family}: exported {name}.ncnn.param: {problems}")

    # torch vs ncnn, and the state output shapes sherpa-ncnn will feed back
    want_states = state_mat_shapes(family, flags)
    want_out_states = state_out_mat_shapes(family, flags)
    cmp_ = ncnn_compare(*files["encoder"], enc, enc_in, n_io, want_states)
    got_states = cmp_["out_shapes"][2:] if family == "lstm" else cmp_["out_shapes"][1:]
    # zipformer cached_len/cached_avg only go through sherpa's reshape(h) /
    # reshape(w, c), so there trailing size-1 dims may be missing (pnnx drops a
    # no-op reshape (1,1) -> Mat(1) for L == 1); all other states are fed back
    # as they are and must match exactly
    n_loose = 2 * len(flags["num-encoder-layers"]) if family == "zipformer" else 0

    def _pad(shape):
        return tuple(shape) + (1,) * (3 - len(shape))

    bad = [
        (k, g, w)
        for k, (g, w) in enumerate(zip(got_states, want_out_states))
        if (g != w) and not (k < n_loose and _pad(g) == _pad(w))
    ]
    if bad or len(got_states) != len(want_out_states):
        raise RuntimeError(f"{family}: state output shapes {got_states} != expected {want_out_states}")
    seg, _ = segment_offset(family, flags)
    want_out0 = (encoder_out_dim(family, flags), encoder_out_frames(family, flags))
    if cmp_["out_shapes"][0] != want_out0:
        raise RuntimeError(f"{family}: out0 shape {cmp_['out_shapes'][0]} != {want_out0}")
    report["ncnn_vs_torch"] = cmp_

    # write the fixture dir
    out = OUT_ROOT / config
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    for name, (p, b) in files.items():
        if config in PARAM_ONLY and name != "encoder":
            continue
        shutil.copyfile(p, out / f"{name}.ncnn.param")
        if config not in PARAM_ONLY:
            shutil.copyfile(b, out / f"{name}.ncnn.bin")
    if config not in PARAM_ONLY:
        (out / "tokens.txt").write_text("".join(f"{t} {i}\n" for i, t in enumerate(TOKENS)))
    lc, bc, _ = parse_param(text)
    line = meta_line(family, flags)
    meta = {
        "family": family,
        "flags": flags,
        "sherpa_meta_data": line,
        "encoder_param_header": [lc, bc],
        "encoder_param_header_with_meta": [lc + 1, bc],
        "encoder_inputs": n_io,
        "encoder_outputs": n_io,
        "encoder_state_input_mat_shapes": [list(s) for s in want_states],
        "encoder_state_output_mat_shapes": [list(s) for s in want_out_states],
        "sherpa_segment_offset": list(segment_offset(family, flags)),
        "note": "encoder.ncnn.param is committed WITHOUT SherpaMetaData on purpose"
        + ("; weights, decoder and joiner are not committed (too big)" if config in PARAM_ONLY else ""),
    }
    text_json = json.dumps(meta, indent=2)
    # one line per innermost int list ([1, 2] instead of one number per line)
    text_json = re.sub(
        r"\[\s*(-?\d+(?:,\s*-?\d+)*)\s*\]",
        lambda m: "[" + ", ".join(v.strip() for v in m.group(1).split(",")) + "]",
        text_json,
    )
    (out / "meta.json").write_text(text_json + "\n")
    if config in PARAM_ONLY:
        return

    # frame-count probes (throw-away models, exported in the temp dir only):
    #  a) committed encoder + joiner that always emits "A": tokens per call = encoder out frames
    #  b) encoder whose out0 is a per-frame projection of in0: tokens per call = frames fed
    probes = {}
    torch.manual_seed(SEEDS[config] + 1)
    pj = M["Joiner"](encoder_out_dim(family, flags), always=1).eval()
    penc, penc_in = build_encoder(M, family, flags, probe=True)
    for tag, enc_files in (("encoder_frames_out", files["encoder"]), ("feature_frames_in", None)):
        pdir = fwork / f"probe-{tag}"
        pdir.mkdir()
        pj_files = pnnx_export(pj, joi_in, "pjoiner", pdir)
        if enc_files is None:
            enc_files = pnnx_export(penc, penc_in, "pencoder", pdir)
            pprob = check_encoder_param(family, flags, enc_files[0].read_text())
            if pprob:
                raise RuntimeError(f"{family} probe encoder: {pprob}")
        stage = pdir / "stage"
        stage.mkdir()
        shutil.copyfile(enc_files[0], stage / "encoder.ncnn.param")
        shutil.copyfile(enc_files[1], stage / "encoder.ncnn.bin")
        shutil.copyfile(files["decoder"][0], stage / "decoder.ncnn.param")
        shutil.copyfile(files["decoder"][1], stage / "decoder.ncnn.bin")
        shutil.copyfile(pj_files[0], stage / "joiner.ncnn.param")
        shutil.copyfile(pj_files[1], stage / "joiner.ncnn.bin")
        shutil.copyfile(out / "tokens.txt", stage / "tokens.txt")
        ptext = (stage / "encoder.ncnn.param").read_text()
        (stage / "encoder.ncnn.param").write_text(insert_meta(ptext, line))
        rc, res, err = run_sherpa(stage, "count")
        probes[tag] = {"rc": rc, "deltas": res["deltas"] if res else None, "stderr": "" if rc == 0 else err}
    report["probes"] = probes


# --------------------------------------------------------------------------


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--family", "--config", dest="family", choices=CONFIGS, action="append",
                    help="only these configurations (fixture dirs; repeatable)")
    ap.add_argument("--verify-only", action="store_true", help="only verify existing fixtures")
    ap.add_argument("--no-verify", action="store_true", help="skip the sherpa-ncnn verification")
    ap.add_argument("--keep-temp", action="store_true", help="keep (and print) the temp work dir")
    args = ap.parse_args()
    families = args.family or list(CONFIGS)

    reports = {f: {} for f in families}
    work = Path(tempfile.mkdtemp(prefix="mkfix-sherpa-"))
    if args.keep_temp:
        print(f"temp dir: {work}")
    try:
        if not args.verify_only:
            M = _define_models()
            M["torch"].set_num_threads(1)
            for fam in families:
                generate_family(M, fam, work / "gen", reports[fam])
            write_readme()
        if not args.no_verify:
            for fam in families:
                if fam in PARAM_ONLY:
                    continue
                reports[fam]["verify"] = verify_family(fam, OUT_ROOT / fam, work / "verify")
    finally:
        if not args.keep_temp:
            shutil.rmtree(work, ignore_errors=True)

    failed = False
    print("=" * 72)
    for fam in families:
        r = reports[fam]
        fam_dir = OUT_ROOT / fam
        sizes = {p.name: p.stat().st_size for p in sorted(fam_dir.iterdir())}
        print(f"[{fam}] {fam_dir.relative_to(REPO)}  total {sum(sizes.values())} bytes")
        print("   " + ", ".join(f"{k}={v}" for k, v in sizes.items()))
        if "ncnn_vs_torch" in r:
            c = r["ncnn_vs_torch"]
            print(f"   ncnn vs torch max|diff| per output: {c['max_abs_diff']}")
            print(f"   ncnn output shapes (w,h,c): {c['out_shapes']}")
        if "probes" in r:
            seg, off = segment_offset(CONFIG_FAMILY[fam], FLAGS[fam])
            want = {"feature_frames_in": seg,
                    "encoder_frames_out": encoder_out_frames(CONFIG_FAMILY[fam], FLAGS[fam])}
            for tag, pr in r["probes"].items():
                d = pr["deltas"] or []
                seen = sorted(set(d))
                ok = pr["rc"] == 0 and len(d) > 0 and seen == [want[tag]]
                print(f"   probe {tag}: rc={pr['rc']} {len(d)} encoder calls, tokens per call {seen} "
                      f"(expected {want[tag]}) {'ok' if ok else 'MISMATCH'} {pr['stderr']}")
                failed |= not ok
            print(f"   sherpa-ncnn Segment()={seg} Offset()={off}")
        if "verify" in r:
            v = r["verify"]
            res = v["with_meta_result"] or {}
            print(f"   with meta: rc={v['with_meta_rc']} text={res.get('text')!r} {v['with_meta_stderr']}")
            print(f"   without meta: rc={v['without_meta_rc']} stderr: {v['without_meta_stderr']!r}")
            if v["param_problems"]:
                print(f"   param problems: {v['param_problems']}")
            print(f"   => {'OK' if v['ok'] else 'FAILED'}")
            failed |= not v["ok"]
    total = sum(p.stat().st_size for f in families for p in (OUT_ROOT / f).iterdir())
    print(f"total bytes ({', '.join(families)}): {total}")
    return 1 if failed else 0


README = """\
# sherpa-ncnn fixtures

Tiny, untrained, seeded transducer models for the three sherpa-ncnn streaming
families, made by `tools/make_fixtures_sherpa.py` (torch -> `torch.jit.trace`
-> pnnx with `fp16=0`).  They decode noise into nonsense; they exist only to
have the exact encoder I/O signature sherpa-ncnn 2.1.15 expects.

| dir | family | encoder I/O |
| --- | --- | --- |
| `lstm/` | LSTM (meta type 3) | in0 features, in1 length, in2 hx, in3 cx -> out0..out3 |
| `conv-emformer/` | ConvEmformer (meta type 1) | in0 + 4 states x 2 layers -> out0..out8 |
| `zipformer/` | Zipformer (meta type 2) | in0 + 7 states x 2 stacks -> out0..out14 |
| `lstm-b/` | LSTM, 3 layers, dim 20, hidden 32 | in0..in3 -> out0..out3 |
| `conv-emformer-b/` | ConvEmformer, 3 layers, dim 16, kernel 7 | in0 + 4 states x 3 layers -> out0..out12 |
| `zipformer-b/` | Zipformer, 5 stacks 3,2,2,2,2 / 16,24,24,24,16, factors 1,2,4,8,2 | in0 + 7 x 5 -> out0..out35 |
| `zipformer-bilingual/` | icefall's 2023 bilingual numbers (2,4,3,2,4 / 384 / 192 / 1,2,4,8,2 / 31), `.param` only | in0 + 7 x 5 -> out0..out35 |

Each dir holds `encoder.ncnn.{param,bin}`, `decoder.ncnn.{param,bin}`,
`joiner.ncnn.{param,bin}`, `tokens.txt` and `meta.json`.  `meta.json` has the
icefall `export-for-ncnn.py` flag values the graph matches (`flags`), the exact
`SherpaMetaData` line sherpa-ncnn needs for it (`sherpa_meta_data`), the
encoder header before/after adding it, and the state Mat shapes.

**The encoder .param files deliberately lack the `SherpaMetaData` layer**:
adding it is what the tool under test does.  sherpa-ncnn refuses (segfaults on)
these encoders as committed, and accepts and decodes them once the line from
`meta.json` is inserted as line 3 with the layer count bumped by one.

Regenerate (needs torch, pnnx, ncnn, sherpa_ncnn; deterministic) and verify:

    python tools/make_fixtures_sherpa.py
    python tools/make_fixtures_sherpa.py --verify-only   # needs only sherpa_ncnn
"""


def write_readme() -> None:
    OUT_ROOT.mkdir(parents=True, exist_ok=True)
    (OUT_ROOT / "README.md").write_text(README)


if __name__ == "__main__":
    sys.exit(main())
