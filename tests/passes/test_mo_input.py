"""The mo/ovc ``--input``/``--output`` language: docs/mo-input-syntax.md §4 examples, the
negative cases, name resolution, and a round-trip property."""

from __future__ import annotations

import math
from dataclasses import replace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from modelfile.mo_input import (
    DTYPES,
    Dim,
    InputSpec,
    MoResolveError,
    MoSyntaxError,
    NameLookup,
    OutputSpec,
    PortRef,
    Resolution,
    Shape,
    format_input,
    format_output,
    parse_input,
    parse_input_shape,
    parse_output,
    port_hint,
    resolve,
    value_shape,
)

S = Shape.of
IN = lambda n, op: PortRef("in", n, op)  # noqa: E731
OUT = lambda n, op: PortRef("out", n, op)  # noqa: E731
RELU = "InceptionV1/InceptionV1/Conv2d_1a_7x7/Relu"


def named(loc: str, shape: Shape | None = None, dtype: str | None = None, value=None,
          is_list: bool = False) -> InputSpec:
    """The spec the parser should produce for ``loc`` (port hint derived the same way)."""
    return InputSpec(loc, port_hint(loc), shape, dtype, value, is_list)


def typed(v):
    """Values with their Python types, since 1 == True == 1.0 would hide a wrong parse."""
    if isinstance(v, tuple):
        return tuple(typed(x) for x in v)
    return (type(v).__name__, v)


def same_specs(a: list[InputSpec], b: list[InputSpec]) -> bool:
    return a == b and [typed(x.value) for x in a] == [typed(x.value) for x in b]


# ------------------------------------------------------------------------------------------
# §4 examples


def test_ex01_deepspeech_2022_space_separated():
    specs = parse_input("input_lengths->[16],input_node[1 16 19 26],"
                        "previous_state_h[1 2048],previous_state_c[1 2048]")
    assert same_specs(specs, [
        named("input_lengths", value=(16,), is_list=True),
        named("input_node", S(1, 16, 19, 26)),
        named("previous_state_h", S(1, 2048)),
        named("previous_state_c", S(1, 2048)),
    ])
    assert value_shape(specs[0]) == S(1)  # "constant tensor of shape [1]"
    assert specs[0].dtype is None  # type comes from the graph later
    assert [s.column for s in specs] == [1, 21, 44, 69]
    assert specs[1].text == "input_node[1 16 19 26]"


def test_ex02_deepspeech_2023_comma_separated():
    a = parse_input("input_lengths->[16],input_node[1 16 19 26],"
                    "previous_state_h[1 2048],previous_state_c[1 2048]")
    b = parse_input("input_lengths->[16],input_node[1,16,19,26],"
                    "previous_state_h[1,2048],previous_state_c[1,2048]")
    assert same_specs(a, b)


@pytest.mark.parametrize("text", [
    "cudnn_lstm/rnn/multi_rnn_cell/cell_0/cudnn_compatible_lstm_cell/GatherNd_1,"
    "cudnn_lstm/rnn/multi_rnn_cell/cell_0/cudnn_compatible_lstm_cell/GatherNd,logits",
])
def test_ex03_output_names_with_slashes(text):
    outs = parse_output(text)
    prefix = "cudnn_lstm/rnn/multi_rnn_cell/cell_0/cudnn_compatible_lstm_cell/"
    assert [o.location for o in outs] == [prefix + "GatherNd_1", prefix + "GatherNd", "logits"]
    assert all(o.port is None for o in outs)
    assert format_output(outs) == text


def test_ex04_onnx_name_1_is_a_name_not_a_port():
    specs = parse_input("input.1[157 1 240],1->157")
    assert same_specs(specs, [named("input.1", S(157, 1, 240)), named("1", value=157)])
    assert specs[1].port is None
    assert value_shape(specs[1]) == Shape(())  # scalar
    assert resolve(specs[1], NameLookup.from_names(tensors={"input.1", "1"})) == \
        Resolution("tensor", "1")


