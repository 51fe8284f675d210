"""The graph AST's bookkeeping: uses stay consistent with node inputs under any sequence of edits."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from modelfile.graph import Graph, Node, Usage, Value, build_node

OPS = st.lists(st.tuples(st.sampled_from(["append", "set", "remove", "clear", "set_all", "replace"]),
                         st.integers(0, 2), st.integers(0, 5), st.integers(0, 4)), max_size=40)


class _Ref:
    """The documented semantics, spelled out: uses in connection order."""

    def __init__(self, values: list[Value]) -> None:
        self.uses: dict[int, list[tuple[Node, int]]] = {id(v): [] for v in values}
        self.ins: dict[int, list[Value | None]] = {}

    def _drop(self, v: Value | None, n: Node, i: int) -> None:
        if v is not None:
            self.uses[id(v)] = [u for u in self.uses[id(v)] if not (u[0] is n and u[1] == i)]

    def append(self, n: Node, v: Value | None) -> None:
        ins = self.ins.setdefault(id(n), [])
        ins.append(v)
        if v is not None:
            self.uses[id(v)].append((n, len(ins) - 1))

    def set(self, n: Node, i: int, v: Value | None) -> None:
        ins = self.ins[id(n)]
        if ins[i] is v:
            return
        self._drop(ins[i], n, i)
        ins[i] = v
        if v is not None:
            self.uses[id(v)].append((n, i))

    def remove(self, n: Node, i: int) -> None:
        ins = self.ins[id(n)]
        for j in range(i, len(ins)):
            self._drop(ins[j], n, j)
        del ins[i]
        for j in range(i, len(ins)):
            if ins[j] is not None:
                self.uses[id(ins[j])].append((n, j))

    def clear(self, n: Node) -> None:
        while self.ins.get(id(n)):
            self.remove(n, len(self.ins[id(n)]) - 1)


@settings(max_examples=300, deadline=None)
@given(OPS)
def test_uses_follow_inputs(ops: list[tuple[str, int, int, int]]) -> None:
    values = [Value(f"v{k}") for k in range(4)]
    nodes = [Node("Op", f"n{k}") for k in range(3)]
    ref = _Ref(values)
    pick: list[Any] = [*values, None]
    for kind, a, b, c in ops:
        n = nodes[a]
        v = pick[c]
        nin = len(n.inputs)
        if kind == "append":
            n.append_input(v)
            ref.append(n, v)
        elif kind == "set" and nin:
            n.set_input(b % nin, v)
            ref.set(n, b % nin, v)
        elif kind == "remove" and nin:
            n.remove_input(b % nin)
            ref.remove(n, b % nin)
        elif kind == "clear":
            n.clear_inputs()
            ref.clear(n)
        elif kind == "set_all":
            new = [pick[(c + k) % len(pick)] for k in range(b % 4)]
            n.set_inputs(new)
            ref.clear(n)
            for x in new:
                ref.append(n, x)
        elif kind == "replace" and v is not None:
            other = values[(c + 1) % len(values)]
            moved = v.replace_all_uses_with(other)
            assert moved == len(ref.uses[id(v)])
            for m, i in list(ref.uses[id(v)]):
                ref.set(m, i, other)
        for x in values:
            assert list(x.uses) == [Usage(m, i) for m, i in ref.uses[id(x)]]
            assert all(isinstance(u, Usage) and u.node.inputs[u.index] is x for u in x.uses)
            assert x.consumers() == list(dict.fromkeys(m for m, _ in ref.uses[id(x)]))
        for m in nodes:
            assert list(m.inputs) == ref.ins.get(id(m), [])


def test_build_node_matches_the_constructor() -> None:
    a = build_node("Add", "a", {"x": "1"}, "opset1", [("t", "f32", (1, 2), ["t", "u"]), ("", None, None, ())])
    b = Node("Add", "a", attrs={"x": "1"}, version="opset1")
    b.append_output(Value("t", dtype="f32", shape=(1, 2), names=["t", "u"]))
    b.append_output(Value())
    for n in (a, b):
        assert (n.op_type, n.name, n.attrs, n.version, n.inputs, n.pos, n.meta, n.subgraphs) == \
            ("Add", "a", {"x": "1"}, "opset1", (), None, {}, {})
        assert [(v.name, v.dtype, v.shape, list(v.names), v.producer, v.index, v.uses) for v in n.outputs] == \
            [("t", "f32", (1, 2), ["t", "u"], n, 0, ()), ("", None, None, [], n, 1, ())]
    # every slot is set: nothing raises AttributeError later
    for obj in (a, *a.outputs):
        for slot in type(obj).__slots__:
            getattr(obj, slot)


def test_lazy_dicts_and_outputs() -> None:
    n = Node("Op", "n", outputs=2)
    assert n.meta == {} and n.subgraphs == {}
    n.meta["k"] = 1
    n.subgraphs["body"] = Graph("b")
    assert n.meta == {"k": 1} and list(n.subgraphs) == ["body"]
    v = n.remove_output(0)
    assert v.producer is None and v.index == -1 and n.outputs[0].index == 0
    assert n.outputs[0].meta == {} and v.names == ()
    g = Graph("g")
    g.append(n)
    m = Node("Op", "m", inputs=[n.outputs[0], n.outputs[0]])
    g.append(m)
    assert [(u.node.name, u.index) for u in n.outputs[0].uses] == [("m", 0), ("m", 1)]
    assert g.dangling_values() == [] and m.inputs == (n.outputs[0], n.outputs[0])
