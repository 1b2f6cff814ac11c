"""Checked registration: every item has a valid name, a unique one, and a known origin."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Iterator

from .errors import RegistrationError, UnknownNameError
from .specs import GAN, Claim, Classifier, Dataset, Metric, Reference, Suite

KEBAB = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")

#: Registry kind -> (singular word for messages, the type a registered item must have).
KINDS: dict[str, tuple[str, type]] = {
    "gans": ("GAN", GAN),
    "datasets": ("dataset", Dataset),
    "metrics": ("metric", Metric),
    "classifiers": ("classifier", Classifier),
    "suites": ("suite", Suite),
    "references": ("reference", Reference),
    "claims": ("claim", Claim),
}
#: Kinds whose names come from their source (a paper's table and row, a sentence), not
#: from a person typing them on the command line.
UNTYPED_NAMES = ("references", "claims")


@dataclass(frozen=True)
class Provenance:
    """Where a registered item came from; written into every result row."""

    plugin: str
    distribution: str
    version: str

    def as_dict(self) -> dict[str, str]:
        return {"plugin": self.plugin, "distribution": self.distribution, "version": self.version}


class Registry:
    def __init__(self) -> None:
        self._items: dict[str, dict[str, tuple[Any, Provenance]]] = {k: {} for k in KINDS}
        #: Names registered more than once: kind -> name -> the message naming both
        #: plugins. Such a name cannot be used until one plugin is blocked; every other
        #: name of both plugins still can.
        self.clashes: dict[str, dict[str, str]] = {k: {} for k in KINDS}

    def register(self, kind: str, item: Any, provenance: Provenance) -> None:
        word, expected = KINDS[kind]
        if not isinstance(item, expected):
            raise RegistrationError(
                f"plugin {provenance.plugin!r} registered {item!r} as a {word}, "
                f"but it is not a {expected.__module__}.{expected.__qualname__}"
            )
        name = item.name
        # References are identified by their source, not chosen by a person, so only
        # the names people type on the command line must be lower-kebab.
        if kind not in UNTYPED_NAMES and not (isinstance(name, str) and KEBAB.match(name)):
            raise RegistrationError(
                f"plugin {provenance.plugin!r} registered a {word} named {name!r}; "
                "names must be lower-kebab-case (e.g. 'my-gan')"
            )
        taken = self._items[kind].get(name)
        if taken is not None:
            message = (
                f"{word} {name!r} is registered twice: by plugin {taken[1].plugin!r} "
                f"({taken[1].distribution}) and by plugin {provenance.plugin!r} "
                f"({provenance.distribution}); block one with --no-plugin NAME"
            )
            self.clashes[kind][name] = message
            raise RegistrationError(message)
        self._items[kind][name] = (item, provenance)

    def get(self, kind: str, name: str) -> Any:
        """The item registered under ``name``. Raises :class:`UnknownNameError` (listing
        what exists) for an unknown name, :class:`RegistrationError` for a name two
        plugins registered."""
        clash = self.clashes[kind].get(name)
        if clash is not None:
            raise RegistrationError(clash)
        try:
            return self._items[kind][name][0]
        except KeyError:
            raise UnknownNameError(KINDS[kind][0], name, self._items[kind]) from None

    def provenance(self, kind: str, name: str) -> Provenance:
        self.get(kind, name)
        return self._items[kind][name][1]

    def names(self, kind: str) -> list[str]:
        return sorted(self._items[kind])

    def items(self, kind: str) -> Iterator[tuple[Any, Provenance]]:
        for name in self.names(kind):
            yield self._items[kind][name]

    def in_registration_order(self, kind: str) -> list[Any]:
        """The items of ``kind`` in the order their plugins registered them (a paper's
        references in the order of its tables' rows and columns)."""
        return [item for item, _ in self._items[kind].values()]

    def __contains__(self, kind_and_name: tuple[str, str]) -> bool:
        kind, name = kind_and_name
        return name in self._items[kind]
