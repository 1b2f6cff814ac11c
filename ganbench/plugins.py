"""Plugin manager factory, plugin loading and listing.

Nothing happens at import time: every run and every test calls :func:`load_plugins` and
gets a fresh, independent plugin manager and registry.
"""

from __future__ import annotations

import difflib
import os
import traceback
from dataclasses import dataclass, field
from importlib import metadata
from types import ModuleType
from typing import Iterable, Optional

import pluggy

from . import hookspecs
from .errors import RegistrationError
from .registry import KINDS, Provenance, Registry

ENTRY_POINT_GROUP = "ganbench"
ALLOW_ENV = "GANBENCH_LOAD_PLUGINS"


@dataclass
class PluginInfo:
    name: str
    distribution: str
    version: str
    module: str
    hooks: list[str] = field(default_factory=list)
    error: Optional[str] = None

    def as_dict(self) -> dict:
        return {
            "name": self.name,
            "distribution": self.distribution,
            "version": self.version,
            "module": self.module,
            "hooks": self.hooks,
            "error": self.error,
        }


@dataclass
class Plugins:
    """A loaded plugin set: the pluggy manager, what was found, and the registry."""

    manager: pluggy.PluginManager
    infos: list[PluginInfo]
    registry: Registry


def new_plugin_manager() -> pluggy.PluginManager:
    pm = pluggy.PluginManager("ganbench")
    pm.add_hookspecs(hookspecs)
    return pm


def _allowed_distributions() -> Optional[set[str]]:
    raw = os.environ.get(ALLOW_ENV)
    if raw is None:
        return None
    return {part.strip() for part in raw.split(",") if part.strip()}


def _short_error(exc: BaseException) -> str:
    last = traceback.extract_tb(exc.__traceback__)[-1:] if exc.__traceback__ else []
    where = f" ({last[0].filename}:{last[0].lineno})" if last else ""
    return f"{type(exc).__name__}: {exc}{where}"


def load_plugins(
    blocked: Iterable[str] = (),
    extra_modules: Iterable[tuple[str, ModuleType]] = (),
    entry_points: Optional[Iterable[metadata.EntryPoint]] = None,
) -> Plugins:
    """Load every ``ganbench`` entry point (one failing import never stops the others),
    then build a registry from their hooks.

    ``blocked`` names plugins or whole distributions to leave out (``--no-plugin``);
    ``GANBENCH_LOAD_PLUGINS`` (comma-separated distribution names) is an allow-list.
    ``extra_modules`` adds (name, module) pairs directly, for tests and notebooks.
    """
    pm = new_plugin_manager()
    blocked = set(blocked)
    allowed = _allowed_distributions()
    infos: list[PluginInfo] = []
    provenance: dict[str, Provenance] = {}

    if entry_points is None:
        entry_points = metadata.entry_points(group=ENTRY_POINT_GROUP)
    for ep in sorted(entry_points, key=lambda e: e.name):
        dist = ep.dist.name if ep.dist is not None else "unknown"
        version = ep.dist.version if ep.dist is not None else "unknown"
        if ep.name in blocked or dist in blocked:
            continue
        if allowed is not None and dist not in allowed:
            continue
        info = PluginInfo(ep.name, dist, version, ep.value)
        infos.append(info)
        try:
            module = ep.load()
            pm.register(module, name=ep.name)
        except Exception as exc:  # a broken plugin is reported, never fatal
            info.error = _short_error(exc)
            continue
        provenance[ep.name] = Provenance(ep.name, dist, version)

    for name, module in extra_modules:
        pm.register(module, name=name)
        infos.append(PluginInfo(name, "(registered directly)", "", module.__name__))
        provenance[name] = Provenance(name, "(registered directly)", "")

    known = sorted(name for name in dir(hookspecs) if name.startswith("register_"))
    for info in infos:
        plugin = pm.get_plugin(info.name)
        if plugin is not None:
            callers = pm.get_hookcallers(plugin) or []
            info.hooks = sorted(h.name for h in callers)
            # pluggy accepts an implementation of a hook nobody declared and never calls
            # it: a misspelt hook name would register nothing, without a word.
            for unknown in sorted(h.name for h in callers if not h.has_spec()):
                close = difflib.get_close_matches(unknown, known, n=1)
                hint = f" (did you mean {close[0]}?)" if close else ""
                _add_error(info, f"{unknown} is not a ganbench hook{hint}; the hooks: {', '.join(known)}")

    registry = Registry()
    _fill_registry(pm, registry, provenance, {i.name: i for i in infos})
    return Plugins(pm, infos, registry)


def _fill_registry(pm, registry: Registry, provenance, infos: dict[str, PluginInfo]) -> None:
    # Each hook implementation is called on its own so that every registered item is
    # attributed to the plugin that registered it.
    for kind in KINDS:
        hook = getattr(pm.hook, f"register_{kind}")
        for impl in hook.get_hookimpls():
            origin = provenance[impl.plugin_name]

            # A malformed or clashing registration is that plugin's error, shown by
            # `ganbench plugins` and warned about by every other command; it never
            # takes the other plugins, or the plugin's other items, down.
            def register(item, _kind=kind, _origin=origin, _info=infos[impl.plugin_name]):
                try:
                    registry.register(_kind, item, _origin)
                except RegistrationError as exc:
                    _add_error(_info, str(exc))

            try:
                impl.function(register=register)
            except Exception as exc:
                _add_error(infos[impl.plugin_name], _short_error(exc))


def _add_error(info: PluginInfo, message: str) -> None:
    info.error = message if not info.error else f"{info.error}; {message}"


def register_commands(plugins: Plugins, cli) -> None:
    plugins.manager.hook.register_commands(cli=cli)
