"""Locate the ``.lark`` grammar files, installed (package data) or in a source checkout."""

from __future__ import annotations

from functools import lru_cache
from importlib import resources
from pathlib import Path

__all__ = ["grammar_text"]

_SOURCE_DIR = Path(__file__).resolve().parent.parent / "grammars"


@lru_cache(maxsize=None)
def grammar_text(name: str) -> str:
    """Text of ``grammars/<name>`` (e.g. ``"ncnn_param.lark"``)."""
    try:
        # Installed wheels map the top-level grammars/ folder to modelfile.grammars.
        return resources.files("modelfile.grammars").joinpath(name).read_text(encoding="utf-8")
    except (ModuleNotFoundError, FileNotFoundError, NotADirectoryError):
        pass
    return (_SOURCE_DIR / name).read_text(encoding="utf-8")
