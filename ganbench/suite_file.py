"""Suites as TOML files: ``ganbench run --suite ./my-suite.toml``.

A suite file describes one :class:`~ganbench.specs.Suite`: its GANs, datasets, metrics
and classifiers, and per profile its sizes, settings and sweep (variants). Every field
and every error is documented in ``docs/suite-files.md``; ``ganbench suites show NAME
--toml`` writes any registered suite as a file to start from
(:mod:`ganbench.suite_file_writer`).

The file is checked field by field against the loaded plugins before anything runs:
an unknown key, a value of the wrong type, or a GAN, dataset, metric, classifier or
setting no plugin has is refused with one line naming the file, the line of the key and
the valid values (:class:`SuiteFileError`).

A file's suite is registered for the run like a plugin's (provenance: plugin
``suite-file``, the file's path, the digest of its content), so the runner, the Ray
workers and the leaderboard find it by name; its content digest enters every cell's
config hash (:func:`suite_file_digest`). A file whose name is a registered suite's is
accepted only when it describes that suite exactly (it then runs as that suite).
"""

from __future__ import annotations

import difflib
import hashlib
import json
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Mapping, NoReturn, Optional

from .errors import GanbenchError, UnknownNameError
from .registry import KEBAB, KINDS, Provenance
from .settings import TRAINING_LENGTH, settings_of, validate_gan_settings, validate_settings
from .specs import CLASS_TASKS, PROFILES, ProfileSettings, Suite, Variant
from .suite_file_writer import suite_to_toml
from .toml_lines import KeyPath, key_lines, line_of

if TYPE_CHECKING:
    from .registry import Registry

#: The provenance ``plugin`` of a suite read from a file.
SUITE_FILE_PLUGIN = "suite-file"

#: Keys of a suite file's top level -> what they hold (the order a file is written in).
SUITE_KEYS: dict[str, str] = {
    "name": "the suite's name, lower-kebab",
    "description": "one line",
    "source": "the papers or projects it follows",
    "paper": "the paper id of its references and claims",
    "gans": "GAN names",
    "datasets": "dataset names (may be empty with takes_data = true)",
    "takes_data": "whether --data PATH may replace the datasets",
    "metrics": "metric names",
    "classifiers": "classifier names of the downstream metrics",
    "class_task": "the class task of every cell",
    "unconditional_per_class": "one unconditional GAN per class",
    "translation_source": "the class image-to-image GANs translate from",
    "data_note": "how to obtain the data",
    "default_profile": "the profile a run without --profile uses",
    "profiles": "a table per profile",
}
PROFILE_KEYS: dict[str, str] = {
    "image_size": "pixels a side",
    "channels": "image channels",
    "seeds": "seeds per cell",
    "n_fake": "generated images per cell",
    "n_real": "cap on real reference images",
    "gans": "the GANs at this profile",
    "classifiers": "the classifiers at this profile",
    "train_images": "training-set size of every GAN",
    "metric_settings": "metric settings",
    "gan_overrides": "GAN hyperparameter overrides",
    "variants": "the sweep axis, an array of tables",
}
VARIANT_KEYS: dict[str, str] = {
    "name": "lower-kebab",
    "image_size": "pixels a side",
    "train_images": "training-set size",
    "epochs": "GAN training epochs",
    "n_fake": "generated images per cell",
    "classifier_epochs": "epochs of the downstream classifiers",
    "class_task": "the class task of its cells",
    "gans": "the GANs it runs",
    "metrics": "the suite's metrics it evaluates",
    "metric_settings": "metric settings",
    "gan_overrides": "GAN hyperparameter overrides",
}


class SuiteFileError(GanbenchError):
    """A suite file that cannot be read or describes no valid suite: one line naming
    the file, the line of the offending key (when known) and what is valid."""

    def __init__(self, file: str, line: Optional[int], message: str):
        self.file, self.line, self.message = file, line, message
        where = f"{file}, line {line}" if line else file
        super().__init__(f"{where}: {message}")


def looks_like_suite_file(value: str) -> bool:
    """Whether a ``--suite`` value names a file (ends in ``.toml``, or is an existing
    file) rather than a registered suite (lower-kebab, never a path)."""
    return value.endswith(".toml") or Path(value).is_file()


