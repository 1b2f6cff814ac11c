"""The ``ganbench`` command line."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Optional, Sequence

import click
from rich.console import Console
from rich.markup import escape

from . import __version__
from .data_cli import data_group, parse_options
from .errors import GanbenchError
from .leaderboard.aggregate import aggregate
from .leaderboard.assets import write_assets
from .leaderboard.comparison import registered_references
from .leaderboard.render import render_markdown
from .leaderboard.paper_report import render_paper_report, report_records
from .leaderboard.tables_out import to_csv, to_json
from .listing import plain_option, show_listing
from .plugins import Plugins, load_plugins
from .progress import RichProgress
from .protocols import render_protocols
from .registry import KINDS
from .results.export import load_rows, write_rows
from .results.store import DEFAULT_RESULTS_DIR
from .runner.checkpointing import DEFAULT_EVERY
from .runner.executors import EXECUTORS, LocalExecutor
from .runner.suite_run import CellOutcome, RunRequest, run_suite
from .runner.external import ExternalRequest, evaluate_external
from .settings import describe_settings
from .tracking import TRACKERS, make_tracker
from .suite_file import resolve_suite, rows_of_this_version, suite_file_note, suite_file_origin
from .suites_cli import suites_group
from .specs import PROFILES

console = Console()
err_console = Console(stderr=True)


def blocked_plugins(argv: Sequence[str]) -> list[str]:
    """``--no-plugin`` values, read before click parses anything: plugins are loaded
    first because they may add commands."""
    blocked = []
    for i, arg in enumerate(argv):
        if arg == "--no-plugin" and i + 1 < len(argv):
            blocked.append(argv[i + 1])
        elif arg.startswith("--no-plugin="):
            blocked.append(arg.split("=", 1)[1])
    return blocked


def plugins_of(ctx: click.Context) -> Plugins:
    return ctx.find_root().obj


class ReportedError(click.ClickException):
    """A :class:`GanbenchError` shown as a message, not a traceback."""

    exit_code = 2


class GanbenchGroup(click.Group):
    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except GanbenchError as exc:
            raise ReportedError(str(exc)) from exc


@click.group(cls=GanbenchGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="ganbench")
@click.option("--no-plugin", "no_plugin", multiple=True, metavar="NAME", help="Do not load this plugin or distribution (repeatable).")
@click.pass_context
def cli(ctx: click.Context, no_plugin):
    """Benchmark GAN variants for synthetic brain MRI and compare with published numbers."""
    if ctx.obj is None:  # invoked without main(), e.g. by click's test runner
        ctx.obj = load_plugins(blocked=no_plugin)


@cli.command()
@click.option("--suite", required=True, help="Suite name (see `ganbench list suites`), or a suite file FILE.toml (docs/suite-files.md).")
@click.option("--profile", type=click.Choice(PROFILES), default=None, help="smoke (CPU minutes), quick (one GPU), paper (papers' settings). Default: the suite's.")
@click.option("--data", type=click.Path(path_type=Path), default=None, help="Run on this dataset folder instead of the embedded default; its layout is detected (see `ganbench data inspect`).")
@click.option("--dataset", default=None, help="The dataset plugin that reads --data (default: detected from the folder).")
@click.option("--data-option", "data_options", multiple=True, metavar="KEY=VALUE", help="An option of the dataset plugin, e.g. class_map=tumor=glioma_tumor+meningioma_tumor+pituitary_tumor,normal=no_tumor (repeatable; `ganbench data options NAME` lists them).")
@click.option("--metric-setting", "metric_settings", multiple=True, metavar="KEY=VALUE", help="A metric setting over the profile's, e.g. fidelity_bootstrap=1000 (bootstrap 95% intervals for FID and KID) or memorization_spaces=pixels,inception (repeatable; `ganbench protocols` lists each profile's).")
@click.option("--gan-setting", "gan_settings", multiple=True, metavar="KEY=VALUE", help="A hyperparameter of every GAN of the run that has it, over the suite's, e.g. steps=4 or batch_size=8 for a cheap local run (repeatable; steps and epochs replace each other; `ganbench list gans --json` lists each GAN's).")
@click.option("--gans", default=None, help="Comma-separated GAN names (default: the suite's).")
@click.option("--classifiers", default=None, help="Comma-separated downstream classifiers (default: the profile's).")
@click.option("--seeds", type=click.IntRange(1), default=None, help="Number of seeds (0..N-1). Default: the profile's.")
@click.option("--device", default="auto", show_default=True, help="auto, cpu, cuda or cuda:N.")
@click.option("--results", "results_dir", type=click.Path(path_type=Path), default=DEFAULT_RESULTS_DIR, show_default=True, help="Results directory (SQLite store, artifacts, leaderboard).")
@click.option("--force", is_flag=True, help="Run finished cells again (adds rows; never deletes).")
@click.option("--leaderboard/--no-leaderboard", default=True, show_default=True, help="Write RESULTS/leaderboard-SUITE.md afterwards.")
@click.option("--checkpoint-every", type=click.IntRange(0), default=DEFAULT_EVERY, show_default=True, help="Training steps between checkpoints (0: only the final one); a re-run resumes from the last.")
@click.option("--executor", type=click.Choice(EXECUTORS), default="local", show_default=True, help="local: cells one after another here; ray: each cell a Ray task (pip install \"ganbench[ray]\"; see docs/distributed.md).")
@click.option("--ray-address", default=None, metavar="ADDRESS", help="With --executor ray: join this running Ray cluster (default: start one over this machine's GPUs and CPUs).")
@click.option("--gpus-per-cell", type=click.FloatRange(0), default=None, help="With --executor ray: GPUs per cell, fractions share one (default: 1 when the Ray cluster has GPUs and --device is not cpu, else 0).")
@click.option("--cpus-per-cell", type=click.FloatRange(0, min_open=True), default=1, show_default=True, help="With --executor ray: CPUs per cell (torch threads per task).")
@click.option("--ray-retries", type=click.IntRange(0), default=1, show_default=True, help="With --executor ray: how often a cell whose worker died is run again (it resumes from its checkpoint).")
@click.option("--track", type=click.Choice(TRACKERS), default=None, help="Also log every cell to MLflow: its config, per-step losses, scores, sample grid and loss plot, one run per cell under one run per invocation (pip install \"ganbench[mlflow]\"; see docs/tracking.md).")
@click.option("--tracking-uri", default=None, metavar="URI", help="With --track: the MLflow tracking URI (default: $MLFLOW_TRACKING_URI, else a store in the results folder, RESULTS/mlflow/mlflow.db).")
@click.pass_context
def run(ctx, suite, profile, data, dataset, data_options, metric_settings, gan_settings, gans, classifiers, seeds, device, results_dir, force, leaderboard,
        checkpoint_every, executor, ray_address, gpus_per_cell, cpus_per_cell, ray_retries, track, tracking_uri):
    """Train, sample and evaluate every cell of a suite; skip cells already finished."""
    plugins = plugins_of(ctx)
    request = RunRequest(
        suite=suite,
        profile=profile,
        data=data,
        dataset=dataset,
        data_options=parse_options(data_options),
        metric_settings=parse_options(metric_settings, "--metric-setting"),
        gan_settings=parse_options(gan_settings, "--gan-setting"),
        gans=name_list(gans, "--gans", "gans"),
        classifiers=name_list(classifiers, "--classifiers", "classifiers"),
        seeds=seeds,
        device=device,
        results_dir=results_dir,
        force=force,
        checkpoint_every=checkpoint_every,
        executor=make_executor(executor, ray_address, gpus_per_cell, cpus_per_cell, ray_retries, device),
        tracker=make_tracker(track, tracking_uri, results_dir),
    )
    started = time.perf_counter()
    progress = RichProgress(err_console)

    def say(line: str, marked: Optional[str] = None) -> None:
        """At a terminal ``marked`` (rich markup) or ``line``; in a log (a file, a pipe)
        ``line`` as a timestamped line like the stages' (ganbench.progress)."""
        if progress.plain:
            progress.log(line)
        else:
            err_console.print(marked or line, highlight=False)

    def report(outcome: CellOutcome):
        style = {"ran": "green", "skipped": "dim", "failed": "red"}[outcome.status]
        head = f"{outcome.status:>7} {outcome.cell.key} (run {outcome.run_id})"
        # In a log the error stays on the cell's line, so that grepping the key finds it.
        error = f": {outcome.error}" if outcome.error else ""
        say(head + error, f"[{style}]{outcome.status:>7}[/{style}]{escape(head[7:])}" + (f"\n         {escape(outcome.error)}" if outcome.error else ""))

    with progress:
        summary = run_suite(plugins.registry, request, progress, on_cell=report)
    elapsed = time.perf_counter() - started
    say(
        f"{summary.count('ran')} cell(s) ran, {summary.count('skipped')} skipped (finished earlier), "
        f"{summary.count('failed')} failed in {elapsed:.0f} s; results in {results_dir / 'results.sqlite'}"
    )
    if leaderboard:
        # summary.suite: the suite's name, also when --suite named a suite file.
        out = results_dir / f"leaderboard-{summary.suite}.md"
        write_leaderboard(plugins, summary.suite, results_dir, out)
        say(f"leaderboard: {out}")
    if summary.count("failed"):
        sys.exit(1)


