"""OpenVINO IR (``.xml`` + ``.bin``, v10/v11): the format handler used by :func:`modelfile.load`.

>>> m = modelfile.load("model.xml")        # lazy: Const data stays in the .bin
>>> const_array(m.find_node("weights"))    # decoded on request (mmap)
>>> m.save("out.xml")                      # byte-identical when nothing changed

Public API: :func:`read`, :func:`write`, :func:`to_text`, :func:`describe`
(the :class:`~modelfile.model.FormatHandler` functions), :func:`is_modified`,
the Const helpers :func:`const_array`, :func:`const_info`,
:func:`set_const_value`, :func:`new_const`, and :func:`new_parameter` /
:func:`new_result`. ``write`` options: ``version`` (10/11), ``prune``,
``renumber``, ``weights`` ("auto"/"rewrite"/"copy"), ``link``.
:mod:`.verify` compares files with the OpenVINO runtime (optional dependency).

Modules: ``xmlscan`` (offset-keeping XML scanning), ``reader`` (text -> Graph),
``writer`` (Graph -> text, splicing the original), ``weights`` (.bin and element
codecs), ``names`` (tensor names, shapes, element types), ``describe`` (info),
``edit`` (building blocks for the transforms).
"""

from __future__ import annotations

from .._lazy import lazy_exports

name = "openvino"

# Imported on first use: recognising a file (``.sniff``) must not load the reader and writer.
_LAZY = {
    "HANDLER": "handler", "IRState": "handler", "IRHandler": "handler",
    "describe": "summary",
    "format_names": "names", "format_shape": "names", "parse_names": "names", "parse_shape": "names",
    "GraphSource": "reader", "IRDocument": "reader", "LayerSource": "reader",
    "Weights": "binfile", "const_array": "weights", "const_bytes": "weights", "const_info": "binfile",
    "decode": "weights", "encode": "weights", "element_type_of_dtype": "weights", "new_const": "weights",
    "set_const_value": "weights",
    "is_modified": "writer", "render": "writer", "write_model": "writer",
    "document": "api", "new_parameter": "api", "new_result": "api", "read": "api", "read_text": "api",
    "to_text": "api", "write": "api",
}

__all__ = sorted([*_LAZY, "name"])


__getattr__ = lazy_exports(__name__, _LAZY, globals())