def _dotted(path: KeyPath) -> str:
    out = ""
    for key in path:
        out += f"[{key}]" if isinstance(key, int) else (f".{key}" if out else str(key))
    return out or "the top level"


def _kind_of(value: Any) -> str:
    names = {bool: "true/false", int: "an integer", float: "a number", str: "a string", list: "an array", dict: "a table"}
    return next((word for kind, word in names.items() if type(value) is kind), type(value).__name__)


def _frozen(value: Any) -> Any:
    """TOML arrays -> tuples, recursively: the form settings have in a Python suite."""
    if isinstance(value, list):
        return tuple(_frozen(v) for v in value)
    if isinstance(value, dict):
        return {k: _frozen(v) for k, v in value.items()}
    return value


@dataclass
class _Reader:
    """Checks one parsed file, naming ``file`` and the lines of ``text`` in errors."""

    file: str
    text: str
    registry: "Registry"

    def __post_init__(self):
        self.lines = key_lines(self.text)

    def fail(self, path: KeyPath, message: str) -> NoReturn:
        raise SuiteFileError(self.file, line_of(self.lines, path), message)

    # ------------------------------------------------------------------ shapes

    def table(self, value: Any, path: KeyPath, keys: Mapping[str, str], required: tuple[str, ...] = ()) -> dict:
        if not isinstance(value, dict):
            self.fail(path, f"{_dotted(path)} must be a table, got {_kind_of(value)}")
        for key in value:
            if key not in keys:
                close = difflib.get_close_matches(key, list(keys), n=1)
                hint = f" (did you mean {close[0]}?)" if close else ""
                self.fail(path + (key,), f"unknown key {key!r} in {_dotted(path)}{hint}; valid keys: {', '.join(keys)}")
        for key in required:
            if key not in value:
                where = _dotted(path) if path else "the file"
                self.fail(path, f"{where} lacks {key} ({keys[key]}); required keys: {', '.join(required)}")
        return value

    def mapping(self, value: Any, path: KeyPath) -> dict:
        """A table of free keys (settings), checked by the caller."""
        if not isinstance(value, dict):
            self.fail(path, f"{_dotted(path)} must be a table, got {_kind_of(value)}")
        return value

    def text_value(self, value: Any, path: KeyPath) -> str:
        if not isinstance(value, str):
            self.fail(path, f"{_dotted(path)} must be a string, got {_kind_of(value)}")
        return value

    def flag(self, value: Any, path: KeyPath) -> bool:
        if not isinstance(value, bool):
            self.fail(path, f"{_dotted(path)} must be true or false, got {_kind_of(value)}")
        return value

    def count(self, value: Any, path: KeyPath) -> int:
        if not isinstance(value, int) or isinstance(value, bool) or value < 1:
            got = repr(value) if isinstance(value, (int, float, str)) and not isinstance(value, bool) else _kind_of(value)
            self.fail(path, f"{_dotted(path)} must be a whole number of at least 1, got {got}")
        return value

    def kebab(self, value: Any, path: KeyPath) -> str:
        name = self.text_value(value, path)
        if not KEBAB.match(name):
            self.fail(path, f"{_dotted(path)} must be lower-kebab-case (e.g. 'my-suite'), got {name!r}")
        return name

    def class_task(self, value: Any, path: KeyPath) -> str:
        task = self.text_value(value, path)
        if task and task not in CLASS_TASKS:
            self.fail(path, f"unknown class task {task!r} in {_dotted(path)}; valid: \"\" (the data's own classes), {', '.join(CLASS_TASKS)}")
        return task

    def names(self, value: Any, path: KeyPath, kind: str, allow_empty: bool = False, within: Optional[tuple] = None) -> tuple[str, ...]:
        """An array of registered names of ``kind`` (or of ``within``), each once."""
        word = KINDS[kind][0]
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            self.fail(path, f"{_dotted(path)} must be an array of {word} names, got {_kind_of(value)}")
        if not value and not allow_empty:
            self.fail(path, f"{_dotted(path)} is empty: name at least one {word}, or leave the key out")
        for name in value:
            if value.count(name) > 1:
                self.fail(path, f"{_dotted(path)} names {word} {name!r} twice")
            if within is not None:
                if name not in within:
                    self.fail(path, f"{word} {name!r} in {_dotted(path)} is not one of the suite's metrics; valid: {', '.join(within)}")
                continue
            try:
                self.registry.get(kind, name)
            except UnknownNameError as exc:
                close = difflib.get_close_matches(name, exc.available, n=1)
                hint = f" (did you mean {close[0]}?)" if close else ""
                self.fail(path, f"unknown {word} {name!r} in {_dotted(path)}{hint}; available {word}s: {', '.join(exc.available)}")
            except GanbenchError as exc:  # a name two plugins registered
                self.fail(path, str(exc))
        return tuple(value)

    # ------------------------------------------------------------------ settings

    def metric_settings(self, value: Any, path: KeyPath, metrics, classifiers) -> dict[str, Any]:
        table = self.mapping(value, path)
        try:
            declared = settings_of(self.registry, metrics, classifiers)
        except GanbenchError as exc:
            self.fail(path, str(exc))
        for key, raw in table.items():
            try:
                validate_settings(declared, {key: _frozen(raw)}, origin=_dotted(path))
            except GanbenchError as exc:
                self.fail(path + (key,), str(exc))
        return _frozen(table)

    def gan_overrides(self, value: Any, path: KeyPath, gans, profile: str) -> dict[str, Any]:
        table = self.mapping(value, path)
        for key, raw in table.items():
            try:
                validate_gan_settings(self.registry, gans, profile, {key: _frozen(raw)}, origin=_dotted(path), scope="suite")
            except GanbenchError as exc:
                self.fail(path + (key,), str(exc))
        if all(unit in table for unit in TRAINING_LENGTH):
            # One replaces the other when the cell's hyperparameters are made: one would be lost.
            where = path + (TRAINING_LENGTH[1],)
            self.fail(where, f"{_dotted(where)}: give the training length once, as steps or as epochs, not both")
        return _frozen(table)

    # ------------------------------------------------------------------ tables

    def suite(self, document: dict) -> Suite:
        top = self.table(document, (), SUITE_KEYS, required=("name", "gans", "datasets", "metrics", "profiles"))
        name = self.kebab(top["name"], ("name",))
        strings = {
            key: self.text_value(top.get(key, ""), (key,)) for key in ("description", "source", "paper", "data_note")
        }
        takes_data = self.flag(top.get("takes_data", False), ("takes_data",))
        gans = self.names(top["gans"], ("gans",), "gans")
        datasets = self.names(top["datasets"], ("datasets",), "datasets", allow_empty=takes_data)
        metrics = self.names(top["metrics"], ("metrics",), "metrics")
        classifiers = self.names(top.get("classifiers", []), ("classifiers",), "classifiers", allow_empty=True)
        downstream = [m for m in metrics if self.registry.get("metrics", m).kind == "downstream"]
        if downstream and not classifiers:
            self.fail(
                ("classifiers",) if "classifiers" in top else ("metrics",),
                f"the downstream metric{'s' if len(downstream) > 1 else ''} {', '.join(downstream)} "
                f"train{'' if len(downstream) > 1 else 's'} a classifier: name at least one in classifiers "
                f"(available: {', '.join(self.registry.names('classifiers'))})",
            )
        suite_fields = dict(
            name=name, gans=gans, datasets=datasets, metrics=metrics, classifiers=classifiers, takes_data=takes_data,
            class_task=self.class_task(top.get("class_task", ""), ("class_task",)),
            unconditional_per_class=self.flag(top.get("unconditional_per_class", True), ("unconditional_per_class",)),
            translation_source=(
                self.text_value(top["translation_source"], ("translation_source",)) if "translation_source" in top else None
            ),
            **strings,
        )
        profiles_table = top["profiles"]
        if not isinstance(profiles_table, dict) or not profiles_table:
            self.fail(("profiles",), f"profiles must hold at least one table [profiles.NAME], NAME one of {', '.join(PROFILES)}")
        profiles = {}
        for profile, settings in profiles_table.items():
            if profile not in PROFILES:
                self.fail(("profiles", profile), f"unknown profile {profile!r} in profiles; valid profiles: {', '.join(PROFILES)}")
            profiles[profile] = self.profile(settings, ("profiles", profile), profile, gans, metrics, classifiers)
        default = top.get("default_profile", "smoke" if "smoke" in profiles else next(iter(profiles)))
        if default not in profiles:
            self.fail(("default_profile",), f"default_profile {default!r} is not a profile of this file; its profiles: {', '.join(profiles)}")
        return Suite(**suite_fields, profiles=profiles, default_profile=default)

    def profile(self, value, path: KeyPath, profile: str, suite_gans, metrics, suite_classifiers) -> ProfileSettings:
        table = self.table(value, path, PROFILE_KEYS, required=("image_size",))
        own: dict[str, Any] = {"image_size": self.count(table["image_size"], path + ("image_size",))}
        for key in ("channels", "seeds", "n_fake", "n_real", "train_images"):
            if key in table:
                own[key] = self.count(table[key], path + (key,))
        if "gans" in table:
            own["gans"] = self.names(table["gans"], path + ("gans",), "gans")
        if "classifiers" in table:
            own["classifiers"] = self.names(table["classifiers"], path + ("classifiers",), "classifiers")
        gans = own.get("gans") or suite_gans
        # Settings are checked against every classifier the profile may run, as a run does.
        classifiers = (*own.get("classifiers", ()), *suite_classifiers)
        if "metric_settings" in table:
            own["metric_settings"] = self.metric_settings(table["metric_settings"], path + ("metric_settings",), metrics, classifiers)
        if "gan_overrides" in table:
            own["gan_overrides"] = self.gan_overrides(table["gan_overrides"], path + ("gan_overrides",), gans, profile)
        if "variants" in table:
            variants = table["variants"]
            if not isinstance(variants, list) or not all(isinstance(v, dict) for v in variants):
                self.fail(path + ("variants",), f"{_dotted(path + ('variants',))} must be an array of tables ([[{_dotted(path)}.variants]])")
            own["variants"] = tuple(
                self.variant(v, path + ("variants", i), profile, gans, metrics, classifiers) for i, v in enumerate(variants)
            )
            names = [v.name for v in own["variants"]]
            for i, name in enumerate(names):
                if name in names[:i]:
                    self.fail(path + ("variants", i, "name"), f"two variants of {_dotted(path)} are named {name!r}; variant names must be distinct")
        return ProfileSettings(**own)

    def variant(self, value, path: KeyPath, profile: str, profile_gans, metrics, classifiers) -> Variant:
        table = self.table(value, path, VARIANT_KEYS, required=("name",))
        own: dict[str, Any] = {"name": self.kebab(table["name"], path + ("name",))}
        for key in ("image_size", "train_images", "epochs", "n_fake", "classifier_epochs"):
            if key in table:
                own[key] = self.count(table[key], path + (key,))
        if "class_task" in table:
            own["class_task"] = self.class_task(table["class_task"], path + ("class_task",))
        if "gans" in table:
            own["gans"] = self.names(table["gans"], path + ("gans",), "gans")
        if "metrics" in table:
            own["metrics"] = self.names(table["metrics"], path + ("metrics",), "metrics", within=metrics)
        if "metric_settings" in table:
            own["metric_settings"] = self.metric_settings(table["metric_settings"], path + ("metric_settings",), metrics, classifiers)
        if "gan_overrides" in table:
            gans = own.get("gans") or profile_gans
            own["gan_overrides"] = self.gan_overrides(table["gan_overrides"], path + ("gan_overrides",), gans, profile)
        return Variant(**own)