def test_ex05_onnx_digit_names():
    assert same_specs(parse_input("input.1[1 1],1[2 1 320],2[2 1 320]"), [
        named("input.1", S(1, 1)), named("1", S(2, 1, 320)), named("2", S(2, 1, 320)),
    ])


def test_ex06_onnx_names_0_and_1():
    assert same_specs(parse_input("0[1 1 1024],1[1 1 320]"),
                      [named("0", S(1, 1, 1024)), named("1", S(1, 1, 320))])


def test_ex07_rnnt_2023():
    assert same_specs(parse_input("input[157,1,240],feature_length->157"),
                      [named("input", S(157, 1, 240)), named("feature_length", value=157)])


def test_ex08_three_shaped_inputs():
    assert same_specs(parse_input("symbol[1,1],hidden_in_1[2,1,320],hidden_in_2[2,1,320]"), [
        named("symbol", S(1, 1)), named("hidden_in_1", S(2, 1, 320)),
        named("hidden_in_2", S(2, 1, 320)),
    ])


@pytest.mark.parametrize("text, shape", [
    ("input_1[1 10],sequence_len->150,is_training->False", S(1, 10)),   # 9 (2022)
    ("input_1[1,100],sequence_len->150,is_training->False", S(1, 100)),  # 10 (2023)
])
def test_ex09_ex10_scalar_and_bool_values(text, shape):
    specs = parse_input(text)
    assert same_specs(specs, [
        named("input_1", shape), named("sequence_len", value=150),
        named("is_training", value=False),
    ])
    assert specs[2].value is False


@pytest.mark.parametrize("text", [
    "0:node_name1[3 4],node_name2:1[2]{i32}->[20 15]",   # 11 (2022)
    "0:node_name1[3,4],node_name2:1[2]{i32}->[20,15]",   # 12 (2023)
])
def test_ex11_ex12_ports_dtype_and_list_value(text):
    a, b = parse_input(text)
    assert a == InputSpec("0:node_name1", IN(0, "node_name1"), S(3, 4))
    assert b == InputSpec("node_name2:1", OUT(1, "node_name2"), S(2), "i32", (20, 15), True)
    assert typed(b.value) == (("int", 20), ("int", 15))
    assert b.column == 19


def test_ex13_gnmt_dtype_before_shape():
    specs = parse_input(
        "IteratorGetNext:1{i32}[1],IteratorGetNext:0{i32}[1,50],"
        "dynamic_seq2seq/hash_table_Lookup_1:0[1]->[2],dynamic_seq2seq/hash_table_Lookup:0[1]->[1]")
    assert same_specs(specs, [
        InputSpec("IteratorGetNext:1", OUT(1, "IteratorGetNext"), S(1), "i32"),
        InputSpec("IteratorGetNext:0", OUT(0, "IteratorGetNext"), S(1, 50), "i32"),
        InputSpec("dynamic_seq2seq/hash_table_Lookup_1:0",
                  OUT(0, "dynamic_seq2seq/hash_table_Lookup_1"), S(1), None, (2,), True),
        InputSpec("dynamic_seq2seq/hash_table_Lookup:0",
                  OUT(0, "dynamic_seq2seq/hash_table_Lookup"), S(1), None, (1,), True),
    ])
    # canonical text puts the shape first
    assert specs[0].to_text() == "IteratorGetNext:1[1]{i32}"


def test_ex14_input_port_frozen_with_negative_value():
    specs = parse_input("data[8,3,224,224],1:reshaped[2]->[0 -1]")
    assert same_specs(specs, [
        named("data", S(8, 3, 224, 224)),
        InputSpec("1:reshaped", IN(1, "reshaped"), S(2), None, (0, -1), True),
    ])


def test_ex15_plain_op_as_input_and_output():
    assert parse_input(RELU) == [InputSpec(RELU)]
    assert parse_output(RELU) == [OutputSpec(RELU)]


