"""Errors that ganbench reports to a person as a message, not as a traceback."""


class GanbenchError(Exception):
    """Base class: the CLI prints these as a one-paragraph error and exits non-zero."""


class RegistrationError(GanbenchError):
    """A plugin registered something malformed, or a name another plugin already took."""


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
