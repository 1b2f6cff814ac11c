"""How does a cell's evaluation time grow with the sample size, metric by metric?

For each n of ``--sizes`` (default 100 200 400 800) the script builds an Evaluation of
n generated against n real training images (grayscale, ``--size`` px, 4 labelled
classes as in the brain-MRI data, deterministic smooth random images), with a held-out
test split of n/4 real images, ``n_real = n`` and
``memorization_spaces = (pixels, inception)``. It then times, one after the other on
that Evaluation:

1. the intermediates the metrics share through ``Evaluation.shared``, as rows of their
   own, so that no metric is charged for the others: the Inception features of the
   generated set and of the real reference set (``fidelity.generated_features`` /
   ``reference_features``; the real set's are really computed: the on-disk feature
   cache lives in a private temporary ``GANBENCH_CACHE_DIR`` and is emptied before each
   round), the Inception features of the held-out set (what memorisation's Inception
   space adds, ``fidelity.inception_features(..., cache=True)``), the nearest-real
   search (``similarity.nearest_real``), and FID/KID/precision-recall, which one shared
   call computes together (``fidelity.fidelity_scores``), with its formulas timed apart
   on the same features (ganbench's settings): FID's Fréchet distance
   (``frechet.frechet_distance``), KID and precision-recall (torch-fidelity's functions);
2. each metric's ``compute`` on the warmed Evaluation (looked up in the plugin
   registry): fid, kid, precision-recall, ssim, psnr, mse, ms-ssim, diversity-ms-ssim,
   memorization (with its pixel and Inception spaces again apart). The classifier
   metrics (tstr, trtr, trstr) train a network, they are not evaluation: only with
   ``--with-classifiers`` (``--classifier``, default small-cnn, 1 epoch).

The Inception passes dominate (about 15 images/s on a 2-core CPU). ``--skip-inception``
puts deterministic random stand-ins (N x 2048 float32) into the Evaluation's shared
cache under the keys the real functions use (``inception-generated``,
``inception-reference``) and gives memorisation a stand-in for the held-out set's
features (``Memorization(inception_features=...)``): the Inception rows are reported as
skipped, everything downstream is timed on the real shapes.

Each time is the minimum over ``--repeat`` rounds; every round builds a new Evaluation
(fresh shared cache) of the same images. The table gives the seconds at each n, the
fitted exponent b (least-squares slope of log time against log n) and an extrapolation
to the brain-mri paper profile (the header states the rule); '!' marks the non-Inception
parts whose extrapolated time exceeds the generated set's Inception pass, which every
cell pays (with ``--skip-inception``: that pass estimated at ``--inception-images-per-s``).
On a shared machine single timings move by tens of percent: use ``--repeat 3`` and the default sizes before reading the exponents.
Run: ``python benchmarks/bench_scaling.py [--sizes 100 200 400 800] [--size 64]
[--repeat 1] [--device cpu] [--skip-inception] [--with-classifiers]``.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import platform
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Callable, Optional

import numpy as np
import torch

# benchmarks/ is on sys.path when a script in it runs.
from _images import smooth_images

CLASS_NAMES = ("glioma_tumor", "meningioma_tumor", "no_tumor", "pituitary_tumor")
FEATURE_DIM = 2048
#: The brain-mri suite's paper profile; the held-out set keeps this script's n/4 ratio.
PAPER = {"nf": 2800, "nr": 10000, "nh": 2500, "size": 128}
#: torch-fidelity's KID subset cap (fidelity.KID_SUBSET_SIZE), for the KID driver.
KID_CAP = 1000


# --------------------------------------------------------------------------- data


def stand_in_features(n: int, seed: int) -> torch.Tensor:
    """Deterministic N x 2048 float32 features, non-negative like pool3 activations."""
    return torch.rand((n, FEATURE_DIM), generator=torch.Generator().manual_seed(seed))


def class_labels(n: int) -> torch.Tensor:
    return torch.arange(n) % len(CLASS_NAMES)


class Images:
    """The images of one n: the same tensors for every round."""

    def __init__(self, n: int, size: int):
        self.n, self.n_held = n, max(len(CLASS_NAMES), n // 4)
        self.real = smooth_images(n, size, seed=0, blobs=6)
        self.fake = smooth_images(n, size, seed=1, blobs=5)
        self.test = smooth_images(self.n_held, size, seed=2, blobs=6)


def make_evaluation(images: Images, device: torch.device, workdir: Path):
    from ganbench.specs import Evaluation, ImageSplit, LoadedData, SilentProgress

    n, size = images.n, images.real.shape[-1]
    data = LoadedData(
        name="bench-scaling",
        class_names=CLASS_NAMES,
        train=ImageSplit(images.real, class_labels(n)),
        test=ImageSplit(images.test, class_labels(images.n_held)),
        fingerprint=f"bench-scaling-{n}-{size}",
        family="bench",
        synthetic=True,
    )
    artifacts = workdir / "artifacts"
    artifacts.mkdir(parents=True, exist_ok=True)
    return Evaluation(
        data=data,
        fake=ImageSplit(images.fake, class_labels(n)),
        device=device,
        seed=0,
        settings={
            "profile": "smoke",
            "n_real": n,
            "memorization_spaces": ("pixels", "inception"),
            "classifier_epochs": 1,
        },
        cache_dir=workdir / "cache",
        artifacts_dir=artifacts,
        progress=SilentProgress(),
    )


# --------------------------------------------------------------------------- rows


@dataclasses.dataclass
class Row:
    """One timed part. Its time is extrapolated with the driver ``driver(nf, nr, nh)``,
    of degree ``degree`` in n, scaled by pixels when ``pixels``; a row with ``parts``
    is extrapolated as the sum of theirs."""

    name: str
    driver_text: str
    driver: Optional[Callable[[float, float, float], float]]
    degree: int = 1
    pixels: bool = False
    parts: tuple[str, ...] = ()
    part_of: Optional[str] = None
    times: dict = dataclasses.field(default_factory=dict)  # n -> [seconds per round]
    skipped: str = ""

    def best(self, n: int) -> Optional[float]:
        return min(self.times[n]) if self.times.get(n) else None


def rows_for(args) -> list[Row]:
    def d(text, fn, degree=1, pixels=False, **kw):
        return dict(driver_text=text + (" x px" if pixels else ""), driver=fn, degree=degree, pixels=pixels, **kw)

    nf = d("nf", lambda f, r, h: f)
    fidelity_parts = ("  . FID distance", "  . KID formula", "  . P/R formula")
    memo_parts = ("  . pixels space", "  . inception space")
    rows = [
        Row("inception features (generated)", **nf),
        Row("inception features (real)", **d("nr", lambda f, r, h: r)),
        Row("inception features (held-out)", **d("nh", lambda f, r, h: h)),
        Row("nearest-real search", **d("nf*nr", lambda f, r, h: f * r, 2, True)),
        Row("fidelity scores (shared)", **d("sum of parts", None, parts=fidelity_parts)),
        # An eigenproblem the size of the smaller set, capped at the 2048 dimensions.
        Row(fidelity_parts[0], **d("(nf+nr)*min(nf,nr,2048)", lambda f, r, h: (f + r) * min(f, r, 2048), 2,
                                   part_of="fidelity scores (shared)")),
        Row(fidelity_parts[1], **d(f"min(nf,nr,{KID_CAP})^2", lambda f, r, h: min(f, r, KID_CAP) ** 2, 2,
                                   part_of="fidelity scores (shared)")),
        Row(fidelity_parts[2], **d("nf^2+nr^2+nf*nr", lambda f, r, h: f * f + r * r + f * r, 2,
                                   part_of="fidelity scores (shared)")),
        Row("fid", **nf),
        Row("kid", **nf),
        Row("precision-recall", **nf),
        Row("ssim", **d("nf", lambda f, r, h: f, 1, True)),
        Row("psnr", **d("nf", lambda f, r, h: f, 1, True)),
        Row("mse", **d("nf", lambda f, r, h: f, 1, True)),
        Row("ms-ssim", **d("nf", lambda f, r, h: f, 1, True)),
        Row("diversity-ms-ssim", **d("const (500 pairs)", lambda f, r, h: 1.0, 1, True)),
        Row("memorization", **d("sum of parts", None, parts=memo_parts)),
        Row(memo_parts[0], **d("(nf+nh)*nr", lambda f, r, h: (f + h) * r, 2, True, part_of="memorization")),
        Row(memo_parts[1], **d("(nf+nh)*nr", lambda f, r, h: (f + h) * r, 2, part_of="memorization")),
    ]
    if args.with_classifiers:
        rows += [
            Row("tstr (1 epoch)", **d("nf", lambda f, r, h: f, 1, True)),
            Row("trtr (1 epoch)", **d("nr", lambda f, r, h: r, 1, True)),
            Row("trstr (1 epoch)", **d("nf+nr", lambda f, r, h: f + r, 1, True)),
        ]
    return rows


# --------------------------------------------------------------------------- timing




def one_round(images: Images, args, registry, rows: dict[str, Row], workdir: Path, cache_root: Path,
              stand_ins: bool, warmup: bool = False) -> None:
    """Build a fresh Evaluation of ``images`` and time every row on it once. ``warmup``:
    run the cheap parts once, untimed, so that no row pays torch's first-call costs."""
    from ganbench_plugins.metrics import fidelity, memorization, similarity
    from ganbench_plugins.metrics.frechet import frechet_distance
    from torch_fidelity.metric_kid import kid_features_to_metric
    from torch_fidelity.metric_prc import prc_features_to_metric

    device = torch.device(args.device)
    # Real features are really computed in every round: nothing on disk from the last.
    shutil.rmtree(cache_root / "features", ignore_errors=True)
    evaluation = make_evaluation(images, device, workdir)
    n = images.n

    def record(name: str, fn: Callable[[], object]) -> object:
        if warmup:
            return fn()
        if device.type == "cuda":
            torch.cuda.synchronize(device)
        start = time.perf_counter()
        value = fn()
        if device.type == "cuda":
            torch.cuda.synchronize(device)
        seconds = time.perf_counter() - start
        rows[name].times.setdefault(n, []).append(seconds)
        print(f"  n={n:<5} {name.strip():34s} {seconds:9.3f} s", file=sys.stderr, flush=True)
        return value

    held = memorization.held_out(evaluation)
    memo_type = type(registry.get("metrics", "memorization"))
    if stand_ins:
        for name in ("inception features (generated)", "inception features (real)", "inception features (held-out)"):
            rows[name].skipped = "skipped (--skip-inception)" if not warmup else rows[name].skipped
        n_ref = len(evaluation.real_reference_index())
        # The keys fidelity.generated_features / reference_features share their results under.
        evaluation.shared("inception-generated", lambda: stand_in_features(len(evaluation.fake), seed=11))
        evaluation.shared("inception-reference", lambda: stand_in_features(n_ref, seed=12))
        held_features = stand_in_features(len(held), seed=13)

        def stand_in(split, evaluation_, cache):
            if split is evaluation_.fake:
                return fidelity.generated_features(evaluation_)
            if len(split) == len(held) and torch.equal(split.images, held.images):
                return held_features
            return fidelity.reference_features(evaluation_)

        memo = memo_type(inception_features=stand_in)
    else:
        record("inception features (generated)", lambda: fidelity.generated_features(evaluation))
        record("inception features (real)", lambda: fidelity.reference_features(evaluation))
        # Written to the disk cache, where memorisation's Inception space finds it.
        record("inception features (held-out)",
               lambda: fidelity.inception_features(held.images, device, evaluation.progress, cache=True))
        memo = registry.get("metrics", "memorization")

    record("nearest-real search", lambda: similarity.nearest_real(evaluation))
    record("fidelity scores (shared)", lambda: fidelity.fidelity_scores(evaluation))
    fake_f, real_f = fidelity.generated_features(evaluation), fidelity.reference_features(evaluation)
    record("  . FID distance", lambda: frechet_distance(fake_f, real_f))
    subset = min(fidelity.KID_SUBSET_SIZE, len(real_f), len(fake_f))
    record("  . KID formula", lambda: kid_features_to_metric(
        fake_f, real_f, kid_subsets=fidelity.KID_SUBSETS, kid_subset_size=subset,
        rng_seed=fidelity.KID_RNG_SEED, verbose=False))
    record("  . P/R formula", lambda: prc_features_to_metric(
        fake_f, real_f, prc_neighborhood=fidelity.PRC_NEIGHBORHOOD, save_cpu_ram=True, verbose=False))

    for name in ("fid", "kid", "precision-recall", "ssim", "psnr", "mse", "ms-ssim", "diversity-ms-ssim"):
        metric = registry.get("metrics", name)
        record(name, lambda: metric.compute(evaluation))
    record("memorization", lambda: memo.compute(evaluation))
    # The same Evaluation (shared cache and all) with one space at a time.
    for space, row in (("pixels", "  . pixels space"), ("inception", "  . inception space")):
        one = dataclasses.replace(evaluation, settings={**evaluation.settings, "memorization_spaces": (space,)})
        record(row, lambda: memo.compute(one))

    if args.with_classifiers and not warmup:
        classifier = registry.get("classifiers", args.classifier)
        for name in ("tstr", "trtr", "trstr"):
            metric = registry.get("metrics", name)
            record(f"{name} (1 epoch)", lambda: metric.compute(evaluation, classifier))