def test_ex16_input_port_of_relu():
    assert parse_input("0:" + RELU) == [InputSpec("0:" + RELU, IN(0, RELU))]


def test_ex17_output_port_of_add():
    loc = "InceptionV1/InceptionV1/Conv2d_1a_7x7/BatchNorm/batchnorm/add_1:0"
    assert parse_input(loc) == [InputSpec(loc, OUT(0, loc[:-2]))]


def test_ex18_output_port_as_output():
    assert parse_output(RELU + ":0") == [OutputSpec(RELU + ":0", OUT(0, RELU))]


def test_ex19_input_port_as_output():
    assert parse_output("0:" + RELU) == [OutputSpec("0:" + RELU, IN(0, RELU))]


def test_ex20_port_form_with_input_shape():
    conv = "InceptionV1/InceptionV1/Conv2d_1a_7x7/convolution"
    assert parse_input("0:" + conv) == [InputSpec("0:" + conv, IN(0, conv))]
    assert parse_input_shape("[1,224,224,3]") == [S(1, 224, 224, 3)]
    # (Without "0:" it is FAQ #30, which needs the graph: not checked here.)


def test_ex21_ex22_input_shape_by_position_equals_inline_shapes():
    by_position = [replace(s, shape=sh) for s, sh in
                   zip(parse_input("data,seq_len"), parse_input_shape("[3,150,200,1],[3]"))]
    assert by_position == parse_input("data[3,150,200,1],seq_len[3]")


def test_ex23_dynamic_batch():
    assert parse_input_shape("[-1,150,200,1],[-1]") == [S(None, 150, 200, 1), S(None)]
    assert parse_input_shape("[?,150,200,1],[?]") == [S(None, 150, 200, 1), S(None)]


def test_ex24_bounded_batch():
    r = Dim(1, 3)
    assert parse_input_shape("[1..3,150,200,1],[1..3]") == [S(r, 150, 200, 1), S(r)]


def test_ex25_open_ranges():
    assert parse_input_shape("[1,..100]") == [S(1, Dim(0, 100))]
    assert parse_input_shape("[1,3,1..,1..]") == [S(1, 3, Dim(1, None), Dim(1, None))]
    assert parse_input_shape("(1,..100)") == [S(1, Dim(0, 100))]


def test_ex26_freeze_placeholder_with_value_spelling():
    [spec] = parse_input("node_name->True")
    assert spec == named("node_name", value=True) and spec.value is True


@pytest.mark.parametrize("text", [
    "MakeStateful[param_res_names={'input_name_1':'output_name_1','input_name_2':'output_name_2'}]",
    "LowLatency2[use_const_initializer=False]",
])
def test_ex27_ex28_transform_strings_are_not_this_language(text):
    with pytest.raises(MoSyntaxError) as ei:
        parse_input(text)
    assert ei.value.column == text.index("[") + 2  # first character inside the brackets
    assert "bad dimension" in ei.value.message


def test_ex29_ovc_dynamic_dim():
    assert parse_input("input_1[1,100],sequence_len[1,?]", dialect="ovc") == [
        named("input_1", S(1, 100)), named("sequence_len", S(1, None))]


def test_ex30_ovc_unnamed_shapes():
    specs = parse_input("[1,100],[1,?]", dialect="ovc")
    assert specs == [InputSpec("", None, S(1, 100)), InputSpec("", None, S(1, None))]
    assert all(s.is_unnamed for s in specs)
    assert [s.column for s in specs] == [1, 9]
    assert format_input(specs) == "[1,100],[1,?]"


def test_ex31_ovc_typed_inputs():
    assert parse_input("input_1[1,100]{f32},sequence_len{i32}", dialect="ovc") == [
        named("input_1", S(1, 100), "f32"), named("sequence_len", None, "i32")]


