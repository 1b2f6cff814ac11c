"""Declared run settings: what ``--metric-setting KEY=VALUE`` and a suite profile's
``metric_settings`` may hold, with types, and their check before any training.

Every :class:`~ganbench.specs.Metric` and :class:`~ganbench.specs.Classifier` lists the
settings it reads in ``settings`` (a tuple of :class:`Setting`). A run accepts exactly
the settings its metrics and classifiers declare, plus the runner's own
(:data:`RUNNER_SETTINGS`); a typo or a value of the wrong type is refused with the valid
keys before any dataset is loaded or any GAN trained, instead of training under a new
config hash or failing after the training.

Values enter the cells' config hash in their typed, normalised form (``010`` and ``10``
are the integer 10; ``inception,pixels`` is ``("pixels", "inception")``), and a setting
given at its declared default is left out, since it changes no number: a run that
spells a setting differently, or names its default, resumes the same cells.
"""

from __future__ import annotations

import difflib
import keyword
import math
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable, Iterable, Mapping, Optional, Sequence

from .errors import GanbenchError

if TYPE_CHECKING:
    from .registry import Registry
    from .specs import Suite

#: The value types a setting may have; ``tuple`` is a comma-separated list of words.
TYPE_WORDS: dict[type, str] = {
    int: "an integer",
    float: "a number",
    bool: "true or false",
    str: "a word",
    tuple: "a comma-separated list",
}
TRUE_WORDS = ("true", "yes", "on", "1")
FALSE_WORDS = ("false", "no", "off", "0")
SETTING_NAME = re.compile(r"^[a-z][a-z0-9_]*$")

#: Keys the runner puts into every evaluation's settings itself; never a user's to set.
RESERVED: dict[str, str] = {"profile": "the runner sets it from the run's profile; use --profile"}


