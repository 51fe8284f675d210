"""Does sherpa-ncnn accept an encoder? Load it (and decode a second of noise) in a child process.

sherpa-ncnn reports a bad encoder by ``exit(-1)`` ("too old version of
Zipformer") or a segfault (missing or unreadable meta, unknown layer), never
an exception, so the recognizer runs in a subprocess and the exit status and
stderr are the answer. The decoder and joiner are found beside the encoder by
icefall's names (``encoder_jit_trace-pnnx.ncnn.param`` ->
``decoder_jit_trace-pnnx.ncnn.param`` / ``joiner_...``, int8 or not) or given.
Without them only construction is checked, with stand-in decoder/joiner params
(sherpa-ncnn builds the model without reading weights it does not run).
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

__all__ = ["find_companions", "gate_check", "verify_sherpa"]

_CHILD = r"""
import json, sys
args = json.loads(sys.argv[1])
import sherpa_ncnn
rec = sherpa_ncnn.Recognizer(
    tokens=args["tokens"],
    encoder_param=args["encoder_param"], encoder_bin=args["encoder_bin"],
    decoder_param=args["decoder_param"], decoder_bin=args["decoder_bin"],
    joiner_param=args["joiner_param"], joiner_bin=args["joiner_bin"],
    num_threads=1,
)
out = {"loaded": True}
if args["decode"]:
    import numpy as np
    t = np.arange(16000) / 16000.0
    samples = (0.2 * np.sin(2 * np.pi * 440 * t)
               + 0.05 * np.random.default_rng(0).standard_normal(t.size)).astype(np.float32)
    rec.accept_waveform(16000, samples)
    rec.input_finished()
    out["text"] = rec.text
print("RESULT " + json.dumps(out))
"""


def _param_for(encoder: Path, role: str) -> Path | None:
    """``decoder``/``joiner`` param beside ``encoder`` by icefall's names (int8 joiner or float)."""
    name = encoder.name
    if not name.startswith("encoder"):
        return None
    candidates = [encoder.with_name(role + name[len("encoder"):])]
    if ".int8." in name:
        candidates.append(encoder.with_name(role + name[len("encoder"):].replace(".int8.", ".")))
    return next((c for c in candidates if c.is_file()), None)


def find_companions(encoder_param: Path, model_dir: Path | None = None) -> dict[str, Path | None]:
    """Decoder/joiner params and bins and ``tokens.txt`` for an encoder (``None`` where not found).

    ``model_dir`` is where to look when the encoder being checked is a temporary copy.
    """
    enc = Path(encoder_param)
    probe = (Path(model_dir) / enc.name) if model_dir is not None else enc
    out: dict[str, Path | None] = {}
    for role in ("decoder", "joiner"):
        p = _param_for(probe, role)
        out[f"{role}_param"] = p
        b = p.with_suffix(".bin") if p is not None else None
        out[f"{role}_bin"] = b if b is not None and b.is_file() else None
    tokens = probe.parent / "tokens.txt"
    out["tokens"] = tokens if tokens.is_file() else None
    return out