def parse_suite_text(text: str, file: str, registry: "Registry") -> Suite:
    """The suite a suite file's ``text`` describes, checked against ``registry``.
    ``file`` names the file in messages. Raises :class:`SuiteFileError`."""
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        # tomllib says "Invalid value (at line 3, column 7)": the line moves to the front.
        found = re.search(r"\s*\(at line (\d+), (column \d+)\)", str(exc))
        if found is None:
            raise SuiteFileError(file, None, f"not valid TOML: {exc}") from None
        reason = str(exc)[: found.start()] + str(exc)[found.end():]
        raise SuiteFileError(file, int(found.group(1)), f"not valid TOML: {reason} ({found.group(2)})") from None
    return _Reader(file, text, registry).suite(document)


def read_suite_file(path: Path, registry: "Registry") -> Suite:
    """The suite of the file at ``path`` (UTF-8 TOML). Raises :class:`SuiteFileError`
    when it is missing, unreadable, not TOML or not a valid suite."""
    try:
        text = Path(path).read_bytes().decode("utf-8")
    except FileNotFoundError:
        raise SuiteFileError(str(path), None, "no such suite file (a registered suite is named without .toml: `ganbench list suites`)") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise SuiteFileError(str(path), None, f"cannot be read as UTF-8 text: {exc}") from None
    return parse_suite_text(text, str(path), registry)


