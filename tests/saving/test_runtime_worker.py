"""The save gate's OpenVINO check runs in a worker process (:mod:`modelfile.formats.openvino.runtime`):
it answers what read_model says, a crash or a hang of the runtime is a failed check (never a dead
modelfile), and ``warm_runtime`` starts it before the model is loaded."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from conftest import FIXTURES, needs_openvino

import modelfile
from modelfile.formats.openvino import runtime
from modelfile.formats.openvino.handler import HANDLER

LLM = FIXTURES / "openvino" / "llm"


@pytest.fixture()
def fresh_worker():  # type: ignore[no-untyped-def]
    runtime._WORKER.kill()
    yield
    runtime._WORKER.kill()


def _kv(tmp: Path) -> Path:
    for suffix in (".xml", ".bin"):
        shutil.copyfile((LLM / "kv_opset").with_suffix(suffix), (tmp / "kv").with_suffix(suffix))
    return tmp / "kv.xml"


@needs_openvino
def test_worker_reads_in_another_process(tmp_path: Path, fresh_worker: None) -> None:
    runtime.warm()
    p = runtime._WORKER.proc
    assert p is not None and p.pid != os.getpid()
    rc = HANDLER.runtime_check(_kv(tmp_path))
    assert rc.ok is True and rc.runtime == "openvino"
    assert runtime._WORKER.proc is p  # reused, not restarted


@needs_openvino
def test_worker_reports_openvinos_refusal(tmp_path: Path, fresh_worker: None) -> None:
    src = _kv(tmp_path)
    bad = tmp_path / "bad.xml"
    bad.write_text(src.read_text().replace('type="Concat"', 'type="NoSuchOp"', 1))
    shutil.copyfile(src.with_suffix(".bin"), bad.with_suffix(".bin"))
    rc = HANDLER.runtime_check(bad)
    assert rc.ok is False and "NoSuchOp" in rc.message
    assert "\n" not in rc.message
    assert HANDLER.runtime_check(src).ok is True  # the worker survived the refusal


@needs_openvino
def test_a_crash_is_a_failed_check(tmp_path: Path, fresh_worker: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(runtime, "_BOOT", "import os, sys; sys.stdin.readline(); os.abort()")
    rc = HANDLER.runtime_check(_kv(tmp_path))
    assert rc.ok is False and "crashed (signal 6)" in rc.message
    assert runtime._WORKER.proc is None


@needs_openvino
def test_a_hang_is_a_failed_check(tmp_path: Path, fresh_worker: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(runtime, "_BOOT", "import time; time.sleep(60)")
    rc = HANDLER.runtime_check(_kv(tmp_path), timeout=1.0)
    assert rc.ok is False and "did not finish within 1 s" in rc.message
    assert runtime._WORKER.proc is None  # killed


@needs_openvino
def test_save_gate_uses_the_worker(tmp_path: Path, fresh_worker: None) -> None:
    m = modelfile.load(_kv(tmp_path))
    res = m.save(tmp_path / "out.xml", **{})
    assert [c.status for c in res.checks if c.name == "runtime"] == ["passed"]
    assert runtime._WORKER.proc is not None


def test_warm_runtime_never_raises(tmp_path: Path) -> None:
    modelfile.io.warm_runtime(tmp_path / "missing.xml")
    (tmp_path / "junk.txt").write_text("not a model")
    modelfile.io.warm_runtime(tmp_path / "junk.txt")


def test_worker_answers_each_request_in_turn() -> None:
    """Two threads asking at once each get their own answer; an answer cut short is a crash, not a hang."""
    import sys
    import threading

    from modelfile.formats.worker import Worker

    echo = ("import json, sys\nfor line in sys.stdin:\n    r = json.loads(line)\n"
            "    sys.stdout.write(json.dumps({'n': r['n']}) + ('' if r['n'] < 0 else '\\n')); sys.stdout.flush()\n"
            "    if r['n'] < 0: break\n")
    w = Worker(lambda: [sys.executable, "-c", echo])
    got: dict[int, object] = {}

    def ask(n: int) -> None:
        got[n] = w.ask({"n": n}, 30)[0]

    threads = [threading.Thread(target=ask, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert got == {n: {"n": n} for n in range(8)}
    answer, why = w.ask({"n": -1}, 30)
    assert answer is None and why == "exit code 0" and w.proc is None
    assert w.ask({"n": 3}, 30) == ({"n": 3}, "")  # started again
    w.kill()


@needs_openvino
def test_relative_paths_after_a_change_of_directory(tmp_path: Path, fresh_worker: None,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """The worker keeps the directory it started in; the caller's relative paths still name its files."""
    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir()
    b.mkdir()
    src = _kv(a)
    monkeypatch.chdir(a)
    m = modelfile.load(src.name)
    assert [c.status for c in m.save("first.xml").checks if c.name == "runtime"] == ["passed"]
    monkeypatch.chdir(b)
    shutil.copyfile(a / "kv.xml", b / "kv.xml")
    shutil.copyfile(a / "kv.bin", b / "kv.bin")
    m = modelfile.load("kv.xml")
    assert [c.status for c in m.save("second.xml").checks if c.name == "runtime"] == ["passed"]


def test_an_answer_that_is_not_json_is_no_answer() -> None:
    import sys

    from modelfile.formats.worker import Worker

    w = Worker(lambda: [sys.executable, "-c", "import sys\nfor _ in sys.stdin:\n    print('noise', flush=True)\n"])
    assert w.ask({}, 30) == (None, "an answer that is not JSON")
    assert w.proc is None  # killed: its next answer could not be trusted either