# --------------------------------------------------------------------------- the table


def exponent(row: Row, sizes: list[int]) -> Optional[float]:
    points = [(n, row.best(n)) for n in sizes if row.best(n)]
    if len(points) < 2:
        return None
    x = np.log([p[0] for p in points])
    y = np.log([max(p[1], 1e-9) for p in points])
    return float(np.polyfit(x, y, 1)[0])


def used_exponent(row: Row, sizes: list[int]) -> Optional[float]:
    """The fitted exponent, clamped to [0, k]: a part gets no cheaper with more images,
    and its driver counts the work it does, so it grows at most linearly in it. Tiny
    times on a shared machine otherwise give exponents of -3 or 7."""
    b = exponent(row, sizes)
    return None if b is None else min(max(b, 0.0), float(row.degree))


def extrapolate(row: Row, rows: dict[str, Row], sizes: list[int], size: int) -> Optional[float]:
    if row.parts:
        parts = [extrapolate(rows[p], rows, sizes, size) for p in row.parts]
        return None if any(p is None for p in parts) else sum(parts)
    n_max = max(sizes)
    b, t = used_exponent(row, sizes), row.best(n_max)
    if b is None or t is None:
        return None
    measured = row.driver(n_max, n_max, max(len(CLASS_NAMES), n_max // 4))
    paper = row.driver(PAPER["nf"], PAPER["nr"], PAPER["nh"])
    scale = (paper / measured) ** (b / row.degree)
    if row.pixels:
        scale *= (PAPER["size"] / size) ** 2
    return t * scale


def fmt(seconds: Optional[float]) -> str:
    if seconds is None:
        return "-"
    if seconds >= 100:
        return f"{seconds:.0f}"
    if seconds >= 1:
        return f"{seconds:.2f}"
    return f"{seconds:.3f}"


def print_table(args, rows: list[Row], warmup_s: float) -> None:
    by_name = {row.name: row for row in rows}
    sizes = args.sizes
    device = torch.device(args.device)
    device_text = str(device)
    if device.type == "cuda":
        device_text += f" ({torch.cuda.get_device_name(device)})"
    px = (PAPER["size"] / args.size) ** 2
    print(f"bench_scaling: evaluation time per part vs sample size n (n generated vs n real, "
          f"{args.size}x{args.size} grayscale, 4 classes, held-out n/4)")
    print(f"machine: {platform.machine()} {platform.system()}, {os.cpu_count()} CPUs; torch {torch.__version__}, "
          f"{torch.get_num_threads()} threads ({torch.get_num_interop_threads()} inter-op); device {device_text}; "
          f"image size {args.size}; rounds {args.repeat} (minimum shown)")
    print(f"warm-up before timing (untimed: {'' if args.skip_inception else 'Inception network load, 4 images; '}"
          f"one round at n = 16): {warmup_s:.1f} s")
    print(f"paper profile (brain-mri 'paper'): nf = {PAPER['nf']} generated, nr = {PAPER['nr']} real, "
          f"nh = {PAPER['nh']} held-out (this script's n/4 ratio), {PAPER['size']} px.")
    print("extrapolation, per row: t_paper = t(n_max) * (D_paper / D(n_max)) ** (b / k), times (128 / size)^2 for "
          f"pixel-space parts ('x px', here x{px:g}); D is the row's driver (column 'driver'; measured at nf = nr = n, "
          "nh = n/4), k its degree in n, b the fitted exponent (least-squares slope of log t on log n), clamped to "
          "[0, k] where marked '*' (no part gets cheaper with n, none grows faster than its driver). "
          "Rows 'sum of parts' add their parts' extrapolations.")
    reference = extrapolate(by_name["inception features (generated)"], by_name, sizes, args.size)
    if reference is None:
        reference = PAPER["nf"] / args.inception_images_per_s
        ref_text = (f"the generated set's Inception pass, estimated at {args.inception_images_per_s:g} images/s "
                    f"(--inception-images-per-s; not measured here): {fmt(reference)} s")
    else:
        ref_text = f"the generated set's Inception pass extrapolated: {fmt(reference)} s"
        generated = by_name["inception features (generated)"]
        rate = max(sizes) / generated.best(max(sizes))
        print(f"Inception throughput measured at n = {max(sizes)}: {rate:.1f} images/s, i.e. {fmt(PAPER['nf'] / rate)} s "
              f"for the paper's {PAPER['nf']} generated images if linear (a fitted exponent far from 1 means noise: "
              "other work on the machine; use --repeat).")
    print(f"'!': a non-Inception part whose extrapolated time is above {ref_text} (the pass every cell pays; the "
          "real set's is cached on disk).")
    if args.skip_inception:
        print("--skip-inception: random stand-in features (N x 2048 float32) in the shared cache; memorization gets a "
              "stand-in for the held-out set through Memorization(inception_features=...), both spaces still timed.")
    if not args.with_classifiers:
        print("classifier metrics (tstr, trtr, trstr) not timed: training, not evaluation (--with-classifiers).")
    else:
        print(f"classifier metrics: {args.classifier}, 1 epoch each (their extrapolation is per epoch; the "
              "paper profile trains more).")
    print()

    name_w = max(len(r.name) for r in rows) + 1
    drv_w = max(len(r.driver_text) for r in rows) + 1
    head = f"{'part':{name_w}s} {'driver':{drv_w}s}" + "".join(f"{'n=' + str(n):>10s}" for n in sizes)
    head += f"{'exponent':>11s}{'paper (s)':>12s}"
    print(head)
    print("-" * len(head))
    total = {n: 0.0 for n in sizes}
    total_paper = 0.0
    for row in rows:
        cells = "".join(f"{fmt(row.best(n)) if not row.skipped else 'skipped':>10s}" for n in sizes)
        b = exponent(row, sizes)
        paper = extrapolate(row, by_name, sizes, args.size)
        mark = " !" if paper is not None and paper > reference and not row.name.startswith("inception features") else ""
        b_text = "-" if b is None else f"{b:.2f}" + ("*" if b != used_exponent(row, sizes) else " ")
        print(f"{row.name:{name_w}s} {row.driver_text:{drv_w}s}{cells}{b_text:>11s}{fmt(paper):>12s}{mark}")
        if row.part_of is None and not row.skipped:
            for n in sizes:
                total[n] += row.best(n) or 0.0
            total_paper += paper or 0.0
    print("-" * len(head))
    print(f"{'total (rows without parts)':{name_w}s} {'':{drv_w}s}" + "".join(f"{fmt(total[n]):>10s}" for n in sizes)
          + f"{'':>11s}{fmt(total_paper):>12s}")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100, 200, 400, 800], help="values of n (default 100 200 400 800)")
    parser.add_argument("--size", type=int, default=64, help="image side in pixels (default 64)")
    parser.add_argument("--repeat", type=int, default=1, help="rounds per n, each on a new Evaluation; the minimum is reported")
    parser.add_argument("--device", default="cpu", help="cpu or cuda[:N] (default cpu)")
    parser.add_argument("--skip-inception", action="store_true",
                        help="random stand-in Inception features instead of the network's (downstream parts still timed)")
    parser.add_argument("--inception-images-per-s", type=float, default=15.0,
                        help="with --skip-inception: the Inception throughput the '!' mark compares with (default 15, a 2-core CPU)")
    parser.add_argument("--with-classifiers", action="store_true", help="also time tstr, trtr, trstr (1 epoch)")
    parser.add_argument("--classifier", default="small-cnn", help="classifier for --with-classifiers (default small-cnn)")
    args = parser.parse_args(argv)
    args.sizes = sorted(set(args.sizes))
    if min(args.sizes) < 16:
        parser.error("--sizes must be at least 16 (4 classes, more than 3 images per set for precision/recall)")

    with tempfile.TemporaryDirectory(prefix="bench-scaling-") as tmp:
        workdir = Path(tmp)
        cache_root = workdir / "ganbench-cache"
        # A private feature cache, set before ganbench is imported: the real set's
        # features are computed, never found from an earlier run.
        os.environ["GANBENCH_CACHE_DIR"] = str(cache_root)
        from ganbench.plugins import load_plugins
        from ganbench_plugins.metrics import fidelity

        registry = load_plugins().registry
        warmup_s = 0.0
        if not args.skip_inception:
            reason = registry.get("metrics", "fid").unavailable_reason()
            if reason:
                print(f"the Inception network is unavailable ({reason}); use --skip-inception", file=sys.stderr)
                return 1
            start = time.perf_counter()
            fidelity.inception_features(smooth_images(4, args.size, seed=3, blobs=4), torch.device(args.device))
            warmup_s = time.perf_counter() - start

        rows = rows_for(args)
        by_name = {row.name: row for row in rows}
        start = time.perf_counter()
        one_round(Images(16, args.size), args, registry, by_name, workdir / "warm-up", cache_root,
                  stand_ins=True, warmup=True)
        warmup_s += time.perf_counter() - start
        for n in args.sizes:
            images = Images(n, args.size)
            for round_ in range(args.repeat):
                one_round(images, args, registry, by_name, workdir / f"n{n}-r{round_}", cache_root,
                          stand_ins=args.skip_inception)
        print_table(args, rows, warmup_s)
    return 0


if __name__ == "__main__":
    sys.exit(main())