@dataclass(frozen=True)
class Setting:
    """One setting a metric or classifier reads from ``Evaluation.settings``.

    ``name``: snake_case key (``fidelity_bootstrap``). ``type``: ``int``, ``float``,
    ``bool``, ``str`` or ``tuple`` (comma-separated words on the command line, a tuple of
    strings in Python). ``default``: the value used when the run gives none, a valid
    value in normal form, or ``None`` for "the plugin decides" (e.g. the classifier's
    own epochs). ``description``: one line for ``ganbench list``. ``choices``:
    the allowed values (for ``tuple``, the allowed words; their order is the canonical
    order of a list). ``minimum``/``maximum``: inclusive bounds of a number. ``check``
    and ``rule``: a further condition on the typed value and the words that state it
    (``"0 (off) or at least 20"``).

    Raises ``TypeError``/``ValueError`` at declaration when a field is malformed, so a
    broken declaration fails when its plugin is imported, not in a user's run.
    """

    name: str
    type: type
    default: Any
    description: str
    choices: Optional[tuple] = None
    minimum: Optional[float] = None
    maximum: Optional[float] = None
    check: Optional[Callable[[Any], bool]] = None
    rule: str = ""

    def __post_init__(self):
        if not (isinstance(self.name, str) and SETTING_NAME.match(self.name) and not keyword.iskeyword(self.name)):
            raise ValueError(f"a setting's name must be snake_case (e.g. 'classifier_epochs'), got {self.name!r}")
        if self.type not in TYPE_WORDS:
            raise TypeError(f"setting {self.name!r}: type must be one of int, float, bool, str, tuple, got {self.type!r}")
        if not (isinstance(self.description, str) and self.description.strip()):
            raise ValueError(f"setting {self.name!r} needs a one-line description")
        if self.choices is not None:
            if not (isinstance(self.choices, tuple) and self.choices):
                raise TypeError(f"setting {self.name!r}: choices must be a non-empty tuple, got {self.choices!r}")
            if self.type is tuple and not all(isinstance(c, str) for c in self.choices):
                raise TypeError(f"setting {self.name!r}: the choices of a list are words, got {self.choices!r}")
            if self.type is not tuple and any(self._typed(c) != c for c in self.choices):
                raise TypeError(f"setting {self.name!r}: every choice must be {TYPE_WORDS[self.type]}, got {self.choices!r}")
        if (self.minimum is not None or self.maximum is not None) and self.type not in (int, float):
            raise TypeError(f"setting {self.name!r}: only an int or float setting has a minimum or maximum")
        if self.check is not None and not (callable(self.check) and self.rule.strip()):
            raise TypeError(f"setting {self.name!r}: check must be a callable stated in words by rule")
        if self.default is not None:
            try:
                parsed = self.parse(self.default)
            except ValueError as exc:
                raise ValueError(f"setting {self.name!r}: its default is not a valid value: {exc}") from None
            if parsed != self.default:
                raise ValueError(f"setting {self.name!r}: default {self.default!r} is not in normal form; write {parsed!r}")

    def expected(self) -> str:
        """What a valid value is, in words: ``"an integer, at least 1"``."""
        words = [TYPE_WORDS[self.type]]
        if self.choices is not None:
            joined = ", ".join(map(str, self.choices))
            words.append(f"of {joined}" if self.type is tuple else f"one of {joined}")
        if self.minimum is not None and self.maximum is not None:
            words.append(f"from {self.minimum:g} to {self.maximum:g}")
        elif self.minimum is not None:
            words.append(f"at least {self.minimum:g}")
        elif self.maximum is not None:
            words.append(f"at most {self.maximum:g}")
        if self.rule:
            words.append(self.rule)
        return ", ".join(words)

    def parse(self, raw: Any) -> Any:
        """A command-line string or a Python value (from a suite) -> the typed value.

        Returns an ``int``, ``float`` (finite), ``bool``, ``str`` or a tuple of
        distinct words in the order of ``choices``. Raises ``ValueError`` saying what
        was expected when ``raw`` is not a valid value."""
        value = self._typed(raw)
        if value is None:
            raise ValueError(f"expected {self.expected()}")
        if self.choices is not None:
            outside = [v for v in (value if self.type is tuple else (value,)) if v not in self.choices]
            if outside:
                raise ValueError(f"expected {self.expected()}")
            if self.type is tuple:
                value = tuple(c for c in self.choices if c in value)
        if self.minimum is not None and value < self.minimum or self.maximum is not None and value > self.maximum:
            raise ValueError(f"expected {self.expected()}")
        if self.check is not None and not self.check(value):
            raise ValueError(f"expected {self.expected()}")
        return value

    def _typed(self, raw: Any) -> Any:
        """``raw`` as the declared type, or None when it is not one."""
        text = raw.strip() if isinstance(raw, str) else None
        if self.type is bool:
            if isinstance(raw, bool):
                return raw
            lowered = (text or "").lower()
            return True if lowered in TRUE_WORDS else False if lowered in FALSE_WORDS else None
        if self.type is int:
            if isinstance(raw, int) and not isinstance(raw, bool):
                return raw
            # Digits only: int() would also take "1_000" and " +5 ", float() "1e3".
            return int(text) if text is not None and re.fullmatch(r"[+-]?\d+", text) else None
        if self.type is float:
            if isinstance(raw, (int, float)) and not isinstance(raw, bool):
                number = float(raw)
            else:
                try:
                    number = float(text) if text else None
                except ValueError:
                    return None
            return number if number is not None and math.isfinite(number) else None
        if self.type is str:
            return text or None
        words = [w.strip() for w in raw.split(",")] if text is not None else raw
        if not isinstance(words, (list, tuple)) or not all(isinstance(w, str) for w in words):
            return None
        words = tuple(dict.fromkeys(w.strip() for w in words if w.strip()))
        return words or None

    def read(self, settings: Mapping[str, Any]) -> Any:
        """This setting's typed value in an evaluation's ``settings``, or the default.
        Raises :class:`GanbenchError` on an invalid value (a plugin called outside a
        validated run)."""
        if settings.get(self.name) is None:
            return self.default
        try:
            return self.parse(settings[self.name])
        except ValueError as exc:
            raise GanbenchError(f"setting {self.name}={settings[self.name]!r}: {exc}") from None

    def as_dict(self) -> dict[str, Any]:
        """For ``ganbench list --json``: name, type, default, description, expected."""
        return {
            "name": self.name,
            "type": self.type.__name__ if self.type is not tuple else "list",
            "default": list(self.default) if isinstance(self.default, tuple) else self.default,
            "description": self.description,
            "expected": self.expected(),
        }


