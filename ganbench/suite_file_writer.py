"""A :class:`~ganbench.specs.Suite` written as a suite file (TOML), for
``ganbench suites show NAME --toml``: a file to start one's own suite from, which
``ganbench run --suite FILE`` reads back into an equal ``Suite``
(:mod:`ganbench.suite_file`).

Written by hand rather than with a TOML library: the standard library only reads TOML,
and a file a person edits reads better with every field in the documented order, a
comment on what the less obvious ones mean, and ``None`` (which TOML cannot hold)
written as a commented-out key.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any, Mapping, Optional

from .specs import ProfileSettings, Suite, Variant

_BARE_KEY = re.compile(r"^[A-Za-z0-9_-]+$")
#: Arrays longer than this on one line are written one item a line.
_LINE_WIDTH = 88


def toml_key(key: str) -> str:
    """A bare key when TOML allows one, else a quoted one."""
    return key if _BARE_KEY.match(key) else toml_string(key)


def toml_string(text: str) -> str:
    """A TOML basic string. JSON's escapes are TOML's, except that TOML also wants DEL
    (U+007F) escaped."""
    return json.dumps(text, ensure_ascii=False).replace("\x7f", "\\u007f")


def toml_value(value: Any, indent: str = "") -> str:
    """``value`` as a TOML value: bool, int, float (inf and nan included), str, a tuple
    or list (an array), a mapping (an inline table). Raises ``ValueError`` for anything
    else, None included (TOML has no null)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        return repr(value)  # 'inf', '-inf', '1e-07' and '0.5' are TOML floats as written
    if isinstance(value, str):
        return toml_string(value)
    if isinstance(value, (tuple, list)):
        items = [toml_value(v, indent + "    ") for v in value]
        one_line = "[" + ", ".join(items) + "]"
        if len(one_line) + len(indent) <= _LINE_WIDTH or any("\n" in i for i in items):
            return one_line
        return "[\n" + "".join(f"{indent}    {item},\n" for item in items) + f"{indent}]"
    if isinstance(value, Mapping):
        return "{ " + ", ".join(f"{toml_key(str(k))} = {toml_value(v)}" for k, v in value.items()) + " }" if value else "{}"
    raise ValueError(f"{value!r} ({type(value).__name__}) cannot be written as a TOML value")


def _assign(key: str, value: Any, comment: str = "") -> str:
    line = f"{toml_key(key)} = {toml_value(value)}"
    return f"{line}  # {comment}" if comment else line


def _optional(key: str, value: Any, example: str, comment: str) -> str:
    """A key whose None means "not set": written, or shown commented out."""
    if value is None:
        return f"# {toml_key(key)} = {example}  # {comment}"
    return _assign(key, value, comment)


def _table(header: str, mapping: Mapping[str, Any]) -> list[str]:
    if not mapping:
        return []
    return ["", header, *(_assign(str(k), v) for k, v in mapping.items())]


def _variant(prefix: str, variant: Variant) -> list[str]:
    lines = ["", f"[[{prefix}.variants]]", _assign("name", variant.name)]
    for key in ("image_size", "train_images", "epochs", "n_fake", "classifier_epochs", "class_task", "gans", "metrics"):
        value = getattr(variant, key)
        if value is not None:
            lines.append(_assign(key, value))
    lines += _table(f"[{prefix}.variants.metric_settings]", variant.metric_settings)
    lines += _table(f"[{prefix}.variants.gan_overrides]", variant.gan_overrides)
    return lines


def _profile(name: str, settings: ProfileSettings) -> list[str]:
    prefix = f"profiles.{toml_key(name)}"
    lines = [
        "",
        f"[{prefix}]",
        _assign("image_size", settings.image_size, "pixels a side"),
        _assign("channels", settings.channels),
        _assign("seeds", settings.seeds, "seeds 0..N-1, one cell each"),
        _assign("n_fake", settings.n_fake, "generated images per cell, class-balanced"),
        _assign("n_real", settings.n_real, "cap on the real reference images"),
        _optional("gans", settings.gans, '["dcgan"]', "default: the suite's"),
        _optional("classifiers", settings.classifiers, '["small-cnn"]', "default: the suite's"),
        _optional("train_images", settings.train_images, "1000", "default: the whole training split"),
    ]
    lines += _table(f"[{prefix}.metric_settings]", settings.metric_settings)
    lines += _table(f"[{prefix}.gan_overrides]", settings.gan_overrides)
    for variant in settings.variants:
        lines += _variant(prefix, variant)
    return lines


def suite_to_toml(suite: Suite, header: Optional[str] = None) -> str:
    """The suite file of ``suite``: every field, the profiles in the suite's order.
    ``header``: comment lines to open the file with (default: how to use it). Raises
    ``ValueError`` when a setting holds a value TOML cannot (None, an object)."""
    if header is None:
        header = (
            f"# The ganbench suite {suite.name!r} as a suite file: `ganbench run --suite FILE.toml`.\n"
            "# Give it a name of its own before changing it. Every field: docs/suite-files.md."
        )
    lines = [header.rstrip("\n")] if header else []
    lines += [
        _assign("name", suite.name, "lower-kebab; it starts every cell key"),
        _assign("description", suite.description),
        _assign("source", suite.source),
        _assign("paper", suite.paper),
        _assign("gans", suite.gans),
        _assign("datasets", suite.datasets),
        _assign("takes_data", suite.takes_data, "whether --data PATH may replace the datasets"),
        _assign("metrics", suite.metrics),
        _assign("classifiers", suite.classifiers, "for the downstream metrics"),
        _assign("class_task", suite.class_task, '"" (the data\'s classes) or tumour-vs-normal'),
        _assign("unconditional_per_class", suite.unconditional_per_class, "one unconditional GAN per class"),
        _optional("translation_source", suite.translation_source, '"no_tumor"', "image-to-image GANs translate from this class"),
        _assign("data_note", suite.data_note),
        _assign("default_profile", suite.default_profile),
    ]
    for name, settings in suite.profiles.items():
        lines += _profile(name, settings)
    return "\n".join(lines) + "\n"