def make_executor(name: str, address, gpus_per_cell, cpus_per_cell, retries, device: str = "auto"):
    """The executor ``--executor`` names; Ray's options are refused without it."""
    if name == "local":
        given = {"--ray-address": address, "--gpus-per-cell": gpus_per_cell}
        stray = [flag for flag, value in given.items() if value is not None]
        if stray:
            raise GanbenchError(f"{', '.join(stray)}: only with --executor ray")
        return LocalExecutor()
    from .runner.ray_executor import RayExecutor, import_ray

    import_ray()  # the message about the missing extra before any data is loaded
    return RayExecutor(address=address, gpus_per_cell=gpus_per_cell, cpus_per_cell=cpus_per_cell, retries=retries, device=device)


def name_list(raw: Optional[str], flag: str, kind: str) -> Optional[list[str]]:
    """``"a, b"`` -> ``["a", "b"]``; None when the option was not given. An empty value
    (``--gans ""``) is an error, not the suite's default: it would start every GAN."""
    if raw is None:
        return None
    names = [name.strip() for name in raw.split(",") if name.strip()]
    if not names:
        raise GanbenchError(f"{flag} is empty: give comma-separated names (`ganbench list {kind}`), or leave {flag} out for the suite's")
    return names


FORMATS = ("markdown", "csv", "json")


