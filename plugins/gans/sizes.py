"""The image sizes each GAN plugin's networks can make, and the error for the others.

Every GAN here states its sizes as a :class:`SizeRule` and checks the size asked for in
``build`` before it makes a layer, so a suite that asks a GAN for a size its architecture
cannot make stops with one sentence naming the GAN, the size and the sizes it takes,
instead of a shape error deep in PyTorch or the kernel killing the process for memory.

Two things limit a size:

* the architecture's arithmetic: stride-2 stages need a size that halves cleanly (the
  DCGAN networks' powers of two, cdcgan's multiples of 32, the thesis' multiples of 8);
* parameters: where a dense layer's width grows with the image's area (vanilla-gan's
  output layer, the thesis generators' seed layer, cdcgan's seed layer and label
  planes), parameters grow fourfold per doubling, and the largest size a GAN takes is
  the largest at which none of its networks passes :data:`PARAMETER_BUDGET` at 1 or 3
  channels. The convolutional GANs (the DCGAN family, sn-gan, cyclegan) have no such
  layer and no upper limit.

Not a plugin: the GAN plugins build on it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

from ganbench.api import GanbenchError

#: Most parameters one network may have: 250 M float32 parameters are 4 GB with their
#: gradients and Adam's two moments, before a single activation.
PARAMETER_BUDGET = 250_000_000

#: The sizes the paper suites ask GANs for (the thesis trains at 112).
SUITE_SIZES = (32, 64, 112, 128, 256, 512)


@dataclass(frozen=True)
class SizeRule:
    """Image sizes (height = width, in pixels) a GAN's networks can make: from
    ``minimum`` to ``maximum`` (None: no upper limit), and either powers of two or
    multiples of ``multiple``; ``reason`` says why, in one or two sentences."""

    minimum: int
    reason: str
    multiple: int = 1
    powers_of_two: bool = False
    maximum: Optional[int] = None

    def allows(self, size: int) -> bool:
        if size < self.minimum or (self.maximum is not None and size > self.maximum):
            return False
        if self.powers_of_two:
            return size & (size - 1) == 0
        return size % self.multiple == 0

    def describe(self) -> str:
        """The rule in words, with the suite sizes it allows."""
        if self.powers_of_two:
            kind = "powers of two"
        elif self.multiple > 1:
            kind = f"multiples of {self.multiple}"
        else:
            kind = "any size"
        span = f"from {self.minimum} px up" if self.maximum is None else f"from {self.minimum} to {self.maximum} px"
        allowed = [s for s in SUITE_SIZES if self.allows(s)]
        return f"{kind} {span} (of the sizes {_listing(SUITE_SIZES)}: {_listing(allowed) or 'none'})"

    def check(self, gan: str, size: int) -> None:
        """Raise :class:`UnsupportedImageSize` unless ``size`` is allowed."""
        if not self.allows(size):
            raise UnsupportedImageSize(gan, size, self)


def _listing(sizes) -> str:
    words = [str(s) for s in sizes]
    return " and ".join(words) if len(words) < 3 else f"{', '.join(words[:-1])} and {words[-1]}"


class UnsupportedImageSize(GanbenchError, ValueError):
    """A GAN was asked for an image size its architecture cannot make. A
    :class:`ValueError` too, as the networks' own size checks have always been."""

    def __init__(self, gan: str, size: int, rule: SizeRule):
        self.gan, self.size, self.rule = gan, size, rule
        super().__init__(
            f"{gan} cannot make {size} x {size} px images: it makes {rule.describe()}. {rule.reason}"
        )
