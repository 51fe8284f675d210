"""The legacy OpenVINO ``mo --input`` / ``--output`` mini-language (and what ``ovc`` kept).

Syntax and meaning follow ``docs/mo-input-syntax.md``; the grammar is ``grammars/mo_input.lark``.
Modules: ``spec`` (the data model), ``parse`` (text -> specs), ``diagnose`` (Lark errors -> messages
with columns), ``locations`` (which graph object a location names), ``errors``.

>>> [s.to_text() for s in parse_input("data[1 3 224 224]{f32},seq_len->[16]")]
['data[1,3,224,224]{f32}', 'seq_len->[16]']
"""

from __future__ import annotations

from .errors import MoResolveError, MoSyntaxError
from .locations import NameLookup, NameLookupProtocol, Resolution, port_hint, resolve
from .parse import parse_input, parse_input_shape, parse_output
from .spec import (
    DTYPE_ALIASES,
    DTYPES,
    Dim,
    InputSpec,
    OutputSpec,
    PortRef,
    Scalar,
    Shape,
    Value,
    format_input,
    format_output,
    value_shape,
)

__all__ = [
    "DTYPES", "DTYPE_ALIASES", "Dim", "InputSpec", "MoResolveError", "MoSyntaxError", "NameLookup",
    "NameLookupProtocol", "OutputSpec", "PortRef", "Resolution", "Scalar", "Shape", "Value", "format_input",
    "format_output", "parse_input", "parse_input_shape", "parse_output", "port_hint", "resolve", "value_shape",
]