def write_leaderboard(
    plugins: Plugins, suite: str, source: Path, out: Optional[Path], fmt: str = "markdown", export: Optional[Path] = None
) -> str:
    """Render a suite's leaderboard from a results directory or an exported .jsonl file.
    Markdown written to ``out`` links pictures in the folder ``out`` names without its
    suffix; they are drawn from the artifacts when ``source`` is a results directory."""
    suite_spec = resolve_suite(plugins.registry, suite)  # a name, or a suite file
    # A suite file's leaderboard: the rows of the file's current content only.
    rows = rows_of_this_version(load_rows(source, suite_spec.name), suite_file_origin(plugins.registry, suite_spec.name))
    tables = aggregate(rows, plugins.registry)
    if export is not None:
        write_rows(rows, export)
    if fmt == "csv":
        text = to_csv(tables)
    elif fmt == "json":
        text = to_json(tables, plugins.registry)
        if suite_spec.paper:
            document = json.loads(text)
            document["paper_report"] = report_records(suite_spec, tables, plugins.registry)
            text = json.dumps(document, indent=2, sort_keys=True) + "\n"
    else:
        assets = out.with_suffix("") if out else None
        if assets is not None:
            # From a .jsonl export: the figures from the rows, the strip from grids already in `assets`.
            write_assets(tables, source if source.is_dir() else None, assets, plugins.registry)
        text = render_markdown(tables, plugins.registry, assets.name if assets else None)
        if suite_spec.paper:
            # A paper's suite opens with the paper's own tables and claims, ours beside them.
            text = render_paper_report(suite_spec, tables, plugins.registry) + "\n" + text
        origin = suite_file_origin(plugins.registry, suite_spec.name)
        if origin is not None:  # the leaderboard names the suite file, under its title
            title, _, rest = text.partition("\n")
            text = f"{title}\n\n{suite_file_note(origin)}\n{rest}"
    if out:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(text)
    return text