#: Settings the runner itself reads (``Evaluation.n_real``); valid in every run.
RUNNER_SETTINGS: tuple[Setting, ...] = (
    Setting(
        "n_real", int, None,
        "Cap on the real reference images of distribution and nearest-real metrics (default: the profile's n_real)",
        minimum=1,
    ),
)


def declared_settings(item: Any, word: str) -> tuple[Setting, ...]:
    """``item.settings``, checked to be a tuple of :class:`Setting` with distinct names
    that are not the runner's. Raises :class:`GanbenchError` naming the plugin."""
    name = getattr(item, "name", type(item).__qualname__)
    declared = getattr(item, "settings", ())
    problem = settings_problem(declared)
    if problem:
        raise GanbenchError(
            f"{word} {name!r} declares its settings wrongly ({problem}); fix its plugin "
            f"(ganbench.testing.check_{word.replace(' ', '_')} checks it) or leave it out with --no-plugin"
        )
    return tuple(declared)


def settings_problem(declared: Any) -> Optional[str]:
    """Why ``declared`` is not a valid ``settings`` declaration, or None."""
    if not isinstance(declared, tuple):
        return f"settings must be a tuple of ganbench.settings.Setting, got {type(declared).__name__}"
    wrong = [s for s in declared if not isinstance(s, Setting)]
    if wrong:
        return f"settings must hold ganbench.settings.Setting declarations, got {wrong[0]!r}"
    names = [s.name for s in declared]
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        return f"settings declares {', '.join(repeated)} more than once"
    taken = sorted(set(names) & (set(RESERVED) | {s.name for s in RUNNER_SETTINGS}))
    if taken:
        return f"settings declares {', '.join(taken)}, which the runner sets"
    return None


def validate_settings(
    declared: Mapping[str, Sequence[tuple[str, Setting]]],
    raw: Mapping[str, Any],
    origin: str = "--metric-setting",
) -> dict[str, Any]:
    """Check ``raw`` settings against their declarations and type them.

    ``declared``: setting name -> ``(owner, Setting)`` pairs, the owner a phrase such as
    ``"metric 'fid'"``; a name several plugins declare must satisfy each of them.
    ``raw``: name -> a command-line string or a Python value. ``origin`` names where
    the values came from in the message. Returns name -> typed value, leaving out the
    values equal to every declaration's default. Raises :class:`GanbenchError`, one
    line naming every unknown key (with a close match and the valid keys) and every
    invalid value (with its key, the value and what was expected).
    """
    valid = sorted(declared)
    problems, typed = [], {}
    for key, value in raw.items():
        if key in RESERVED:
            problems.append(f"{key} cannot be set: {RESERVED[key]}")
            continue
        if key not in declared:
            close = difflib.get_close_matches(key, valid, n=1)
            hint = f" (did you mean {close[0]}?)" if close else ""
            problems.append(f"no metric or classifier of this run takes {key!r}{hint}")
            continue
        values = []
        for owner, setting in declared[key]:
            try:
                values.append(setting.parse(value))
            except ValueError as exc:
                problems.append(f"{key}={value!r}: {exc} ({setting.description}; read by {owner})")
                break
        else:
            if any(v != s.default for v, (_, s) in zip(values, declared[key])):
                typed[key] = values[0]
    if problems:
        listing = ", ".join(valid) or "none"
        raise GanbenchError(
            f"{origin}: {'; '.join(problems)}. Valid settings: {listing} "
            "(`ganbench list metrics --json` and `ganbench list classifiers --json` describe them)"
        )
    return typed