def test_ex32_ovc_output_list():
    assert parse_output("out_1,out_2") == [OutputSpec("out_1"), OutputSpec("out_2")]


def test_ex35_inner_node_cut_from_a_real_ir():
    loc = "map/TensorArrayStack/TensorArrayGatherV3"
    assert parse_input(loc) == [InputSpec(loc)]
    assert parse_output("softmax_tensor") == [OutputSpec("softmax_tensor")]


def test_ex36_dot_is_part_of_the_name():
    assert parse_input("input.1[157 1 240]") == [named("input.1", S(157, 1, 240))]


# ------------------------------------------------------------------------------------------
# Other documented behaviour


def test_name_keeps_inner_spaces():
    assert parse_input("name with space[1]") == [named("name with space", S(1))]
    # outer spaces are not part of the name (mo kept them; see the module notes)
    assert parse_input("  a [1] , b ") == [named("a", S(1)), named("b")]


def test_parenthesised_group_is_a_shape():
    assert parse_input("conv(3)") == [named("conv", S(3))]


@pytest.mark.parametrize("text", ["a[]", "a[ ]", "a()"])
def test_empty_brackets_are_a_scalar_shape(text):
    [spec] = parse_input(text)
    assert spec.shape == Shape(()) and spec.shape.rank == 0 and spec.shape.num_elements == 1


def test_scalar_shape_with_scalar_value():
    [spec] = parse_input("a[]->3")
    assert spec.shape == Shape(()) and spec.value == 3


@pytest.mark.parametrize("text, value, is_list", [
    ("a->1.5", 1.5, False), ("a->-2", -2, False), ("a->1e-3", 1e-3, False),
    ("a->-.5E+2", -50.0, False), ("a->true", True, False), ("a->false", False, False),
    ("a->'hello, world'", "hello, world", False), ('a->"x"', "x", False),
    ("a->[1.5,-2 True 'x']", (1.5, -2, True, "x"), True), ("a->[]", (), True),
    ("a -> [ 1 , 2 ]", (1, 2), True),
])
def test_value_literals(text, value, is_list):
    [spec] = parse_input(text)
    assert typed(spec.value) == typed(value) and spec.value_is_list is is_list


def test_value_shape():
    assert value_shape(parse_input("a->[1 2 3]")[0]) == S(3)
    assert value_shape(parse_input("a->7")[0]) == Shape(())
    assert value_shape(parse_input("a[1,3]")[0]) is None


def test_bool_alias_and_all_dtypes():
    assert parse_input("a{bool}")[0].dtype == "boolean"
    for t in DTYPES:
        assert parse_input(f"a{{{t}}}")[0].dtype == t


def test_port_hint_rules():
    assert port_hint("x:0") == OUT(0, "x")
    assert port_hint("10:x") == IN(10, "x")
    assert port_hint("1:2") == IN(1, "2")  # legacy rule: digits first means N:op
    assert port_hint("a:b") is None
    assert port_hint("1:") is None and port_hint(":1") is None
    assert port_hint("a:b:3") == OUT(3, "a:b")


# ------------------------------------------------------------------------------------------
# Negative cases: message and column


