"""The graph owns its invariants: NodeList, batch removal, replace, live_nodes, outputs for both formats."""

from __future__ import annotations

import pytest

import modelfile
from conftest import FIXTURES
from modelfile.graph import Graph, Node, Value


def _chain(n: int) -> tuple[Graph, list[Node]]:
    g = Graph("chain")
    x = Value("x")
    g.inputs.append(x)
    nodes = []
    v = x
    for i in range(n):
        node = Node("Relu", f"r{i}", inputs=[v], outputs=[Value(f"v{i}")])
        g.append(node)
        nodes.append(node)
        v = node.outputs[0]
    g.outputs.append(v)
    return g, nodes


def test_nodelist_behaves_like_an_ordered_set() -> None:
    g, nodes = _chain(5)
    assert list(g.nodes) == nodes and len(g.nodes) == 5 and g.nodes[2] is nodes[2] and g.nodes[-1] is nodes[4]
    assert g.nodes.index(nodes[3]) == 3 and nodes[1] in g.nodes
    with pytest.raises(ValueError, match="already in this graph"):
        g.append(nodes[0])
    extra = Node("Relu", "extra")
    g.insert_after(nodes[1], extra)
    assert [n.name for n in g.nodes] == ["r0", "r1", "extra", "r2", "r3", "r4"] and extra.graph is g
    g.remove(extra)
    assert extra.graph is None and extra not in g.nodes


def test_batch_remove_refuses_a_node_still_used_and_removes_nothing() -> None:
    g, nodes = _chain(4)
    with pytest.raises(ValueError, match="used by 'r3'"):
        g.remove(nodes[1:3])
    assert len(g.nodes) == 4
    nodes[3].set_input(0, nodes[0].outputs[0])
    g.remove(nodes[1:3])  # used only inside the batch
    assert [n.name for n in g.nodes] == ["r0", "r3"] and not nodes[1].inputs


def test_removing_a_producer_drops_its_values_from_outputs() -> None:
    g, nodes = _chain(3)
    g.remove(nodes[2])
    assert g.outputs == []


def test_replace_rewires_uses_and_outputs() -> None:
    g, nodes = _chain(3)
    new = Node("Sigmoid", "s1", inputs=[nodes[0].outputs[0]], outputs=[Value("s")])
    g.replace(nodes[1], new)
    assert g.nodes[1] is new and nodes[2].inputs[0] is new.outputs[0] and nodes[1].graph is None
    assert not nodes[1].inputs and nodes[0].outputs[0].consumers() == [new]
    last = Node("Tanh", "t", inputs=[new.outputs[0]], outputs=[Value("t")])
    g.replace(nodes[2], last)
    assert g.outputs == [last.outputs[0]]


def test_live_nodes_is_one_walk_from_roots() -> None:
    g, nodes = _chain(6)
    live = g.live_nodes([nodes[2].outputs[0]])
    assert live == set(nodes[:3])
    assert g.live_nodes([nodes[5].outputs[0]], stop=[nodes[2].outputs[0]]) == set(nodes[3:])
    assert g.upstream([nodes[1].outputs[0]]) == nodes[:2]


def test_batch_remove_is_linear() -> None:
    # 50,000 removals in one call: a quadratic list rebuild would take minutes (timing itself is benchmarked)
    g, nodes = _chain(50_000)
    g.remove(nodes[10:], safe=False)
    assert len(g.nodes) == 10


@pytest.mark.parametrize("path", [FIXTURES / "ncnn" / "convlstm.ncnn.param", FIXTURES / "openvino" / "rnnt" / "joint.xml"])
def test_outputs_mean_the_same_for_both_formats(path) -> None:  # type: ignore[no-untyped-def]
    m = modelfile.load(path)
    assert m.outputs and all(v.producer is not None for v in m.outputs)
    assert m.outputs == m.graph.outputs


def test_release_frees_a_graph_without_the_cyclic_gc() -> None:
    """``Graph.release`` (the save gate's re-read): its nodes and values are freed by reference counting,
    not left for a collection that walks all of them."""
    import gc

    from modelfile.graph import Graph, Node, Value

    def chain(n: int) -> Graph:
        g = Graph("g")
        v = Value("x")
        g.inputs.append(v)
        for i in range(n):
            node = Node("Relu", f"r{i}", inputs=[v], outputs=[Value(f"t{i}")])
            g.append(node)
            v = node.outputs[0]
        g.outputs.append(v)
        return g

    was = gc.isenabled()
    gc.collect()
    gc.disable()
    try:
        g = chain(1000)
        del g
        kept = gc.collect()  # without release: every node and value waits for the collector
        g = chain(1000)
        g.release()
        assert list(g.nodes) == [] and g.inputs == [] and g.outputs == []
        del g
        released = gc.collect()
    finally:
        if was:
            gc.enable()
    assert kept > 2000 and released < 20, (kept, released)
