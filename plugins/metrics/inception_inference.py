"""The FID Inception network prepared for inference: torch-fidelity's features, less work.

torch-fidelity's ``FeatureExtractorInceptionV3`` is written to be exact, not fast: every
one of its 94 conv units runs a convolution, then a batch norm with fixed statistics,
then a ReLU, each a separate pass over the activations, in the NCHW layout. On a CPU the
Inception pass is most of a run, so :func:`inference_extractor` builds a copy that does
the same arithmetic in fewer passes:

* **Batch norm folded into the convolution.** In eval mode batch norm is the affine map
  ``y = (x - mean) * gamma / sqrt(var + eps) + beta`` per output channel, so
  ``bn(conv(x, W))`` equals ``conv(x, W * s) + (beta - mean * s)`` with
  ``s = gamma / sqrt(var + eps)``; the ReLU runs in place on the convolution's output.
* **Channels-last layout** (N x H x W x C in memory), which oneDNN's CPU convolutions
  and cuDNN's run without reordering the activations between layers.
* **Inference mode** in :func:`fidelity.extract_features`: no autograd bookkeeping.
* **Its own schedule** (:class:`InferencePool3`): the resize to 299 x 299 in two
  separable passes that are bit-identical to torch-fidelity's TensorFlow-1.x-exact
  bilinear (:func:`tf1_bilinear_resize`), and on a CPU the stem (299-71 px activations)
  4 images at a time while the Inception blocks (35-8 px) run 32 at once.

The layers are torch-fidelity's, called in its order. The features differ from
torch-fidelity's module only by float32 rounding of the folded weights: at most about
1e-5 on features whose largest values are about 4 (``tests/test_inception_inference.py``
holds them to 1e-4 and FID to 4 significant digits); the schedule changes no bit.

Measured on this project's 2-core Xeon (Sapphire Rapids, 2 threads; the machine's load
moves these by tens of percent, the ratios less): torch-fidelity's module at batch 8
3.5-9 images/s, ganbench 8.4-11.7, 1.9-2.4x in the same process; channels-last gives
most of it, folding about 10%, the stem/block batches 10-15% (all at batch 8: 9.5-9.9
images/s against 11.1-11.7), the resize a few percent; one thread about half of two.
``benchmarks/bench_inception.py`` measures it on any machine, beside the machine's
matrix-multiply rate.

On CUDA, :func:`exact_convolutions` turns cuDNN's TF32 off while features are computed:
TF32 rounds convolution inputs to 10-bit mantissas, which moves features by about 1e-3,
ten times the tolerance above.
"""

from __future__ import annotations

import contextlib
import copy
from functools import lru_cache
from typing import Optional

import torch
from torch import nn
from torch.nn import functional as F

from .inception_weights import inception_extractor


class FoldedConvUnit(nn.Module):
    """One of torch-fidelity's ``BasicConv2d`` units (conv, eval-mode batch norm, ReLU)
    as a single convolution with bias followed by an in-place ReLU.

    Shapes are the unit's: N x C_in x H x W float32 in, N x C_out x H' x W' out."""

    def __init__(self, unit: nn.Module):
        super().__init__()
        conv, bn = unit.conv, unit.bn
        if conv.bias is not None or conv.groups != 1 or conv.dilation != (1, 1):
            raise ValueError("expected torch-fidelity's bias-free, ungrouped, undilated Inception convolutions")
        scale = bn.weight / torch.sqrt(bn.running_var + bn.eps)
        self.register_buffer("weight", (conv.weight * scale[:, None, None, None]).detach().clone())
        self.register_buffer("bias", (bn.bias - bn.running_mean * scale).detach().clone())
        self.stride, self.padding = conv.stride, conv.padding

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.relu(F.conv2d(x, self.weight, self.bias, self.stride, self.padding), inplace=True)


def fold_conv_units(network: nn.Module) -> nn.Module:
    """A copy of torch-fidelity's Inception with every ``BasicConv2d`` folded
    (:class:`FoldedConvUnit`); the original is left untouched. Raises ValueError when
    the network has no such unit (another torch-fidelity layout)."""
    from torch_fidelity.feature_extractor_inceptionv3 import BasicConv2d

    folded = copy.deepcopy(network).eval()
    count = 0
    for parent in list(folded.modules()):
        for name, child in list(parent.named_children()):
            if isinstance(child, BasicConv2d):
                setattr(parent, name, FoldedConvUnit(child))
                count += 1
    if count == 0:
        raise ValueError("no BasicConv2d units found: this torch-fidelity version lays out its Inception differently")
    return folded


def _tf1_grid(in_size: int, out_size: int, device: torch.device):
    """torch-fidelity's sample positions for TF 1.x bilinear resizing without aligned
    corners: source index ``i * in/out`` in float32, its floor, the next index (clamped)
    and the fractional part."""
    position = torch.arange(0, out_size, 1, dtype=torch.float32, device=device)
    position = position * torch.tensor(in_size / out_size, dtype=torch.float32)
    low = position.long()
    high = (low + 1).clamp_max(in_size - 1)
    return low, high, position - low.float()


