"""The byte progress bar: silent for pipes and short work, drawn on a terminal after a second."""

from __future__ import annotations

import io
import sys

import pytest

from modelfile.cli import progress


class _Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_silent_when_not_a_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "stderr", io.StringIO())
    with progress.byte_progress(100, "x") as advance:
        advance(100)
    assert sys.stderr.getvalue() == ""


def test_silent_for_json_and_short_work(monkeypatch: pytest.MonkeyPatch) -> None:
    tty = _Tty()
    monkeypatch.setattr(sys, "stderr", tty)
    with progress.byte_progress(100, "x", enabled=False) as advance:
        advance(100)
    with progress.byte_progress(100, "x") as advance:  # finishes well within the first second
        advance(50)
        advance(50)
    assert tty.getvalue() == ""


def test_drawn_after_a_second_on_a_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    tty = _Tty()
    monkeypatch.setattr(sys, "stderr", tty)
    clock = iter([0.0, 0.5, 1.5, 2.0, 2.5, 3.0, 3.5, 4.0] + [5.0] * 100)
    monkeypatch.setattr(progress.time, "monotonic", lambda: next(clock))
    with progress.byte_progress(3_000_000, "fp16 weights") as advance:
        advance(1_000_000)  # 0.5 s: nothing yet
        assert tty.getvalue() == ""
        advance(1_000_000)  # 1.5 s: the bar starts
        advance(1_000_000)
    assert "fp16 weights" in tty.getvalue()