def settings_of(registry: "Registry", metrics: Iterable[str], classifiers: Iterable[str]) -> dict[str, list[tuple[str, Setting]]]:
    """name -> ``(owner, Setting)`` for the runner's settings and those the named
    metrics and classifiers declare. Raises ``UnknownNameError`` for an unknown name
    and :class:`GanbenchError` for a malformed declaration."""
    declared: dict[str, list[tuple[str, Setting]]] = {s.name: [("the runner", s)] for s in RUNNER_SETTINGS}
    for kind, word, names in (("metrics", "metric", metrics), ("classifiers", "classifier", classifiers)):
        for name in dict.fromkeys(names):
            for setting in declared_settings(registry.get(kind, name), word):
                declared.setdefault(setting.name, []).append((f"{word} {name!r}", setting))
    return declared


def validate_metric_settings(
    registry: "Registry",
    metrics: Iterable[str],
    classifiers: Iterable[str],
    raw: Mapping[str, Any],
    origin: str = "--metric-setting",
) -> dict[str, Any]:
    """:func:`validate_settings` against what the runner, ``metrics`` and
    ``classifiers`` declare; the typed values (defaults left out)."""
    return validate_settings(settings_of(registry, metrics, classifiers), raw, origin)


def resolve_metric_settings(
    registry: "Registry",
    suite: "Suite",
    profile: str,
    classifiers: Sequence[str],
    overrides: Mapping[str, str],
) -> dict[str, Any]:
    """The metric settings of a run, typed: the suite profile's ``metric_settings``
    with ``overrides`` (``--metric-setting``) over them. Call before loading data or
    training. Raises :class:`GanbenchError` naming the suite and profile when the
    suite's own settings are invalid, and ``--metric-setting`` when the user's are."""
    own = suite.profiles[profile]
    # The suite's settings are checked against every classifier the suite may run, so
    # a --classifiers choice never turns the suite's own settings into errors.
    # (Those a blocked plugin would have registered are left out: nothing reads them.)
    named = (*(own.classifiers or ()), *suite.classifiers)
    suite_classifiers = (*(c for c in named if ("classifiers", c) in registry), *classifiers)
    resolved = validate_metric_settings(
        registry, suite.metrics, suite_classifiers, own.metric_settings,
        origin=f"suite {suite.name!r}, profile {profile!r}, metric_settings",
    )
    given = validate_metric_settings(registry, suite.metrics, classifiers, overrides)
    for key in overrides:
        resolved.pop(key, None)  # an override at the default removes the suite's value
    return {**resolved, **given}


def describe_settings(item: Any) -> list[dict[str, Any]]:
    """``item.settings`` as records for ``ganbench list --json`` (empty if malformed:
    listing never fails; the run reports the malformed declaration)."""
    declared = getattr(item, "settings", ())
    return [s.as_dict() for s in declared] if settings_problem(declared) is None else []


# --------------------------------------------------------------------------- GAN settings

#: The hyperparameters the runner itself reads from every GAN (:class:`~ganbench.specs.GAN`):
#: the training length, in steps or in epochs (either replaces the other, so every GAN
#: takes both), and the batch size. Whole numbers of at least 1.
TRAINING_LENGTH = ("steps", "epochs")
RUNNER_HYPERPARAMETERS = (*TRAINING_LENGTH, "batch_size")


def gan_hyperparameters(registry: "Registry", gans: Iterable[str], profile: str) -> dict[str, dict[str, Any]]:
    """GAN name -> its hyperparameters at ``profile``. Raises ``UnknownNameError`` for an
    unknown GAN and :class:`GanbenchError` for a GAN without that profile."""
    return {name: registry.get("gans", name).hyperparameters(profile) for name in dict.fromkeys(gans)}