def tf1_bilinear_resize(images: torch.Tensor, size: int) -> torch.Tensor:
    """float32 N x C x H x W -> N x C x size x size, bit for bit torch-fidelity's
    ``interpolate_bilinear_2d_like_tensorflow1x(..., align_corners=False)`` (its exact,
    "slow" method), in fewer passes over the large output.

    torch-fidelity gathers the four corner images at full output size and blends them
    (``in_0 = in_00 + (in_01 - in_00) * dx``, the same for ``in_1``, then
    ``in_0 + (in_1 - in_0) * dy``). Gathering rows commutes with those elementwise
    operations, so the horizontal blend is done once on the H input rows and its rows
    are gathered afterwards: the same operations on the same operands, about half the
    work at 32 -> 299 px. tests/test_inception_inference.py checks equality with
    ``torch.equal``."""
    y_low, y_high, dy = _tf1_grid(images.shape[2], size, images.device)
    x_low, x_high, dx = _tf1_grid(images.shape[3], size, images.device)
    left, right = images[:, :, :, x_low], images[:, :, :, x_high]
    rows = left + (right - left) * dx.view(1, 1, 1, size)
    top, bottom = rows[:, :, y_low, :], rows[:, :, y_high, :]
    return top + (bottom - top) * dy.view(1, 1, size, 1)


#: torch-fidelity's layers up to pool3, in its forward's order: the stem (large
#: activations, 147-71 px) and the Inception blocks (35-8 px).
STEM = ("Conv2d_1a_3x3", "Conv2d_2a_3x3", "Conv2d_2b_3x3", "MaxPool_1", "Conv2d_3b_1x1", "Conv2d_4a_3x3", "MaxPool_2")
BLOCKS = (
    "Mixed_5b", "Mixed_5c", "Mixed_5d", "Mixed_6a", "Mixed_6b", "Mixed_6c", "Mixed_6d", "Mixed_6e",
    "Mixed_7a", "Mixed_7b", "Mixed_7c", "AvgPool",
)


class InferencePool3(nn.Module):
    """uint8 N x 3 x H x W images -> a 1-tuple of N x 2048 float32 pool3 features: the
    layers of torch-fidelity's ``FeatureExtractorInceptionV3.forward`` up to pool3, in
    its order, on a folded copy (:func:`fold_conv_units`), with two differences of
    schedule, none of arithmetic:

    * the resize is :func:`tf1_bilinear_resize` (bit-identical to torch-fidelity's);
    * with ``stem_batch``, the stem runs ``stem_batch`` images at a time and the
      Inception blocks on the whole batch. On a CPU the stem's large activations
      want small batches (they stay in cache) and the blocks' small ones large batches
      (fewer, larger matrix products); oneDNN computes each image alike at any batch,
      so the features do not change (tests check equality with ``torch.equal``).
    """

    def __init__(self, folded: nn.Module, stem_batch: Optional[int] = None):
        super().__init__()
        self.network = folded
        self.stem_batch = stem_batch
        self.input_size = int(folded.INPUT_IMAGE_SIZE)
        self.dtype = folded.feature_extractor_internal_dtype

    def _stem(self, images: torch.Tensor) -> torch.Tensor:
        x = tf1_bilinear_resize(images.to(self.dtype), self.input_size)
        x = (x - 128) / 128  # torch-fidelity's normalisation, as written there
        x = x.contiguous(memory_format=torch.channels_last)
        for name in STEM:
            x = getattr(self.network, name)(x)
        return x

    def forward(self, images: torch.Tensor) -> tuple[torch.Tensor]:
        if images.dtype != torch.uint8 or images.dim() != 4 or images.shape[1] != 3:
            raise ValueError(f"expected uint8 N x 3 x H x W images, got {images.dtype} {tuple(images.shape)}")
        step = self.stem_batch or len(images)
        parts = [self._stem(images[start : start + step]) for start in range(0, len(images), step)]
        x = parts[0] if len(parts) == 1 else torch.cat(parts)
        for name in BLOCKS:
            x = getattr(self.network, name)(x)
        return (torch.flatten(x, 1).to(torch.float32),)


#: Images per stem pass on each device type (None: the whole batch); see InferencePool3.
STEM_BATCH = {"cpu": 4}


@lru_cache(maxsize=2)
def inference_extractor(device: str = "cpu") -> nn.Module:
    """The FID Inception network with its batch norms folded, in channels-last layout, in
    eval mode on ``device``, without gradients (:class:`InferencePool3`): uint8
    N x 3 x H x W images in (any layout), a 1-tuple of N x 2048 float32 pool3 features
    out, as :func:`.inception_weights.inception_extractor`'s. One per device and process."""
    network = fold_conv_units(inception_extractor("cpu"))
    network.requires_grad_(False)
    network = network.to(device=torch.device(device), memory_format=torch.channels_last)
    return InferencePool3(network, STEM_BATCH.get(torch.device(device).type)).eval()


@contextlib.contextmanager
def exact_convolutions(device: torch.device):
    """Within: cuDNN convolutions in full float32 (TF32 off) on a CUDA ``device``;
    nothing changes on other devices. The previous setting is restored on exit."""
    if device.type != "cuda":
        yield
        return
    previous = torch.backends.cudnn.allow_tf32
    torch.backends.cudnn.allow_tf32 = False
    try:
        yield
    finally:
        torch.backends.cudnn.allow_tf32 = previous