def suite_digest(suite: Suite) -> str:
    """sha256 (hex) of the suite's canonical file (:func:`suite_to_toml` without its
    comment header): what a suite file's cells record in their config hash. Comments,
    layout and key order of the file do not change it; any field does."""
    return hashlib.sha256(suite_to_toml(suite, header="").encode("utf-8")).hexdigest()


def resolve_suite(registry: "Registry", value: str) -> Suite:
    """The suite a ``--suite`` value names: a registered suite, or a suite file, which
    is read, checked and registered (plugin ``suite-file``, the file's resolved path,
    its :func:`suite_digest`) so that everything after finds it by its name.

    Raises ``UnknownNameError`` for an unknown name, :class:`SuiteFileError` for a bad
    file, and :class:`SuiteFileError` when the file's name is a registered suite's (a
    plugin's, or another file's) and the file describes a different suite."""
    if not looks_like_suite_file(value):
        return registry.get("suites", value)
    path = Path(value)
    suite = read_suite_file(path, registry)
    resolved = str(path.resolve())
    if ("suites", suite.name) in registry:
        registered = registry.get("suites", suite.name)
        origin = registry.provenance("suites", suite.name)
        if registered == suite and (origin.plugin != SUITE_FILE_PLUGIN or origin.distribution == resolved):
            return registered  # the same suite: it runs as the one registered
        owner = f"the suite file {origin.distribution}" if origin.plugin == SUITE_FILE_PLUGIN else f"plugin {origin.plugin!r}"
        raise SuiteFileError(
            str(path), line_of(key_lines(path.read_text(encoding="utf-8")), ("name",)),
            f"name {suite.name!r} is taken by a different suite ({owner}); give this suite a name of its own, e.g. 'my-{suite.name}'",
        )
    registry.register("suites", suite, Provenance(SUITE_FILE_PLUGIN, resolved, suite_digest(suite)))
    return suite


