"""Shared test fixtures: paths to the corpus and fixtures, runtime helpers."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "fixtures"
# CI clones the repo with shared/ beside it; a developer checkout has it at the same place.
SHARED = ROOT.parent / "shared"
CORPUS = SHARED / "corpus"

sys.path.insert(0, str(Path(__file__).resolve().parent))


def corpus_files(kind: str) -> list[Path]:
    d = CORPUS / kind
    if not d.is_dir():
        return []
    return sorted(p for p in d.iterdir() if p.is_file() and p.name != "SOURCES.tsv")


def has_module(name: str) -> bool:
    return importlib.util.find_spec(name) is not None


needs_ncnn = pytest.mark.skipif(not has_module("ncnn"), reason="ncnn runtime not installed")
needs_openvino = pytest.mark.skipif(not has_module("openvino"), reason="openvino not installed")
needs_sherpa = pytest.mark.skipif(not has_module("sherpa_ncnn"), reason="sherpa-ncnn not installed")


@pytest.fixture(scope="session")
def corpus_ncnn() -> list[Path]:
    files = corpus_files("ncnn")
    if not files:
        pytest.skip("shared/corpus/ncnn not found beside the checkout")
    return files