@pytest.mark.parametrize("text, column, fragment", [
    ("a->1->2", 5, "two '->'"),
    ("a[1,?]->[1 2]", 5, "Cannot freeze input with dynamic shape"),
    ("a[1..3]->[1 2]", 3, "Cannot freeze input with dynamic shape"),
    ("a[3]->[1 2]", 7, "The shape '[3]' of the input node 'a' does not correspond to the number "
                       "of elements '2' in the value"),
    ("a[2,2]->5", 9, "number of elements '1'"),
    ("a[1][2]", 5, "two shapes"),
    ("a(1)[2]", 5, "two shapes"),
    ("a{i32}{f32}", 7, "two element types"),
    ("a->[1 2", 4, "unclosed '['"),
    ("a[1,2", 2, "unclosed '['"),
    ("a{f32", 2, "unclosed '{'"),
    ("a[1)", 4, "closed by ')'"),
    ("a]", 2, "unmatched ']'"),
    ("a{f33}", 3, "unknown element type 'f33'; accepted: f64 f32 f16 bf16 i64 i32 i16 i8 "
                  "u64 u32 u16 u8 boolean/bool string"),
    ("a{}", 3, "element type"),
    ("a[x]", 3, "bad dimension 'x'"),
    ("a[-2]", 3, "only -1 may be negative"),
    ("a[5..3]", 3, "empty dimension range"),
    ("a[..]", 3, "bad dimension"),
    ("a[1-1]", 4, "separated by a comma or a space"),
    ("a[1,,2]", 5, "bad dimension ','"),
    ("a->[1-1]", 6, "separated by a comma or a space"),
    ("a->abc", 4, "bad value 'abc'"),
    ("a->->1", 4, "two '->'"),
    ("a->", 4, "missing value"),
    ("a->1 2", 6, "write a list in brackets"),
    ("a->1[2]", 5, "shape and type must come before '->'"),
    ("a,,b", 3, "empty item"),
    (",a", 1, "empty item"),
    ("a,", 2, "empty item"),
    ("", 1, "empty --input"),
    ("   ", 1, "empty --input"),
    ("b,[1]", 3, "cannot mix named inputs and unnamed shapes"),
    ("[1],b", 5, "cannot mix named inputs and unnamed shapes"),
    ("{f32}", 1, "unexpected '{'"),
    ("a->'\\x'", 4, "bad string literal"),
    ("a->'abc", 4, "unterminated quoted string"),
    ("a->[1 'b]", 7, "unterminated quoted string"),
    ("a->[[1]]", 5, "nested lists"),
])
def test_input_errors(text, column, fragment):
    with pytest.raises(MoSyntaxError) as ei:
        parse_input(text)
    err = ei.value
    assert fragment in err.message
    assert err.column == column, str(err)
    assert err.text == text
    assert str(err) == f"--input:1:{column}: {err.message}"
    assert "\n" not in str(err)


def test_ovc_rejects_freezing():
    with pytest.raises(MoSyntaxError) as ei:
        parse_input("a->1", dialect="ovc")
    assert "Incorrect format of input" in ei.value.message and ei.value.column == 2
    assert parse_input("a->1")[0].value == 1  # fine for mo


@pytest.mark.parametrize("text, column, fragment", [
    ("a[1]", 2, "not '['"),
    ("a->1", 2, "not '->'"),
    ("a{f32}", 2, "not '{'"),
    ("a,", 2, "empty item"),
    ("", 1, "empty --output"),
])
def test_output_errors(text, column, fragment):
    with pytest.raises(MoSyntaxError) as ei:
        parse_output(text)
    assert fragment in ei.value.message and ei.value.column == column
    assert str(ei.value).startswith(f"--output:1:{column}: ")


def test_input_shape_rejects_names():
    with pytest.raises(MoSyntaxError) as ei:
        parse_input_shape("[1,2],x[3]")
    assert ei.value.column == 7 and str(ei.value).startswith("--input_shape:1:7:")


def test_error_excerpt_has_caret_under_column():
    with pytest.raises(MoSyntaxError) as ei:
        parse_input("data[1,3],x[3]->[1 2]")
    assert ei.value.excerpt() == "data[1,3],x[3]->[1 2]\n                ^"
    assert isinstance(ei.value, ValueError)


def test_no_lark_exception_escapes_on_odd_input():
    for text in ["a\n[1]->", "]]]", "((", "->1", "a[1 ?1]", "a->[", "a{", "a->1,"]:
        with pytest.raises(MoSyntaxError):
            parse_input(text)


# ------------------------------------------------------------------------------------------
# Resolution against a graph