def verify_sherpa(param_path: str | os.PathLike[str], bin_path: str | os.PathLike[str] | None = None, *,
                  decoder: str | os.PathLike[str] | None = None, joiner: str | os.PathLike[str] | None = None,
                  tokens: str | os.PathLike[str] | None = None, model_dir: str | os.PathLike[str] | None = None,
                  decode: bool = True, timeout: float = 120.0) -> tuple[bool, str]:
    """``(ok, message)``: whether sherpa-ncnn loads the encoder ``param_path`` (and decodes with it).

    ``bin_path`` defaults to the param's ``.bin``; ``decoder``/``joiner`` are
    their ``.param`` paths (bins beside them), found by icefall's names next to
    the encoder (or in ``model_dir``) when not given. Without both, and
    ``tokens.txt``, only loading is checked. When sherpa-ncnn is not installed
    or the encoder has no ``.bin``, the answer is ``(True, "skipped: ...")``.
    """
    if importlib.util.find_spec("sherpa_ncnn") is None:
        return True, "skipped: sherpa-ncnn is not installed"
    enc = Path(param_path)
    enc_bin = Path(bin_path) if bin_path is not None else enc.with_suffix(".bin")
    found = find_companions(enc, Path(model_dir) if model_dir is not None else None)
    dec = Path(decoder) if decoder is not None else found["decoder_param"]
    joi = Path(joiner) if joiner is not None else found["joiner_param"]
    tok = Path(tokens) if tokens is not None else found["tokens"]
    if not enc_bin.is_file():  # sherpa-ncnn loads the encoder's weights when it builds the model
        return True, f"skipped: no weights ({enc_bin.name}) to load {enc.name} with"
    with tempfile.TemporaryDirectory(prefix="modelfile-sherpa-") as tmp:
        t = Path(tmp)
        full = dec is not None and joi is not None and tok is not None
        if dec is None or joi is None or tok is None:
            # stand-ins: sherpa-ncnn constructs the model from params alone
            dec, joi, tok = t / "decoder.param", t / "joiner.param", t / "tokens.txt"
            dec.write_text("7767517\n1 1\nInput in0 0 1 in0\n")
            joi.write_text("7767517\n2 2\nInput in0 0 1 in0\nInput in1 0 1 in1\n")
            tok.write_text("<blk> 0\na 1\nb 2\n")
        dec_bin, joi_bin = dec.with_suffix(".bin"), joi.with_suffix(".bin")
        if not dec_bin.is_file():
            dec_bin = t / "decoder.bin"
            dec_bin.write_bytes(b"")
        if not joi_bin.is_file():
            joi_bin = t / "joiner.bin"
            joi_bin.write_bytes(b"")
        args = {"tokens": str(tok), "encoder_param": str(enc), "encoder_bin": str(enc_bin),
                "decoder_param": str(dec), "decoder_bin": str(dec_bin), "joiner_param": str(joi),
                "joiner_bin": str(joi_bin), "decode": bool(decode and full)}
        try:
            p = subprocess.run([sys.executable, "-c", _CHILD, json.dumps(args)], capture_output=True, text=True,
                               timeout=timeout, env={**os.environ, "OMP_NUM_THREADS": "1"})
        except subprocess.TimeoutExpired:
            return False, f"sherpa-ncnn did not finish loading {enc.name} within {timeout:g} s"
    result = next((json.loads(ln[7:]) for ln in p.stdout.splitlines() if ln.startswith("RESULT ")), None)
    if p.returncode == 0 and result is not None:
        if args["decode"]:
            return True, f"sherpa-ncnn loaded {enc.name} and decoded 1 s of audio"
        return True, f"sherpa-ncnn loaded {enc.name} (construction only: no decoder/joiner/tokens beside it)"
    return False, f"sherpa-ncnn refused {enc.name}: {_reason(p.returncode, p.stderr)}"


def _reason(rc: int, stderr: str) -> str:
    lines = [ln.strip() for ln in stderr.splitlines() if ln.strip()]
    wanted = ("too old version", "not exists or registered", "Unable to create", "failed", "Failed")
    msg = next((ln for ln in lines if any(w in ln for w in wanted)), lines[-1] if lines else "")
    how = "segfault" if rc == -11 else f"exit {rc}" if rc >= 0 else f"signal {-rc}"
    return f"{how}" + (f": {msg}" if msg else "")


def gate_check(model: Any, staged: Path, target: Path) -> tuple[str, str] | None:
    """The save gate's sherpa-ncnn step: ``(status, detail)`` for an encoder with SherpaMetaData, else None.

    The staged file keeps the target's name, so the decoder and joiner are found
    beside the target by icefall's names.
    """
    from .layers import find_meta_layers

    exact, _near = find_meta_layers(model.graph)
    if not exact:
        return None
    ok, message = verify_sherpa(staged, model_dir=Path(target).parent)
    if ok and message.startswith("skipped: "):
        return "skipped", message[len("skipped: "):]
    if not ok and _source_fails_too(model):
        # the decoder, joiner or tokens beside it fail with the unedited encoder as well: not the edit's doing
        return "skipped", f"the source encoder fails in sherpa-ncnn too ({message})"
    return ("passed" if ok else "failed"), message


def _source_fails_too(model: Any) -> bool:
    """Whether the encoder the model was read from (when it had SherpaMetaData too) fails the same check.

    Only a source with meta layers counts: an encoder without them always fails, and adding them is the
    edit this check exists for.
    """
    from ..errors import ModelfileError
    from .layers import find_meta_layers

    src = getattr(model, "path", None)
    if src is None or not Path(src).is_file():
        return False
    try:
        exact, _near = find_meta_layers(model.handler.read(Path(src)).graph)
    except (ModelfileError, RecursionError):
        return False
    return bool(exact) and not verify_sherpa(src)[0]