def suite_file_origin(registry: "Registry", name: str) -> Optional[Provenance]:
    """Where the registered suite ``name`` came from when it was read from a file
    (``distribution``: its path, ``version``: its digest), else None."""
    if ("suites", name) not in registry:
        return None
    origin = registry.provenance("suites", name)
    return origin if origin.plugin == SUITE_FILE_PLUGIN else None


def suite_file_digest(registry: "Registry", name: str) -> Optional[str]:
    """The content digest of suite ``name`` when it came from a file, else None."""
    origin = suite_file_origin(registry, name)
    return origin.version if origin else None


def rows_of_this_version(rows: list[dict[str, Any]], origin: Optional[Provenance]) -> list[dict[str, Any]]:
    """Of a suite's result rows (dicts with ``config_json``), those its file's current
    content produced: a results folder may hold rows of earlier versions of the file
    under the same suite name (a GAN since dropped, other settings), which the
    leaderboard of this version must not show. Rows whose config records no suite file
    (``ganbench evaluate``'s, an export's older rows) are kept. ``origin`` None (a
    plugin's suite): every row."""
    if origin is None:
        return rows
    kept = []
    for row in rows:
        try:
            recorded = json.loads(row.get("config_json") or "{}").get("suite_file", origin.version)
        except (TypeError, ValueError, AttributeError):  # no readable config: nothing says it is another version
            recorded = origin.version
        if recorded == origin.version:
            kept.append(row)
    return kept


def suite_file_note(origin: Provenance) -> str:
    """The sentence a leaderboard of a suite file's runs opens with: the file's name
    (not its local path) and the start of its content digest."""
    return (
        f"Suite file `{Path(origin.distribution).name}` (content sha256 `{origin.version[:12]}`): "
        "every cell's config hash includes the file's content, and only the rows of this version of it are shown."
    )
