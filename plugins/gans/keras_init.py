"""Keras defaults in PyTorch, for the GANs whose sources are Keras programs (BrainGAN's
MLP GAN, the cGAN report's cDCGAN, the thesis generators): weights glorot-uniform with
zero biases, and batch norm with Keras' epsilon and momentum convention.

Not a plugin: the GAN plugins build on it.
"""

from __future__ import annotations

from torch import nn

#: keras.layers.BatchNormalization's default epsilon (PyTorch's is 1e-5).
KERAS_BN_EPS = 1e-3


def keras_init(module: nn.Module) -> None:
    """glorot_uniform weights and zero biases for dense and (transposed) convolution
    layers, as Keras initialises them. Glorot's limit uses fan_in + fan_out, which is
    the same whichever of a transposed convolution's two channel axes counts as input."""
    if isinstance(module, (nn.Linear, nn.Conv2d, nn.ConvTranspose2d)):
        nn.init.xavier_uniform_(module.weight)
        if module.bias is not None:
            nn.init.zeros_(module.bias)
    elif isinstance(module, nn.Embedding):
        nn.init.uniform_(module.weight, -0.05, 0.05)  # Keras' Embedding default


def keras_batch_norm(features: int, momentum: float = 0.99, dims: int = 2) -> nn.Module:
    """BatchNormalization(momentum) as Keras means it: Keras keeps ``momentum`` of the old
    running average, PyTorch's momentum is the weight of the new value."""
    norm = nn.BatchNorm1d if dims == 1 else nn.BatchNorm2d
    return norm(features, eps=KERAS_BN_EPS, momentum=1.0 - momentum)