@cli.command("leaderboard")
@click.option("--suite", required=True, help="Suite name, or the suite file FILE.toml the run used.")
@click.option("--results", "source", type=click.Path(path_type=Path), default=DEFAULT_RESULTS_DIR, show_default=True, help="A results directory, or a .jsonl file written by --export.")
@click.option("--out", type=click.Path(path_type=Path), default=None, help="Write here instead of printing; markdown's pictures go to the folder of the same name without the suffix.")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="markdown", show_default=True, help="csv and json: one record per GAN x result key x classifier (json adds the papers' numbers and rankings).")
@click.option("--export", type=click.Path(path_type=Path), default=None, help="Also write the suite's result rows to this .jsonl file (what a published leaderboard is rendered from).")
@click.pass_context
def leaderboard_command(ctx, suite, source, out, fmt, export):
    """Render the leaderboard of a suite from the results store."""
    text = write_leaderboard(plugins_of(ctx), suite, source, out, fmt, export)
    if out is None:
        click.echo(text, nl=False)
    else:
        err_console.print(f"wrote {out}")


@cli.command("evaluate")
@click.option("--suite", required=True, help="Suite name (see `ganbench list suites`) or suite file FILE.toml: its metrics, data and profile.")
@click.option("--samples", required=True, type=click.Path(path_type=Path), help="Folder of your GAN's images: one sub-folder per class (named after the data's classes, e.g. glioma/, no_tumor/), or the images directly (one class, or unconditional).")
@click.option("--name", required=True, help="Your GAN's name in the results and leaderboard (lower-kebab, not a GAN ganbench has); shown as 'NAME (external)'.")
@click.option("--profile", type=click.Choice(PROFILES), default=None, help="The profile whose settings (image size, n_fake, n_real, metric settings) apply. Default: the suite's.")
@click.option("--variant", default=None, help="The suite variant the samples were made for (needed when the profile has variants).")
@click.option("--class", "class_name", default=None, help="For a folder of images without class sub-folders: the class they all are.")
@click.option("--data", type=click.Path(path_type=Path), default=None, help="Compare with this dataset folder instead of the suite's default data (as `ganbench run --data`).")
@click.option("--dataset", default=None, help="The dataset plugin that reads --data (default: detected from the folder).")
@click.option("--data-option", "data_options", multiple=True, metavar="KEY=VALUE", help="An option of the dataset plugin (repeatable; `ganbench data options NAME` lists them).")
@click.option("--metric-setting", "metric_settings", multiple=True, metavar="KEY=VALUE", help="A metric setting over the profile's, e.g. classifier_epochs=1 (repeatable; `ganbench protocols` lists them).")
@click.option("--classifiers", default=None, help="Comma-separated downstream classifiers (default: the profile's).")
@click.option("--seed", type=click.IntRange(0), default=0, show_default=True, help="Seed of the metrics (classifier training, the draw of n_fake images when the folder holds more).")
@click.option("--device", default="auto", show_default=True, help="auto, cpu, cuda or cuda:N.")
@click.option("--results", "results_dir", type=click.Path(path_type=Path), default=DEFAULT_RESULTS_DIR, show_default=True, help="Results directory (SQLite store, artifacts, leaderboard).")
@click.option("--force", is_flag=True, help="Evaluate again even if these samples were evaluated with these settings (adds rows; never deletes).")
@click.option("--leaderboard/--no-leaderboard", default=True, show_default=True, help="Write RESULTS/leaderboard-SUITE.md afterwards.")
@click.pass_context
def evaluate_command(ctx, suite, samples, name, profile, variant, class_name, data, dataset, data_options, metric_settings, classifiers, seed, device, results_dir, force, leaderboard):
    """Evaluate images generated elsewhere (your own GAN) with every metric of a suite."""
    plugins = plugins_of(ctx)
    suite = resolve_suite(plugins.registry, suite).name  # a suite file is read and registered
    request = ExternalRequest(
        suite=suite,
        samples=samples,
        name=name,
        profile=profile,
        variant=variant,
        data=data,
        dataset=dataset,
        data_options=parse_options(data_options),
        metric_settings=parse_options(metric_settings, "--metric-setting"),
        classifiers=name_list(classifiers, "--classifiers", "classifiers"),
        class_name=class_name,
        seed=seed,
        device=device,
        results_dir=results_dir,
        force=force,
    )
    started = time.perf_counter()
    with RichProgress(err_console) as progress:
        outcome = evaluate_external(plugins.registry, request, progress)
    style = {"ran": "green", "skipped": "dim", "failed": "red"}[outcome.status]
    note = " (evaluated earlier with these samples and settings; --force evaluates again)" if outcome.status == "skipped" else ""
    line = f"[{style}]{outcome.status:>7}[/{style}] {outcome.cell_key} (run {outcome.run_id}){note}"
    if outcome.error:
        line += f"\n         {outcome.error}"
    err_console.print(line)
    if outcome.status != "skipped":
        err_console.print(f"{outcome.count} images of {name} evaluated in {time.perf_counter() - started:.0f} s; results in {results_dir / 'results.sqlite'}")
    if leaderboard:
        out = results_dir / f"leaderboard-{suite}.md"
        write_leaderboard(plugins, suite, results_dir, out)
        err_console.print(f"leaderboard: {out}")
    if outcome.status == "failed":
        sys.exit(1)


