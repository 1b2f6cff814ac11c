"""``ganbench suites show NAME``: a suite's GANs, data, metrics and profiles, as plain
lines, or with ``--toml`` as a suite file to start one's own from
(docs/suite-files.md)."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import click

from .errors import GanbenchError
from .registry import Provenance
from .specs import ProfileSettings, Suite
from .suite_file import resolve_suite, suite_file_origin
from .suite_file_writer import suite_to_toml


@click.group("suites")
def suites_group():
    """Show suites, and write them as suite files (`ganbench list suites` lists them)."""


@suites_group.command("show")
@click.argument("name")
@click.option("--toml", "as_toml", is_flag=True, help="Print the suite as a suite file that `ganbench run --suite FILE.toml` reads back.")
@click.pass_context
def show_command(ctx, name, as_toml):
    """Show suite NAME (a registered suite, or a suite file, which is checked)."""
    registry = ctx.find_root().obj.registry
    suite = resolve_suite(registry, name)
    if as_toml:
        try:
            text = suite_to_toml(suite)
        except ValueError as exc:
            raise GanbenchError(f"suite {suite.name!r} cannot be written as a suite file: {exc}") from None
        click.echo(text, nl=False)
        return
    click.echo("\n".join(summary_lines(suite, suite_file_origin(registry, suite.name), name)))


def _names(names) -> str:
    return ", ".join(names) if names else "none"


def _pairs(mapping) -> str:
    return ", ".join(f"{k}={','.join(map(str, v)) if isinstance(v, tuple) else v}" for k, v in mapping.items())


def _profile_line(name: str, settings: ProfileSettings, suite: Suite) -> str:
    parts = [
        f"{settings.image_size} px", f"{settings.channels} channel(s)", f"{settings.seeds} seed(s)",
        f"n_fake {settings.n_fake}", f"n_real {settings.n_real}",
    ]
    if settings.gans:
        parts.append(f"GANs {_names(settings.gans)}")
    if settings.classifiers:
        parts.append(f"classifiers {_names(settings.classifiers)}")
    if settings.train_images:
        parts.append(f"train_images {settings.train_images}")
    if settings.metric_settings:
        parts.append(f"metric settings {_pairs(settings.metric_settings)}")
    if settings.gan_overrides:
        parts.append(f"GAN overrides {_pairs(settings.gan_overrides)}")
    default = " (default)" if name == suite.default_profile else ""
    return f"profile {name}{default}: " + "; ".join(parts)


def summary_lines(suite: Suite, origin: Optional[Provenance] = None, given: str = "") -> list[str]:
    """One line per fact, never wrapped: grep-able. ``given``: how the user named the
    suite (a file's path), for the closing hint."""
    lines = [f"suite {suite.name}: {suite.description}"]
    if origin is not None:
        lines.append(f"file: {origin.distribution} (content sha256 {origin.version})")
    if suite.source:
        lines.append(f"source: {suite.source}")
    data = _names(suite.datasets) + (" (or --data PATH)" if suite.takes_data else "")
    lines += [
        f"GANs: {_names(suite.gans)}",
        f"datasets: {data}",
        f"metrics: {_names(suite.metrics)}",
        f"classifiers: {_names(suite.classifiers)}",
    ]
    if suite.class_task:
        lines.append(f"class task: {suite.class_task}")
    training = "one GAN per class for unconditional GANs" if suite.unconditional_per_class else "one GAN on every class"
    lines.append(f"training: {training}")
    if suite.translation_source:
        lines.append(f"translation source: {suite.translation_source}")
    for name, settings in suite.profiles.items():
        lines.append(_profile_line(name, settings, suite))
        for variant in settings.variants:
            overrides = _pairs({k: v for k, v in variant.overrides().items() if not isinstance(v, dict)})
            extra = [overrides] if overrides else []
            for word, mapping in (("metric settings", variant.metric_settings), ("GAN overrides", variant.gan_overrides)):
                if mapping:
                    extra.append(f"{word} {_pairs(mapping)}")
            if variant.gans:
                extra.append(f"GANs {_names(variant.gans)}")
            if variant.metrics:
                extra.append(f"metrics {_names(variant.metrics)}")
            lines.append(f"  variant {variant.name}: " + ("; ".join(extra) or "the profile's settings"))
    if suite.paper:
        lines.append(f"paper: {suite.paper}")
    if suite.data_note:
        lines.append(f"data: {suite.data_note}")
    if origin is None:
        lines.append(f"as a suite file: ganbench suites show {suite.name} --toml > my-suite.toml")
    else:
        # Never a hint that redirects into the file being read: the shell empties it first.
        target = f"{suite.name}-full.toml"
        if given and Path(given).name == target:
            target = f"{suite.name}-full-copy.toml"
        lines.append(f"as a suite file with every field written out: ganbench suites show {given or suite.name} --toml > {target}")
    return lines
