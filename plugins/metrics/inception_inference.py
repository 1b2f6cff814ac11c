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

The resize to 299 x 299 (TensorFlow-1.x-exact bilinear) and everything after the conv
units are torch-fidelity's own code, unchanged. The features differ from torch-fidelity's
module only by float32 rounding of the folded weights: at most about 1e-5 on features
whose largest values are about 4 (``tests/test_inception_inference.py`` holds them to
1e-4 and FID to 4 significant digits).

Measured on this project's 2-core Xeon (Sapphire Rapids, 2 threads; the machine's load
moves these by tens of percent, the ratios less): torch-fidelity's module at batch 8 6-9
images/s, ganbench 10.5-15.5, 1.7x; channels-last alone gives most of it, folding about
10% more; batch 4 and 8 alike, 16 slower as activations leave the L2 cache; one thread
about half of two. ``benchmarks/bench_inception.py`` measures it on
any machine, beside the machine's matrix-multiply rate.

On CUDA, :func:`exact_convolutions` turns cuDNN's TF32 off while features are computed:
TF32 rounds convolution inputs to 10-bit mantissas, which moves features by about 1e-3,
ten times the tolerance above.
"""

from __future__ import annotations

import contextlib
import copy
from functools import lru_cache

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


@lru_cache(maxsize=2)
def inference_extractor(device: str = "cpu") -> nn.Module:
    """The FID Inception network with its batch norms folded, in channels-last layout, in
    eval mode on ``device``, without gradients: uint8 N x 3 x H x W images in (any
    layout), a 1-tuple of N x 2048 float32 pool3 features out, as
    :func:`.inception_weights.inception_extractor`'s. One per device and process."""
    network = fold_conv_units(inception_extractor("cpu"))
    network.requires_grad_(False)
    return network.to(device=torch.device(device), memory_format=torch.channels_last)


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


def to_network_layout(images: torch.Tensor) -> torch.Tensor:
    """uint8 N x 3 x H x W images in the channels-last layout the network runs in."""
    return images.contiguous(memory_format=torch.channels_last)
