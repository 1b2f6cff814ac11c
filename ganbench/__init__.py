"""ganbench: reproducible benchmarks of GAN variants for synthetic brain MRI."""

import pluggy

__version__ = "0.1.0"

#: Decorator that plugin modules use to implement ganbench hooks.
hookimpl = pluggy.HookimplMarker("ganbench")

__all__ = ["__version__", "hookimpl"]