#: Fields of `list` that only --json shows.
TABLE_HIDDEN = ("plugin", "protocol", "settings", "hyperparameters")
LISTABLE = ("gans", "datasets", "metrics", "classifiers", "suites", "references")


@cli.command("list")
@click.argument("kind", type=click.Choice(LISTABLE))
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@plain_option
@click.pass_context
def list_command(ctx, kind, as_json, plain):
    """List registered GANs, datasets, metrics, classifiers, suites or references."""
    registry = plugins_of(ctx).registry
    records = [describe(kind, item, origin) for item, origin in registry.items(kind)]
    if as_json:
        click.echo(json.dumps(records, indent=2, default=str))
        return
    # The table stays readable in a terminal; --json has every field, provenance included.
    columns = [c for c in records[0] if c not in TABLE_HIDDEN] if records else ["name"]
    show_listing(console, f"{KINDS[kind][0]}s", columns, [[record[c] for c in columns] for record in records], plain or None)


def describe(kind: str, item, origin) -> dict:
    if kind == "references":
        return {**item.as_dict(), "plugin": f"{origin.plugin} ({origin.distribution} {origin.version})"}
    record = {"name": item.name, "description": item.description}
    if kind == "gans":
        record["kind"] = f"{item.kind}{', conditional' if item.conditional else ''}"
        # What --gan-setting and a suite file's gan_overrides may set (docs/suite-files.md).
        record["hyperparameters"] = gan_profiles(item)
    if kind == "metrics":
        record["keys"] = ", ".join(item.result_keys)
        record["better"] = item.direction
    if kind in ("metrics", "classifiers"):
        record["settings"] = describe_settings(item)
    if kind == "suites":
        record["gans"] = ", ".join(item.gans)
        record["metrics"] = ", ".join(item.metrics)
        record["profiles"] = ", ".join(item.profiles)
    record["source"] = getattr(item, "source", "")
    record["plugin"] = f"{origin.plugin} ({origin.distribution} {origin.version})".replace(" )", ")")
    return record


def gan_profiles(gan) -> dict:
    """Profile -> the GAN's hyperparameters there; a profile the GAN refuses is left out
    (listing never fails; a run at that profile reports it)."""
    out = {}
    for profile in PROFILES:
        try:
            out[profile] = gan.hyperparameters(profile)
        except Exception:  # a plugin's own error: the run names it
            continue
    return out


