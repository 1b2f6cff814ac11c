"""How much does ganbench's `fid` metric cost over a bare torch-fidelity call?

Both compute FID (and KID, which ganbench's shared call always computes alongside) on the
same deterministic images with the same converted Inception weights, in one process:

1. ganbench's `fid` metric with a COLD feature cache (a fresh temporary
   GANBENCH_CACHE_DIR: the real set's features are computed and written to disk);
2. a bare ``torch_fidelity.calculate_metrics`` call, caching off, with the same
   arguments ganbench passes (same batch size, no DataLoader workers, same KID subsets);
3. unless ``--skip-warm``: ganbench again on a new Evaluation of the same data, so the
   real set's features come from the cache (what every cell after the first pays).

The weights are converted before any timing, and a 4-image call warms up the libraries.
The machine's load from other work moves single timings by tens of percent: use
``--repeat 3`` (order alternates each round, the minimum is reported) for a ratio to trust.
Run: ``python benchmarks/bench_fid.py [--n 200] [--size 64] [--repeat 1]``.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

import torch

# benchmarks/ is on sys.path when a script in it runs.
from _images import Uint8RGB, smooth_images


def bare_call(fake: torch.Tensor, real: torch.Tensor, weights: Path, kid_subset_size: int) -> dict:
    import torch_fidelity

    from ganbench_plugins.metrics import fidelity

    return torch_fidelity.calculate_metrics(
        input1=Uint8RGB(fake),
        input2=Uint8RGB(real),
        cache=False,
        feature_extractor="inception-v3-compat",
        feature_extractor_weights_path=str(weights),
        fid=True,
        kid=True,
        kid_subsets=fidelity.KID_SUBSETS,
        kid_subset_size=kid_subset_size,
        rng_seed=fidelity.KID_RNG_SEED,
        cuda=False,
        batch_size=fidelity.feature_batch_size(torch.device("cpu")),
        save_cpu_ram=True,
        verbose=False,
    )


def ganbench_call(fake: torch.Tensor, real: torch.Tensor, workdir: Path) -> float:
    from ganbench.specs import Evaluation, ImageSplit, LoadedData, SilentProgress
    from ganbench_plugins.metrics.fidelity import FID

    labels = lambda x: torch.zeros(x.shape[0], dtype=torch.long)  # noqa: E731
    data = LoadedData(
        name="bench",
        class_names=("only",),
        train=ImageSplit(real, labels(real)),
        test=ImageSplit(real[:2], labels(real[:2])),
        fingerprint=f"bench-{real.shape[0]}-{real.shape[-1]}",
        family="bench",
        synthetic=True,
    )
    evaluation = Evaluation(
        data=data,
        fake=ImageSplit(fake, labels(fake)),
        device=torch.device("cpu"),
        seed=0,
        settings={"n_real": real.shape[0]},
        cache_dir=workdir / "cache",
        artifacts_dir=workdir / "artifacts",
        progress=SilentProgress(),
    )
    return FID().compute(evaluation).values["fid"]


def timed(fn, *args):
    start = time.perf_counter()
    value = fn(*args)
    return value, time.perf_counter() - start


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=200, help="images per set (default 200)")
    parser.add_argument("--size", type=int, default=64, help="image side in pixels (default 64)")
    parser.add_argument("--repeat", type=int, default=1, help="timed rounds, order alternating; the minimum is reported")
    parser.add_argument("--skip-warm", action="store_true", help="skip the warm-cache ganbench run")
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="bench-fid-") as tmp:
        workdir = Path(tmp)
        cache_root = workdir / "ganbench-cache"
        # A private cache, so that the cold runs really start cold.
        os.environ["GANBENCH_CACHE_DIR"] = str(cache_root)
        from ganbench_plugins.metrics.inception_weights import fidelity_weights_path

        real = smooth_images(args.n, args.size, seed=0, blobs=6)
        fake = smooth_images(args.n, args.size, seed=1, blobs=5)
        subset = min(1000, args.n)

        weights, convert_s = timed(fidelity_weights_path)
        bare_call(fake[:4], real[:4], weights, kid_subset_size=4)  # warm-up, untimed

        def ganbench_cold(round_):
            shutil.rmtree(cache_root / "features", ignore_errors=True)  # the real-image feature cache
            return timed(ganbench_call, fake, real, workdir / f"cold-{round_}")

        def bare(round_):
            value, seconds = timed(bare_call, fake, real, weights, subset)
            return value["frechet_inception_distance"], seconds

        times = {"cold": [], "bare": [], "warm": []}
        values = []
        for round_ in range(args.repeat):
            # Alternating the order spreads any drift in machine load over both.
            order = [("cold", ganbench_cold), ("bare", bare)]
            for name, run in order if round_ % 2 == 0 else order[::-1]:
                value, seconds = run(round_)
                times[name].append(seconds)
                values.append((name, value))
            if not args.skip_warm:
                value, seconds = timed(ganbench_call, fake, real, workdir / f"warm-{round_}")
                times["warm"].append(seconds)
                values.append(("warm", value))

        bare_fid = next(value for name, value in values if name == "bare")
        best = {name: min(seconds) for name, seconds in times.items() if seconds}
        print(f"images: {args.n} fake vs {args.n} real, {args.size}x{args.size} grayscale; "
              f"CPU threads: {torch.get_num_threads()}; rounds: {args.repeat} (minimum shown)")
        print(f"weights conversion (before timing): {convert_s:.1f} s")
        print(f"ganbench fid, cold cache : {best['cold']:8.2f} s   {_all(times['cold'])}")
        print(f"bare torch-fidelity      : {best['bare']:8.2f} s   {_all(times['bare'])}")
        print(f"ratio bare / ganbench    : {best['bare'] / best['cold']:8.3f}   (1.0 = no overhead)")
        if "warm" in best:
            print(f"ganbench fid, warm cache : {best['warm']:8.2f} s   {_all(times['warm'])}   (real features from cache)")
            print(f"ratio bare / ganbench-warm: {best['bare'] / best['warm']:7.3f}")

        worst = max(abs(value - bare_fid) for _, value in values)
        agree = worst <= 1e-6 * max(1.0, abs(bare_fid))
        print(f"FID {bare_fid:.6f}; all runs agree: {agree} (largest |difference| = {worst:.3g})")
        return 0 if agree else 1


def _all(seconds: list[float]) -> str:
    return "all: " + ", ".join(f"{s:.1f}" for s in seconds) if len(seconds) > 1 else ""


if __name__ == "__main__":
    sys.exit(main())