def test_resolve_x0_prefers_tensor_then_output_port():
    spec = parse_input("x:0")[0]
    assert resolve(spec, NameLookup.from_names(tensors={"x:0"}, ops={"x"})) == \
        Resolution("tensor", "x:0")
    assert resolve(spec, NameLookup.from_names(tensors={"y"}, ops={"x"})) == \
        Resolution("out", "x", 0)


def test_resolve_10x_prefers_tensor_then_input_port():
    assert resolve("10:x", NameLookup.from_names(tensors={"10:x"}, ops={"x"})) == \
        Resolution("tensor", "10:x")
    assert resolve("10:x", NameLookup.from_names(ops={"x"})) == Resolution("in", "x", 10)


def test_resolve_op_name_before_port_forms():
    lookup = NameLookup.from_names(ops={RELU, "a:1", "a"})
    assert resolve(RELU, lookup) == Resolution("op", RELU)
    assert resolve("a:1", lookup) == Resolution("op", "a:1")


def test_resolve_not_found_points_into_the_option_string():
    text = "a[1],missing:3[2]"
    spec = parse_input(text)[1]
    lookup = NameLookup.from_names(tensors={"a"})
    with pytest.raises(MoResolveError) as ei:
        resolve(spec, lookup, source=text)
    assert ei.value.message == "No node with name 'missing:3'"
    assert str(ei.value) == "--input:1:6: No node with name 'missing:3'"
    assert ei.value.excerpt() == text + "\n     ^"
    assert isinstance(ei.value, MoSyntaxError)
    with pytest.raises(MoResolveError) as ei:  # without the source: the item's own text
        resolve(spec, lookup)
    assert ei.value.excerpt() == "missing:3[2]\n^"


def test_resolve_collision_between_port_forms():
    lookup = NameLookup.from_names(ops={"1", "2"})
    with pytest.raises(MoResolveError) as ei:
        resolve("1:2", lookup)
    assert "Name collision" in ei.value.message
    assert set(ei.value.candidates) == {Resolution("out", "1", 2), Resolution("in", "2", 1)}
    # when the graph says both ports carry the same tensor, it is no collision
    same = NameLookup(lookup.has_tensor, lookup.has_op, lambda a, b: True)
    assert resolve("1:2", same) == Resolution("out", "1", 2)


def test_resolve_only_one_port_form_matches():
    assert resolve("1:2", NameLookup.from_names(ops={"2"})) == Resolution("in", "2", 1)
    assert resolve("1:2", NameLookup.from_names(ops={"1"})) == Resolution("out", "1", 2)


def test_resolve_output_spec_and_unnamed():
    out = parse_output("logits,Relu:0")[1]
    assert resolve(out, NameLookup.from_names(ops={"Relu"})) == Resolution("out", "Relu", 0)
    with pytest.raises(MoResolveError) as ei:
        resolve(parse_input("[1]")[0], NameLookup.from_names())
    assert "position" in ei.value.message


def test_resolve_with_protocol_object():
    class Graph:
        def has_tensor(self, name: str) -> bool:
            return name == "t"

        def has_op(self, name: str) -> bool:
            return name == "op"

    assert resolve("t", Graph()) == Resolution("tensor", "t")
    assert resolve("op:3", Graph()) == Resolution("out", "op", 3)


# ------------------------------------------------------------------------------------------
# Round trip: generated specs -> text -> specs

_NAME_FIRST = "abcxyzABZ_019./:-"
_NAME_INNER = _NAME_FIRST + " "

names = st.builds(
    lambda first, inner, last: (first + inner + last).strip() or first,
    st.sampled_from(_NAME_FIRST),
    st.text(_NAME_INNER, max_size=12),
    st.text(_NAME_FIRST, max_size=1),
)
dims = st.one_of(
    st.integers(0, 4096).map(Dim.static),
    st.just(Dim.dynamic()),
    st.tuples(st.integers(0, 64), st.integers(0, 64)).map(lambda t: Dim(min(t), max(t))),
    st.integers(0, 64).map(lambda lo: Dim(lo, None)),
)
shapes = st.lists(dims, max_size=5).map(lambda ds: Shape(tuple(ds)))
scalars = st.one_of(
    st.integers(-10**12, 10**12),
    st.floats(allow_nan=False, allow_infinity=False),
    st.booleans(),
    st.text(max_size=8),
)


