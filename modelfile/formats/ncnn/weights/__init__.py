"""ncnn ``.bin`` weights: which byte span each layer owns, and rewriting the file.

The ``.bin`` has no header or index: it is the concatenation, in layer order,
of the blobs each layer's ``load_model`` reads, with sizes that follow from the
layer's params (``ncnn-layer-params.md``) and, for "tagged" blobs, from a
4-byte flag word that selects fp32 / fp16 / int8 / lookup-table storage
(``ncnn-format.md`` §3). :func:`layer_layout` says what a layer asks for,
:func:`layer_spans` walks a ``.bin`` and says where each layer's bytes are,
and :class:`WeightStore` keeps those bytes (lazily, via a memory map) so that
transforms can drop, move or add layers and :meth:`WeightStore.write_to`
re-lays the file in the graph's current order.

Layer types this module does not know (custom layers, unconverted pnnx ops)
make every span from that layer on unknown: they are kept as one opaque
chunk that is written back unchanged as long as those layers stay in place.

Modules: :mod:`.layouts` (the per-type layout table), :mod:`.spans` (locating
blobs in a ``.bin``), :mod:`.codecs` (flag words, decoding and encoding blobs),
:mod:`.store` (:class:`WeightStore`). Everything is re-exported here, so
``from modelfile.formats.ncnn.weights import WeightStore`` keeps working.
"""

from __future__ import annotations

from .codecs import (
    FLAG_FP16, FLAG_FP32_MARKED, FLAG_INT8, FP16_PAD, decode_blob, f16_tagged, f16_to_f32, f32_to_f16,
    memorydata_bytes, memorydata_dims, tagged_bytes, tagged_nbytes,
)
from .layouts import BlobSpec, LayoutFn, ParamGetter, is_known_type, layer_layout, register_layout, weighted_types
from .spans import KNOWN_FLAGS, BinAudit, Blob, Span, audit_bin, layer_spans, trailing_bytes
from .store import WeightStore

__all__ = [
    "FLAG_FP16", "FLAG_FP32_MARKED", "FLAG_INT8", "KNOWN_FLAGS", "BinAudit", "Blob", "BlobSpec", "LayoutFn",
    "FP16_PAD", "ParamGetter", "Span", "audit_bin", "f16_tagged", "f16_to_f32", "f32_to_f16",
    "WeightStore", "decode_blob", "is_known_type", "layer_layout", "layer_spans", "memorydata_bytes",
    "memorydata_dims", "register_layout", "tagged_bytes", "tagged_nbytes", "trailing_bytes", "weighted_types",
]