#: What `ganbench references` shows in a terminal; --json has every field.
REFERENCE_COLUMNS = ("paper", "table", "row", "column", "gan", "metric", "classifier", "value", "unit", "dataset_family")


@cli.command("references")
@click.option("--paper", default=None, help="Only this paper's numbers (an id from the paper column).")
@click.option("--gan", default=None, help="Only numbers about this GAN.")
@click.option("--json", "as_json", is_flag=True, help="Every field: protocol, sample counts, resolution, known protocol differences, notes.")
@plain_option
@click.pass_context
def references_command(ctx, paper, gan, as_json, plain):
    """The numbers the papers report, as the leaderboards compare them."""
    registry = plugins_of(ctx).registry
    found = registered_references(registry)
    papers = sorted({ref.paper for ref in found})
    if paper is not None and paper not in papers:
        raise GanbenchError(f"no references from paper {paper!r}; papers: {', '.join(papers)}")
    records = [ref.as_dict() for ref in found if paper in (None, ref.paper) and gan in (None, ref.gan)]
    if as_json:
        click.echo(json.dumps(records, indent=2))
        return
    rows = [[record[c] for c in REFERENCE_COLUMNS] for record in records]
    show_listing(console, f"{len(records)} reported numbers", REFERENCE_COLUMNS, rows, plain or None)


@cli.command("protocols")
@click.option("--out", type=click.Path(path_type=Path), default=None, help="Write markdown here instead of printing it.")
@click.pass_context
def protocols_command(ctx, out):
    """Print what every metric compares with what, and the suites' profiles (markdown)."""
    markdown = render_protocols(plugins_of(ctx).registry)
    if out is None:
        click.echo(markdown, nl=False)
    else:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(markdown)
        err_console.print(f"wrote {out}")


@cli.command("plugins")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@plain_option
@click.pass_context
def plugins_command(ctx, as_json, plain):
    """List loaded plugins: distribution, version, hooks and any load error."""
    infos = plugins_of(ctx).infos
    if as_json:
        click.echo(json.dumps([i.as_dict() for i in infos], indent=2))
        return
    rows = [[info.name, info.distribution, info.version, ", ".join(info.hooks), info.error] for info in infos]
    show_listing(console, "plugins", ("name", "distribution", "version", "hooks", "error"), rows, plain or None)


cli.add_command(data_group)
cli.add_command(suites_group)


def command_name(argv: Sequence[str]) -> Optional[str]:
    """The subcommand ``argv`` asks for (the first word that is no option or option value)."""
    skip = False
    for arg in argv:
        if skip:
            skip = False
        elif arg == "--no-plugin":
            skip = True
        elif not arg.startswith("-"):
            return arg
    return None


def warn_about_plugins(plugins: Plugins, argv: Sequence[str]) -> None:
    """One warning line when a plugin failed to load or register; `ganbench plugins`
    shows the details (so it does not warn)."""
    broken = sorted(info.name for info in plugins.infos if info.error)
    if broken and command_name(argv) != "plugins":
        err_console.print(
            f"[yellow]warning:[/yellow] {len(broken)} plugin(s) failed to load or register ({', '.join(broken)}); "
            "`ganbench plugins` shows why",
            highlight=False,
            soft_wrap=True,
        )


def main(argv: Optional[Sequence[str]] = None) -> None:
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        plugins = load_plugins(blocked=blocked_plugins(argv))
        warn_about_plugins(plugins, argv)
        plugins.manager.hook.register_commands(cli=cli)
        cli.main(args=argv, obj=plugins, standalone_mode=False)
    except KeyboardInterrupt:  # during start-up (importing torch, loading plugins)
        err_console.print("interrupted")
        sys.exit(130)
    except GanbenchError as exc:
        err_console.print(f"[red]error:[/red] {exc}")
        sys.exit(2)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except click.exceptions.Abort:
        err_console.print(
            "interrupted: finished cells are stored; re-run the same command to resume (the interrupted cell "
            "starts again, and what it had written is moved to abandoned/ in the results folder)"
        )
        sys.exit(130)
