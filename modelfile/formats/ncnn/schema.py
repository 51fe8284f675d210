"""ncnn's layer schema: the name, id, kind and default of every param of the built-in layers.

Data from each layer's ``load_param`` in Tencent/ncnn ``src/layer/*.cpp`` (as summarised in
``docs/ncnn-layer-params.md``). A default may name another param of the layer ("``kernel_h``
defaults to ``kernel_w``") or be a C expression of others (MultiHeadAttention's ``scale``).
Kinds: ``int``, ``float``, ``string``, ``int_array``, ``float_array`` -- ncnn never converts
between them (``1`` for a float param reads as 1.4e-45), so the kind decides how a value is written.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

__all__ = ["LayerSchema", "ParamSpec", "SHARED_PARAMS", "layer_schema", "schema_types"]

FLT_MAX = 3.4028234663852886e38


@dataclass(frozen=True, slots=True)
class ParamSpec:
    """One param of a layer: ``id``, ``name``, ``kind`` and ``default``.

    ``default`` is a value, or ``ref`` names the param whose value is the default, or
    ``compute`` derives it from the layer's other params (a getter ``name -> value``).
    """

    id: int
    name: str
    kind: str
    default: Any = None
    ref: str | None = None
    compute: Callable[[Callable[[str], Any]], Any] | None = None

    @property
    def is_array(self) -> bool:
        return self.kind.endswith("_array")


@dataclass(frozen=True, slots=True)
class LayerSchema:
    """The params of one layer type, by name and by id."""

    op_type: str
    params: tuple[ParamSpec, ...]

    def by_name(self, name: str) -> ParamSpec | None:
        return _BY_NAME[self.op_type].get(name)

    def by_id(self, pid: int) -> ParamSpec | None:
        return _BY_ID[self.op_type].get(pid)

    @property
    def names(self) -> list[str]:
        return [p.name for p in self.params]


#: Net-level ids every layer accepts (ncnn reads them in Net::load_param, not in the layer).
SHARED_PARAMS = (
    ParamSpec(30, "output_shapes", "int_array", []),
    ParamSpec(31, "featmask", "int", 0),
)

# Arrays whose elements are floats; every other array param holds ints.
_FLOAT_ARRAYS = {"activation_params", "coeffs", "min_sizes", "max_sizes", "aspect_ratios", "biases",
                 "anchors_scale"}

def _cdiv(a: int, b: int) -> int:
    """C integer division (truncates toward zero); ncnn would crash on 0, we answer 0."""
    return 0 if b == 0 else int(a / b)


def _inv_sqrt(x: int) -> float:
    return math.inf if x == 0 else 1.0 / math.sqrt(x)


# Defaults that are C expressions of other params (integer division as in C).
_COMPUTED: dict[str, Callable[[Callable[[str], Any]], Any]] = {
    "1.f / sqrtf(embed_dim / num_heads)": lambda p: _inv_sqrt(_cdiv(p("embed_dim"), p("num_heads"))),
    "n_fft / 4": lambda p: _cdiv(p("n_fft"), 4),
}

# type: id name=default:kind; ...   (kind i/f/a/s; a default naming a param means "same as it")
_SPEC = """\
ArgMax: 0 out_max_val=0:i; 1 topk=1:i
BatchNorm: 0 channels=0:i; 1 eps=0.f:f
Bias: 0 bias_data_size=0:i
Concat: 0 axis=0:i
Convolution: 0 num_output=0:i; 1 kernel_w=0:i; 2 dilation_w=1:i; 3 stride_w=1:i; 4 pad_left=0:i; 5 bias_term=0:i; 6 weight_data_size=0:i; 8 int8_scale_term=0:i; 9 activation_type=0:i; 10 activation_params=[]:a; 11 kernel_h=kernel_w:i; 12 dilation_h=dilation_w:i; 13 stride_h=stride_w:i; 14 pad_top=pad_left:i; 15 pad_right=pad_left:i; 16 pad_bottom=pad_top:i; 18 pad_value=0.f:f; 19 dynamic_weight=0:i
Crop: 0 woffset=0:i; 1 hoffset=0:i; 2 coffset=0:i; 3 outw=0:i; 4 outh=0:i; 5 outc=0:i; 6 woffset2=0:i; 7 hoffset2=0:i; 8 coffset2=0:i; 9 starts=[]:a; 10 ends=[]:a; 11 axes=[]:a; 13 doffset=0:i; 14 outd=0:i; 15 doffset2=0:i; 19 starts_expr="":s; 20 ends_expr="":s; 21 axes_expr="":s
Deconvolution: 0 num_output=0:i; 1 kernel_w=0:i; 2 dilation_w=1:i; 3 stride_w=1:i; 4 pad_left=0:i; 5 bias_term=0:i; 6 weight_data_size=0:i; 9 activation_type=0:i; 10 activation_params=[]:a; 11 kernel_h=kernel_w:i; 12 dilation_h=dilation_w:i; 13 stride_h=stride_w:i; 14 pad_top=pad_left:i; 15 pad_right=pad_left:i; 16 pad_bottom=pad_top:i; 18 output_pad_right=0:i; 19 output_pad_bottom=output_pad_right:i; 20 output_w=0:i; 21 output_h=output_w:i; 28 dynamic_weight=0:i
Dropout: 0 scale=1.f:f
Eltwise: 0 op_type=0:i; 1 coeffs=[]:a
ELU: 0 alpha=0.1f:f
Embed: 0 num_output=0:i; 1 input_dim=0:i; 2 bias_term=0:i; 3 weight_data_size=0:i; 18 int8_scale_term=0:i
Exp: 0 base=-1.f:f; 1 scale=1.f:f; 2 shift=0.f:f
InnerProduct: 0 num_output=0:i; 1 bias_term=0:i; 2 weight_data_size=0:i; 8 int8_scale_term=0:i; 9 activation_type=0:i; 10 activation_params=[]:a
Input: 0 w=0:i; 1 h=0:i; 2 c=0:i; 11 d=0:i
Log: 0 base=-1.f:f; 1 scale=1.f:f; 2 shift=0.f:f
LRN: 0 region_type=0:i; 1 local_size=5:i; 2 alpha=1.f:f; 3 beta=0.75f:f; 4 bias=1.f:f
MemoryData: 0 w=0:i; 1 h=0:i; 2 c=0:i; 11 d=0:i; 21 load_type=1:i
MVN: 0 normalize_variance=0:i; 1 across_channels=0:i; 2 eps=0.0001f:f
Pooling: 0 pooling_type=0:i; 1 kernel_w=0:i; 2 stride_w=1:i; 3 pad_left=0:i; 4 global_pooling=0:i; 5 pad_mode=0:i; 6 avgpool_count_include_pad=0:i; 7 adaptive_pooling=0:i; 8 out_w=0:i; 11 kernel_h=kernel_w:i; 12 stride_h=stride_w:i; 13 pad_top=pad_left:i; 14 pad_right=pad_left:i; 15 pad_bottom=pad_top:i; 18 out_h=out_w:i
Power: 0 power=1.f:f; 1 scale=1.f:f; 2 shift=0.f:f
PReLU: 0 num_slope=0:i
Proposal: 0 feat_stride=16:i; 1 base_size=16:i; 2 pre_nms_topN=6000:i; 3 after_nms_topN=300:i; 4 nms_thresh=0.7f:f; 5 min_size=16:i
Reduction: 0 operation=0:i; 1 reduce_all=1:i; 2 coeff=1.f:f; 3 axes=[]:a; 4 keepdims=0:i; 5 fixbug0=0:i
ReLU: 0 slope=0.f:f
Reshape: 0 w=-233:i; 1 h=-233:i; 2 c=-233:i; 6 shape_expr="":s; 11 d=-233:i; 12 input_batch_axis=233:i; 13 output_batch_axis=233:i
ROIPooling: 0 pooled_width=0:i; 1 pooled_height=0:i; 2 spatial_scale=1.f:f
Scale: 0 scale_data_size=0:i; 1 bias_term=0:i
Slice: 0 slices=[]:a; 1 axis=0:i; 2 indices=[]:a
Softmax: 0 axis=0:i; 1 fixbug0=0:i
SPP: 0 pooling_type=0:i; 1 pyramid_height=1:i
Threshold: 0 threshold=0.f:f
Tile: 0 axis=0:i; 1 tiles=1:i; 2 repeats=[]:a
RNN: 0 num_output=0:i; 1 weight_data_size=0:i; 2 direction=0:i; 8 int8_scale_term=0:i
LSTM: 0 num_output=0:i; 1 weight_data_size=0:i; 2 direction=0:i; 3 hidden_size=num_output:i; 8 int8_scale_term=0:i
BinaryOp: 0 op_type=0:i; 1 with_scalar=0:i; 2 b=0.f:f
UnaryOp: 0 op_type=0:i
ConvolutionDepthWise: 0 num_output=0:i; 1 kernel_w=0:i; 2 dilation_w=1:i; 3 stride_w=1:i; 4 pad_left=0:i; 5 bias_term=0:i; 6 weight_data_size=0:i; 7 group=1:i; 8 int8_scale_term=0:i; 9 activation_type=0:i; 10 activation_params=[]:a; 11 kernel_h=kernel_w:i; 12 dilation_h=dilation_w:i; 13 stride_h=stride_w:i; 14 pad_top=pad_left:i; 15 pad_right=pad_left:i; 16 pad_bottom=pad_top:i; 18 pad_value=0.f:f; 19 dynamic_weight=0:i
Padding: 0 top=0:i; 1 bottom=0:i; 2 left=0:i; 3 right=0:i; 4 type=0:i; 5 value=0.f:f; 6 per_channel_pad_data_size=0:i; 7 front=0:i; 8 behind=0:i
Squeeze: 0 squeeze_w=0:i; 1 squeeze_h=0:i; 2 squeeze_c=0:i; 3 axes=[]:a; 11 squeeze_d=0:i
ExpandDims: 3 axes=[]:a
Normalize: 0 across_spatial=0:i; 1 channel_shared=0:i; 2 eps=0.0001f:f; 3 scale_data_size=0:i; 4 across_channel=1:i; 9 eps_mode=0:i
Permute: 0 order_type=0:i
PriorBox: 0 min_sizes=[]:a; 1 max_sizes=[]:a; 2 aspect_ratios=[]:a; 3 variances[0]=0.1f:f; 4 variances[1]=0.1f:f; 5 variances[2]=0.2f:f; 6 variances[3]=0.2f:f; 7 flip=1:i; 8 clip=0:i; 9 image_width=0:i; 10 image_height=0:i; 11 step_width=-233.f:f; 12 step_height=-233.f:f; 13 offset=0.f:f; 14 step_mmdetection=0:i; 15 center_mmdetection=0:i
DetectionOutput: 0 num_class=0:i; 1 nms_threshold=0.05f:f; 2 nms_top_k=300:i; 3 keep_top_k=100:i; 4 confidence_threshold=0.5f:f; 5 variances[0]=0.1f:f; 6 variances[1]=0.1f:f; 7 variances[2]=0.2f:f; 8 variances[3]=0.2f:f
Interp: 0 resize_type=0:i; 1 height_scale=1.f:f; 2 width_scale=1.f:f; 3 output_height=0:i; 4 output_width=0:i; 5 dynamic_target_size=0:i; 6 align_corner=0:i; 9 size_expr="":s
DeconvolutionDepthWise: 0 num_output=0:i; 1 kernel_w=0:i; 2 dilation_w=1:i; 3 stride_w=1:i; 4 pad_left=0:i; 5 bias_term=0:i; 6 weight_data_size=0:i; 7 group=1:i; 9 activation_type=0:i; 10 activation_params=[]:a; 11 kernel_h=kernel_w:i; 12 dilation_h=dilation_w:i; 13 stride_h=stride_w:i; 14 pad_top=pad_left:i; 15 pad_right=pad_left:i; 16 pad_bottom=pad_top:i; 18 output_pad_right=0:i; 19 output_pad_bottom=output_pad_right:i; 20 output_w=0:i; 21 output_h=output_w:i; 28 dynamic_weight=0:i
ShuffleChannel: 0 group=1:i; 1 reverse=0:i
InstanceNorm: 0 channels=0:i; 1 eps=0.001f:f; 2 affine=1:i
Clip: 0 min=-FLT_MAX:f; 1 max=FLT_MAX:f
Reorg: 0 stride=1:i; 1 mode=0:i
YoloDetectionOutput: 0 num_class=20:i; 1 num_box=5:i; 2 confidence_threshold=0.01f:f; 3 nms_threshold=0.45f:f; 4 biases=[]:a
Quantize: 0 scale_data_size=1:i
Dequantize: 0 scale_data_size=1:i; 1 bias_data_size=0:i
Yolov3DetectionOutput: 0 num_class=20:i; 1 num_box=5:i; 2 confidence_threshold=0.01f:f; 3 nms_threshold=0.45f:f; 4 biases=[]:a; 5 mask=[]:a; 6 anchors_scale=[]:a
PSROIPooling: 0 pooled_width=7:i; 1 pooled_height=7:i; 2 spatial_scale=0.0625f:f; 3 output_dim=0:i
ROIAlign: 0 pooled_width=0:i; 1 pooled_height=0:i; 2 spatial_scale=1.f:f; 3 sampling_ratio=0:i; 4 aligned=0:i; 5 version=0:i
Packing: 0 out_elempack=1:i; 1 use_padding=0:i; 2 cast_type_from=0:i; 3 cast_type_to=0:i
Requantize: 0 scale_in_data_size=1:i; 1 scale_out_data_size=1:i; 2 bias_data_size=0:i; 3 activation_type=0:i; 4 activation_params=[]:a
Cast: 0 type_from=0:i; 1 type_to=0:i
HardSigmoid: 0 alpha=0.2f:f; 1 beta=0.5f:f
SELU: 0 alpha=1.67326324f:f; 1 lambda=1.050700987f:f
HardSwish: 0 alpha=0.2f:f; 1 beta=0.5f:f
PixelShuffle: 0 upscale_factor=1:i; 1 mode=0:i
StatisticsPooling: 0 include_stddev=0:i
Gemm: 0 alpha=1.f:f; 1 beta=1.f:f; 2 transA=0:i; 3 transB=0:i; 4 constantA=0:i; 5 constantB=0:i; 6 constantC=0:i; 7 constantM=0:i; 8 constantN=0:i; 9 constantK=0:i; 10 constant_broadcast_type_C=0:i; 11 output_N1M=0:i; 12 output_elempack=0:i; 13 output_elemtype=0:i; 14 output_transpose=0:i; 18 quantize_term=0:i; 20 constant_TILE_M=0:i; 21 constant_TILE_N=0:i; 22 constant_TILE_K=0:i
GroupNorm: 0 group=1:i; 1 channels=0:i; 2 eps=0.001f:f; 3 affine=1:i
LayerNorm: 0 affine_size=0:i; 1 eps=0.001f:f; 2 affine=1:i
GRU: 0 num_output=0:i; 1 weight_data_size=0:i; 2 direction=0:i; 8 int8_scale_term=0:i
MultiHeadAttention: 0 embed_dim=0:i; 1 num_heads=1:i; 2 weight_data_size=0:i; 3 kdim=embed_dim:i; 4 vdim=embed_dim:i; 5 attn_mask=0:i; 6 scale=1.f / sqrtf(embed_dim / num_heads):f; 7 kv_cache=0:i; 18 quantize_term=0:i
GELU: 0 fast_gelu=0:i
Convolution1D: 0 num_output=0:i; 1 kernel_w=0:i; 2 dilation_w=1:i; 3 stride_w=1:i; 4 pad_left=0:i; 5 bias_term=0:i; 6 weight_data_size=0:i; 9 activation_type=0:i; 10 activation_params=[]:a; 15 pad_right=pad_left:i; 18 pad_value=0.f:f; 19 dynamic_weight=0:i
Pooling1D: 0 pooling_type=0:i; 1 kernel_w=0:i; 2 stride_w=1:i; 3 pad_left=0:i; 4 global_pooling=0:i; 5 pad_mode=0:i; 6 avgpool_count_include_pad=0:i; 7 adaptive_pooling=0:i; 8 out_w=0:i; 14 pad_right=pad_left:i
ConvolutionDepthWise1D: 0 num_output=0:i; 1 kernel_w=0:i; 2 dilation_w=1:i; 3 stride_w=1:i; 4 pad_left=0:i; 5 bias_term=0:i; 6 weight_data_size=0:i; 7 group=1:i; 9 activation_type=0:i; 10 activation_params=[]:a; 15 pad_right=pad_left:i; 18 pad_value=0.f:f; 19 dynamic_weight=0:i
Convolution3D: 0 num_output=0:i; 1 kernel_w=0:i; 2 dilation_w=1:i; 3 stride_w=1:i; 4 pad_left=0:i; 5 bias_term=0:i; 6 weight_data_size=0:i; 9 activation_type=0:i; 10 activation_params=[]:a; 11 kernel_h=kernel_w:i; 12 dilation_h=dilation_w:i; 13 stride_h=stride_w:i; 14 pad_top=pad_left:i; 15 pad_right=pad_left:i; 16 pad_bottom=pad_top:i; 17 pad_behind=pad_front:i; 18 pad_value=0.f:f; 21 kernel_d=kernel_w:i; 22 dilation_d=dilation_w:i; 23 stride_d=stride_w:i; 24 pad_front=pad_left:i
ConvolutionDepthWise3D: 0 num_output=0:i; 1 kernel_w=0:i; 2 dilation_w=1:i; 3 stride_w=1:i; 4 pad_left=0:i; 5 bias_term=0:i; 6 weight_data_size=0:i; 7 group=1:i; 9 activation_type=0:i; 10 activation_params=[]:a; 11 kernel_h=kernel_w:i; 12 dilation_h=dilation_w:i; 13 stride_h=stride_w:i; 14 pad_top=pad_left:i; 15 pad_right=pad_left:i; 16 pad_bottom=pad_top:i; 17 pad_behind=pad_front:i; 18 pad_value=0.f:f; 21 kernel_d=kernel_w:i; 22 dilation_d=dilation_w:i; 23 stride_d=stride_w:i; 24 pad_front=pad_left:i
Pooling3D: 0 pooling_type=0:i; 1 kernel_w=0:i; 2 stride_w=1:i; 3 pad_left=0:i; 4 global_pooling=0:i; 5 pad_mode=0:i; 6 avgpool_count_include_pad=0:i; 7 adaptive_pooling=0:i; 8 out_w=0:i; 11 kernel_h=kernel_w:i; 12 stride_h=stride_w:i; 13 pad_top=pad_left:i; 14 pad_right=pad_left:i; 15 pad_bottom=pad_top:i; 16 pad_behind=pad_front:i; 18 out_h=out_w:i; 21 kernel_d=kernel_w:i; 22 stride_d=stride_w:i; 23 pad_front=pad_left:i; 28 out_d=out_w:i
MatMul: 0 transB=0:i
Deconvolution1D: 0 num_output=0:i; 1 kernel_w=0:i; 2 dilation_w=1:i; 3 stride_w=1:i; 4 pad_left=0:i; 5 bias_term=0:i; 6 weight_data_size=0:i; 9 activation_type=0:i; 10 activation_params=[]:a; 15 pad_right=pad_left:i; 18 output_pad_right=0:i; 20 output_w=0:i; 28 dynamic_weight=0:i
DeconvolutionDepthWise1D: 0 num_output=0:i; 1 kernel_w=0:i; 2 dilation_w=1:i; 3 stride_w=1:i; 4 pad_left=0:i; 5 bias_term=0:i; 6 weight_data_size=0:i; 7 group=1:i; 9 activation_type=0:i; 10 activation_params=[]:a; 15 pad_right=pad_left:i; 18 output_pad_right=0:i; 20 output_w=0:i; 28 dynamic_weight=0:i
Deconvolution3D: 0 num_output=0:i; 1 kernel_w=0:i; 2 dilation_w=1:i; 3 stride_w=1:i; 4 pad_left=0:i; 5 bias_term=0:i; 6 weight_data_size=0:i; 9 activation_type=0:i; 10 activation_params=[]:a; 11 kernel_h=kernel_w:i; 12 dilation_h=dilation_w:i; 13 stride_h=stride_w:i; 14 pad_top=pad_left:i; 15 pad_right=pad_left:i; 16 pad_bottom=pad_top:i; 17 pad_behind=pad_front:i; 18 output_pad_right=0:i; 19 output_pad_bottom=output_pad_right:i; 20 output_pad_behind=output_pad_right:i; 21 kernel_d=kernel_w:i; 22 dilation_d=dilation_w:i; 23 stride_d=stride_w:i; 24 pad_front=pad_left:i; 25 output_w=0:i; 26 output_h=output_w:i; 27 output_d=output_w:i
DeconvolutionDepthWise3D: 0 num_output=0:i; 1 kernel_w=0:i; 2 dilation_w=1:i; 3 stride_w=1:i; 4 pad_left=0:i; 5 bias_term=0:i; 6 weight_data_size=0:i; 7 group=1:i; 9 activation_type=0:i; 10 activation_params=[]:a; 11 kernel_h=kernel_w:i; 12 dilation_h=dilation_w:i; 13 stride_h=stride_w:i; 14 pad_top=pad_left:i; 15 pad_right=pad_left:i; 16 pad_bottom=pad_top:i; 17 pad_behind=pad_front:i; 18 output_pad_right=0:i; 19 output_pad_bottom=output_pad_right:i; 20 output_pad_behind=output_pad_right:i; 21 kernel_d=kernel_w:i; 22 dilation_d=dilation_w:i; 23 stride_d=stride_w:i; 24 pad_front=pad_left:i; 25 output_w=0:i; 26 output_h=output_w:i; 27 output_d=output_w:i
Einsum: 0 equation_mat=[]:a
DeformableConv2D: 0 num_output=0:i; 1 kernel_w=0:i; 2 dilation_w=1:i; 3 stride_w=1:i; 4 pad_left=0:i; 5 bias_term=0:i; 6 weight_data_size=0:i; 9 activation_type=0:i; 10 activation_params=[]:a; 11 kernel_h=kernel_w:i; 12 dilation_h=dilation_w:i; 13 stride_h=stride_w:i; 14 pad_top=pad_left:i; 15 pad_right=pad_left:i; 16 pad_bottom=pad_top:i
GLU: 0 axis=0:i
Fold: 1 kernel_w=0:i; 2 dilation_w=1:i; 3 stride_w=1:i; 4 pad_left=0:i; 11 kernel_h=kernel_w:i; 12 dilation_h=dilation_w:i; 13 stride_h=stride_w:i; 14 pad_top=pad_left:i; 15 pad_right=pad_left:i; 16 pad_bottom=pad_top:i; 20 output_w=0:i; 21 output_h=output_w:i
Unfold: 1 kernel_w=0:i; 2 dilation_w=1:i; 3 stride_w=1:i; 4 pad_left=0:i; 11 kernel_h=kernel_w:i; 12 dilation_h=dilation_w:i; 13 stride_h=stride_w:i; 14 pad_top=pad_left:i; 15 pad_right=pad_left:i; 16 pad_bottom=pad_top:i; 18 pad_value=0.f:f
GridSample: 0 sample_type=1:i; 1 padding_mode=1:i; 2 align_corner=0:i; 3 permute_fusion=0:i
CumulativeSum: 0 axis=0:i
CopyTo: 0 woffset=0:i; 1 hoffset=0:i; 2 coffset=0:i; 9 starts=[]:a; 11 axes=[]:a; 13 doffset=0:i
Diag: 0 diagonal=0:i
CELU: 0 alpha=1.f:f
Shrink: 0 bias=0.0f:f; 1 lambd=0.5f:f
RMSNorm: 0 affine_size=0:i; 1 eps=0.001f:f; 2 affine=1:i
Spectrogram: 0 n_fft=0:i; 1 power=0:i; 2 hoplen=n_fft / 4:i; 3 winlen=n_fft:i; 4 window_type=0:i; 5 center=1:i; 6 pad_type=2:i; 7 normalized=0:i; 8 onesided=1:i
InverseSpectrogram: 0 n_fft=0:i; 1 returns=0:i; 2 hoplen=n_fft / 4:i; 3 winlen=n_fft:i; 4 window_type=0:i; 5 center=1:i; 7 normalized=0:i
Flip: 0 axes=[]:a
SDPA: 5 attn_mask=0:i; 6 scale=0.f:f; 7 kv_cache=0:i; 18 int8_scale_term=0:i
RotaryEmbed: 0 interleaved=0:i
AbsVal:
BNLL:
Flatten:
Sigmoid:
Split:
TanH:
Noop:
DeepCopy:
Mish:
Swish:
Softplus:
Erf:
"""

_KINDS = {"i": "int", "f": "float", "s": "string"}


def _literal(text: str, kind: str) -> Any:
    t = text.strip()
    if kind.endswith("_array"):
        return []
    if kind == "string":
        return t.strip('"')
    if t in ("FLT_MAX", "-FLT_MAX"):
        return -FLT_MAX if t.startswith("-") else FLT_MAX
    t = t.rstrip("f") if kind == "float" else t
    return float(t) if kind == "float" else int(t)


def _parse() -> dict[str, LayerSchema]:
    out: dict[str, LayerSchema] = {}
    for line in _SPEC.splitlines():
        if not line.strip():
            continue
        op_type, _, rest = line.partition(":")
        specs = []
        for item in filter(None, (s.strip() for s in rest.split(";"))):
            pid_text, _, body = item.partition(" ")
            name, _, dk = body.partition("=")
            default_text, _, k = dk.rpartition(":")
            name = name.strip()
            if k == "a":
                kind = "float_array" if name in _FLOAT_ARRAYS else "int_array"
            else:
                kind = _KINDS[k]
            default_text = default_text.strip()
            if default_text in _COMPUTED:
                specs.append(ParamSpec(int(pid_text), name, kind, compute=_COMPUTED[default_text]))
            elif default_text[:1].isalpha() and default_text not in ("FLT_MAX",):
                specs.append(ParamSpec(int(pid_text), name, kind, ref=default_text))
            else:
                specs.append(ParamSpec(int(pid_text), name, kind, _literal(default_text, kind)))
        out[op_type] = LayerSchema(op_type, tuple(specs) + SHARED_PARAMS)
    return out


_SCHEMAS = _parse()
_BY_NAME: Mapping[str, dict[str, ParamSpec]] = {t: {p.name: p for p in s.params} for t, s in _SCHEMAS.items()}
_BY_ID: Mapping[str, dict[int, ParamSpec]] = {t: {p.id: p for p in s.params} for t, s in _SCHEMAS.items()}


def layer_schema(op_type: str) -> LayerSchema | None:
    """The schema of a built-in layer type, ``None`` for types ncnn does not define (custom layers)."""
    return _SCHEMAS.get(op_type)


def schema_types() -> list[str]:
    """Layer types the schema describes."""
    return sorted(_SCHEMAS)