def parse_hyperparameter(key: str, raw: Any, default: Any) -> Any:
    """A ``--gan-setting`` string or a suite file's value -> the type of the GAN's own
    ``default`` for ``key``: ``int``, ``float`` (finite), ``bool``, ``str``, or a tuple
    (list) of as many items as the default has, each typed like the default's item. A
    default of None (the plugin decides) takes an integer, a number, true/false or a
    word. The runner's keys (:data:`RUNNER_HYPERPARAMETERS`) are whole numbers of at
    least 1. Raises ``ValueError`` saying what was expected."""
    if key in RUNNER_HYPERPARAMETERS:
        return Setting(key, int, None, "the runner's", minimum=1).parse(raw)
    if isinstance(default, (tuple, list)):
        items = [w.strip() for w in raw.split(",")] if isinstance(raw, str) else raw
        if not isinstance(items, (tuple, list)) or len(items) != len(default):
            raise ValueError(f"expected {len(default)} comma-separated values like {','.join(map(str, default))}")
        try:
            typed = [parse_hyperparameter("item", item, item_default) for item, item_default in zip(items, default)]
        except ValueError:
            raise ValueError(f"expected {len(default)} comma-separated values like {','.join(map(str, default))}") from None
        return type(default)(typed)
    if default is None:
        for kind in (int, float, bool, str):  # "1" is the integer 1, not true
            try:
                return Setting("value", kind, None, "a value").parse(raw)
            except ValueError:
                pass
        raise ValueError("expected an integer, a number, true or false, or a word")
    kind = type(default) if type(default) in (bool, int, float, str) else None
    if kind is None:
        raise ValueError(f"cannot be set: its default {default!r} is no number, word or list of them")
    return Setting("value", kind, None, "a value").parse(raw)


def validate_gan_settings(
    registry: "Registry",
    gans: Sequence[str],
    profile: str,
    raw: Mapping[str, Any],
    origin: str = "--gan-setting",
    scope: str = "run",
) -> dict[str, dict[str, Any]]:
    """Check GAN hyperparameter overrides (``--gan-setting KEY=VALUE``, a suite file's
    ``gan_overrides``) against the hyperparameters ``gans`` have at ``profile``.

    A key applies to every GAN of ``gans`` that has it; ``steps`` and ``epochs`` (and
    ``batch_size``) to all of them. Returns GAN name -> key -> value typed as that GAN's
    default (:func:`parse_hyperparameter`); a GAN none of the keys applies to is left
    out. Raises :class:`GanbenchError`, one line naming every key no GAN has (with a
    close match and the valid keys) and every invalid value (with what was expected and
    the GAN whose default it was checked against); ``scope`` is what the GANs are the
    GANs of in the message ("run", "suite")."""
    hparams = gan_hyperparameters(registry, gans, profile)
    valid = sorted({key for own in hparams.values() for key in own} | set(RUNNER_HYPERPARAMETERS))
    problems: list[str] = []
    if all(unit in raw for unit in TRAINING_LENGTH):
        # One replaces the other (cell.gan_hparams): both given, one would silently lose.
        problems.append("give the training length once, as steps or as epochs, not both")
    typed: dict[str, dict[str, Any]] = {}
    for key, value in raw.items():
        if key not in valid:
            close = difflib.get_close_matches(key, valid, n=1)
            hint = f" (did you mean {close[0]}?)" if close else ""
            problems.append(f"no GAN of this {scope} ({', '.join(hparams)}) has a hyperparameter {key!r}{hint}")
            continue
        for gan, own in hparams.items():
            if key not in own and key not in RUNNER_HYPERPARAMETERS:
                continue
            try:
                typed.setdefault(gan, {})[key] = parse_hyperparameter(key, value, own.get(key))
            except ValueError as exc:
                default = f"; {gan}'s default at profile {profile}: {own[key]!r}" if key in own else ""
                problems.append(f"{key}={value!r}: {exc}{default}")
                break
    if problems:
        raise GanbenchError(f"{origin}: {'; '.join(problems)}. Valid keys: {', '.join(valid)}")
    return typed
