"""Errors that ganbench reports to a person as a message, not as a traceback."""


class GanbenchError(Exception):
    """Base class: the CLI prints these as a one-paragraph error and exits non-zero."""


class RegistrationError(GanbenchError):
    """A plugin registered something malformed, or a name another plugin already took.

    Raised by the ``register`` callable a hook receives; ganbench reports it as that
    plugin's error (``ganbench plugins``) and keeps the other plugins' items."""


class UnknownNameError(GanbenchError, KeyError):
    """A name (GAN, dataset, metric, ...) that no loaded plugin registered."""

    def __init__(self, kind: str, name: str, available):
        self.kind, self.name, self.available = kind, name, sorted(available)
        listing = ", ".join(self.available) or "none are registered"
        super().__init__(f"unknown {kind} {name!r}; available {kind}s: {listing}")

    def __str__(self) -> str:  # KeyError would wrap the message in quotes
        return self.args[0]


class DatasetLayoutError(GanbenchError):
    """A dataset path does not have the layout the dataset plugin reads."""


class PretrainedWeightsUnavailable(GanbenchError):
    """Pretrained weights were asked for but cannot be found offline."""


class NonFiniteImagesError(GanbenchError):
    """A network produced images with NaN or infinite pixels. They are never converted to
    uint8 (NaN would become black, inf white) and scored as if nothing happened."""

    def __init__(self, bad_images: int, total: int, nan_pixels: int, inf_pixels: int, stage: str = ""):
        self.bad_images, self.total, self.nan_pixels, self.inf_pixels = bad_images, total, nan_pixels, inf_pixels
        self.stage = stage
        prefix = f"{stage}: " if stage else ""
        super().__init__(
            f"{prefix}{bad_images} of {total} generated images contain non-finite pixels "
            f"({nan_pixels} NaN, {inf_pixels} inf); the cell fails instead of scoring them "
            "(a diverged or numerically unstable generator)"
        )

    def at(self, stage: str) -> "NonFiniteImagesError":
        """The same error, naming where it happened (GAN, seed, class, stage)."""
        return NonFiniteImagesError(self.bad_images, self.total, self.nan_pixels, self.inf_pixels, stage)
