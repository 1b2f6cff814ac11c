"""The evaluation protocols as markdown, rendered from the registry.

Every metric states its own protocol (:attr:`ganbench.specs.Metric.protocol`); this module
puts those statements, the suites' profiles and the runner's rules into one document, so
``docs/protocols.md`` can never drift from the code that computes the numbers (a test
renders it again and compares).
"""

from __future__ import annotations

from tabulate import tabulate

from .registry import Registry

RUNNER_RULES = """\
## How a cell is run

A suite expands into cells, one per dataset x GAN x seed, and x variant where a profile
sweeps (a variant overrides image size, training-set size, epochs, generated count,
classifier epochs, class task, GANs or metrics; its overrides enter the config hash).
Each cell:

1. loads the dataset once per run at the cell's image size and channel count (and class
   task: `tumour-vs-normal` merges every tumour class against the no-tumour one); its
   train/test split is fixed by the dataset (never by the run seed), so every seed and
   every GAN is tested on the same real images;
2. seeds torch with the run seed and builds the GAN. An unconditional GAN is trained once
   per class (as BrainGAN and IJACSA train theirs) unless the suite says otherwise, so its
   samples carry class labels; a conditional GAN is trained once;
3. trains for the GAN's steps or epochs at the profile (the suite may override them for
   every GAN at a profile); the batch order is drawn from a generator seeded by the run
   seed;
4. draws `n_fake` class-balanced samples from a generator seeded by the run seed and
   stores a checkpoint (safetensors), a sample grid, the loss history and the config;
5. evaluates every metric of the suite on those samples; downstream metrics run once
   per classifier of the suite.

A cell's config hash covers everything that can change its numbers (GAN
hyperparameters, dataset fingerprint, seed, profile, sizes, metric and classifier
settings). A cell already finished with the same hash is skipped; `--force` runs it
again and adds rows beside the old ones, which the store never changes or deletes.
"""


DATA_RULES = """\
## Datasets

`--data PATH` runs a suite on a folder; the dataset plugin that reads it is detected
from the layout (`ganbench data detect PATH` shows every plugin's verdict) or named with
`--dataset`. Every reader:

* converts to 8-bit grey (colour by ITU-R 601 luma, alpha over black, 16-bit and float
  data by their own range; volumes by a per-volume or per-series window), optionally
  crops the dark border, centre-crops to a square and resizes (LANCZOS down, BICUBIC
  up); pixels are scaled to [-1, 1] only for the networks;
* splits deterministically with a fixed seed (0), never the run seed: the dataset's own
  Training/Testing folders when it has them, else a stratified split of each class
  (`test_fraction`, 0.2 by default; `80/20` and `70/30` name the papers' ratios), and
  **by patient** whenever patient identity is known (NIfTI volumes, DICOM PatientID), so
  no patient has images on both sides;
* checks the splits for exact (identical pixels) and near (difference hash) duplicates
  and reports them with the data (`dedupe=exact|near` drops the test copies); a split
  ganbench makes itself keeps exact copies on the training side;
* skips unreadable, empty, hidden and unknown files and counts each by reason in the
  run's notes and `ganbench data inspect`; nothing is dropped silently.

DICOM is de-identified before anything leaves memory: patients become salted hashes,
no tag value or file path is logged or stored. Text burned into pixels cannot be
detected.
"""


def render_protocols(registry: Registry) -> str:
    out = [
        "# Evaluation protocols",
        "",
        "Generated from the registered plugins by `ganbench protocols`; do not edit by hand.",
        "",
        RUNNER_RULES,
        "## Metrics",
    ]
    for metric, origin in registry.items("metrics"):
        out += [
            "",
            f"### `{metric.name}`",
            "",
            f"{metric.description}. Kind: {metric.kind}; {metric.direction} is better; "
            f"result keys: {', '.join(f'`{k}`' for k in metric.result_keys)}"
            + (f"; also per class as {', '.join(f'`{k}[<class>]`' for k in metric.per_class_keys)}" if metric.per_class_keys else "")
            + ".",
            "",
            metric.protocol or "(no protocol stated by the plugin)",
            "",
            f"Source: {metric.source or 'not stated'}. Plugin: {origin.plugin} ({origin.distribution}).",
        ]
    out += ["", DATA_RULES]
    rows = [
        [f"`{d.name}`", d.description, "; ".join(f"`{k}`: {v}" for k, v in d.options.items()) or "—"]
        for d, _ in registry.items("datasets")
    ]
    out += [tabulate(rows, headers=["dataset", "what it reads", "options (`--data-option KEY=VALUE`)"], tablefmt="github")]
    out += ["", "## Suites and their profiles"]
    for suite, _ in registry.items("suites"):
        rows = [
            [
                profile,
                f"{s.image_size} px",
                s.channels,
                s.seeds,
                s.n_fake,
                s.n_real,
                ", ".join(f"{k}={v}" for k, v in sorted(s.metric_settings.items())) or "—",
                ", ".join(f"{k}={v}" for k, v in sorted(s.gan_overrides.items())) or "—",
                ", ".join(s.gans or suite.gans),
            ]
            for profile, s in suite.profiles.items()
        ]
        out += [
            "",
            f"### `{suite.name}`",
            "",
            f"{suite.description}. Datasets: {', '.join(suite.datasets)}"
            + (" (or any dataset folder given with `--data PATH`, its layout detected)" if suite.takes_data else "")
            + f"; metrics: {', '.join(suite.metrics)}; classifiers: {', '.join(suite.classifiers) or 'none'}.",
            "",
            tabulate(
                rows,
                headers=["profile", "image size", "channels", "seeds", "n_fake", "n_real (cap)", "metric settings", "GAN overrides", "GANs"],
                tablefmt="github",
                disable_numparse=True,
            ),
        ]
        if suite.class_task:
            out += ["", f"Class task: `{suite.class_task}` (a variant may override it)."]
        for profile, s in suite.profiles.items():
            if s.variants:
                listed = "; ".join(
                    f"`{v.name}`" + (f" ({', '.join(f'{k}={x}' for k, x in v.overrides().items())}" + (f", GANs {', '.join(v.gans)}" if v.gans else "") + (f", metrics {', '.join(v.metrics)}" if v.metrics else "") + ")")
                    for v in s.variants
                )
                out += ["", f"Variants at `{profile}`: {listed}."]
    return "\n".join(out) + "\n"