@st.composite
def input_specs(draw) -> InputSpec:
    name = draw(names)
    dtype = draw(st.none() | st.sampled_from(DTYPES))
    kind = draw(st.sampled_from(["plain", "scalar", "list"]))
    if kind == "plain":
        return named(name, draw(st.none() | shapes), dtype)
    if kind == "scalar":
        value, is_list, count = draw(scalars), False, 1
    else:
        value, is_list = tuple(draw(st.lists(scalars, max_size=6))), True
        count = len(value)
    # A frozen item may carry a shape only if it is static and holds exactly `count` elements.
    fits = [None, S(count), S(1, count), S(count, 1)] + ([Shape(())] if count == 1 else [])
    return named(name, draw(st.sampled_from(fits)), dtype, value, is_list)


def _noisy(spec: InputSpec, draw) -> str:
    """The same item in one of the other accepted spellings."""
    sp = lambda: draw(st.sampled_from(["", " ", "  "]))  # noqa: E731
    sep = draw(st.sampled_from([",", " ", " , ", ", "]))
    parts = []
    if spec.shape is not None:
        o, c = draw(st.sampled_from(["[]", "()"]))
        parts.append(o + sp() + sep.join(d.to_text() for d in spec.shape.dims) + sp() + c)
    if spec.dtype is not None:
        dt = "bool" if spec.dtype == "boolean" and draw(st.booleans()) else spec.dtype
        parts.insert(draw(st.integers(0, len(parts))), "{" + sp() + dt + sp() + "}")
    out = spec.location + sp() + sp().join(parts)
    if spec.value is not None:
        canon = spec.to_text().rsplit("->", 1)[1]
        if spec.value_is_list:
            items = [InputSpec("v", value=v).to_text()[3:] for v in spec.value]
            canon = "[" + sp() + sep.join(items) + sp() + "]"
        out += sp() + "->" + sp() + canon
    return out


@settings(max_examples=300, deadline=None)
@given(st.lists(input_specs(), min_size=1, max_size=5))
def test_round_trip_canonical(specs):
    text = format_input(specs)
    back = parse_input(text)
    assert same_specs(back, specs), text
    assert format_input(back) == text
    for s in back:  # text/column point back into the string
        assert text[s.column - 1:s.column - 1 + len(s.text)] == s.text


@settings(max_examples=300, deadline=None)
@given(st.lists(input_specs(), min_size=1, max_size=5), st.data())
def test_round_trip_alternative_spellings(specs, data):
    text = data.draw(st.sampled_from([",", " , ", ", "])).join(_noisy(s, data.draw) for s in specs)
    assert same_specs(parse_input(text), specs), text


@settings(max_examples=100, deadline=None)
@given(st.lists(shapes, min_size=1, max_size=4))
def test_round_trip_unnamed_shapes(shape_list):
    specs = [InputSpec("", None, s) for s in shape_list]
    text = format_input(specs)
    assert parse_input(text, dialect="ovc") == specs
    assert parse_input_shape(text) == shape_list


@settings(max_examples=100, deadline=None)
@given(st.lists(names, min_size=1, max_size=5))
def test_round_trip_outputs(name_list):
    outs = [OutputSpec(n, port_hint(n)) for n in name_list]
    assert parse_output(format_output(outs)) == outs


def test_float_rendering_round_trips_exactly():
    for v in [0.1, -0.0, 1e-300, 1.7976931348623157e308, 5e-324, 123456789.125]:
        [spec] = parse_input(InputSpec("a", value=v).to_text())
        assert spec.value == v and math.copysign(1, spec.value) == math.copysign(1, v)
