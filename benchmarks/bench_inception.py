"""Inception features: bare torch-fidelity against ganbench, and against the machine.

FID, KID, precision/recall and memorisation in Inception space all start from the
2048-d pool3 features of the FID Inception network, and on a CPU that pass is most of a
run. This script measures, in one process, on the same deterministic images:

1. **bare torch-fidelity**: ``torch_fidelity.utils.get_featuresdict_from_dataset`` (its
   DataLoader, ``no_grad``, its ``FeatureExtractorInceptionV3`` module with the verified
   weights), at torch-fidelity's default batch of 64 and at 8, the batch ganbench used
   before its inference network (``--bare-batches``);
2. **ganbench**: ``fidelity.extract_features`` (folded batch norms, channels-last,
   inference mode, ganbench's batch for the device; see
   ``plugins/metrics/inception_inference.py``).

It prints images/s of each, the ratio ganbench / bare (against bare's best batch and
against batch 8), the largest feature difference between the two, and the share of the
machine's matrix-multiply rate each reaches: the network's FLOPs per image (counted by
``torch.utils.flop_counter`` on one image, 2 FLOPs per multiply-add) times images/s,
over the rate of a float32 N x N matrix product measured in the same process (``--matmul``,
default 2048) — the rate the convolutions could at best approach.

Rounds alternate the order; the minimum time of each is kept (``--repeat``, default 3;
the machine's other load moves single timings by tens of percent).
Run: ``python benchmarks/bench_inception.py [--n 48] [--size 64] [--repeat 3] [--device cpu]``.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time

import torch

# benchmarks/ is on sys.path when a script in it runs: the images and the dataset a bare
# torch-fidelity caller hands over are the shared ones bench_fid times on too.
from _images import Uint8RGB, smooth_images


def synchronize(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def matmul_rate(n: int, device: torch.device, repeat: int = 5) -> float:
    """FLOP/s of a float32 n x n matrix product on ``device`` (best of ``repeat``)."""
    a = torch.randn(n, n, device=device)
    b = torch.randn(n, n, device=device)
    a @ b
    best = float("inf")
    for _ in range(repeat):
        synchronize(device)
        start = time.perf_counter()
        a @ b
        synchronize(device)
        best = min(best, time.perf_counter() - start)
    return 2.0 * n**3 / best


def flops_per_image(network: torch.nn.Module, size: int) -> float:
    """FLOPs (2 per multiply-add) of one forward pass of one size x size image."""
    from torch.utils.flop_counter import FlopCounterMode

    image = torch.zeros(1, 3, size, size, dtype=torch.uint8)
    counter = FlopCounterMode(display=False)
    with torch.no_grad(), counter:
        network(image)
    return float(counter.get_total_flops())


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=48, help="images timed per round (default 48)")
    parser.add_argument("--size", type=int, default=64, help="image side in pixels (default 64; the network resizes to 299)")
    parser.add_argument("--repeat", type=int, default=3, help="timed rounds, order alternating; the minimum is kept")
    parser.add_argument("--bare-batches", type=int, nargs="+", default=[64, 8], help="torch-fidelity batch sizes (default 64 8)")
    parser.add_argument("--matmul", type=int, default=2048, help="side of the reference matrix product (default 2048)")
    parser.add_argument("--device", default="cpu")
    args = parser.parse_args(argv)
    device = torch.device(args.device)

    with tempfile.TemporaryDirectory(prefix="bench-inception-") as tmp:
        # A private cache: the weights are converted there once, before any timing.
        os.environ["GANBENCH_CACHE_DIR"] = tmp
        from torch_fidelity.utils import get_featuresdict_from_dataset

        from ganbench_plugins.metrics import fidelity
        from ganbench_plugins.metrics.inception_weights import inception_extractor

        bare_network = inception_extractor(str(device))
        images = smooth_images(args.n, args.size, seed=0, blobs=6)
        dataset = Uint8RGB(images)

        def bare(batch):
            def run():
                return get_featuresdict_from_dataset(dataset, bare_network, batch, device.type == "cuda", True, False)["2048"]
            return run

        def ours():
            return fidelity.extract_features(images, device)

        runners = {f"torch-fidelity, batch {b}": bare(b) for b in args.bare_batches}
        ours_name = f"ganbench, batch {fidelity.feature_batch_size(device)}"
        runners[ours_name] = ours
        for run in runners.values():  # warm-up: library initialisation, oneDNN kernel choice
            run()

        times = {name: float("inf") for name in runners}
        outputs = {}
        names = list(runners)
        rate = 0.0
        for round_ in range(args.repeat):
            for name in names if round_ % 2 == 0 else names[::-1]:
                synchronize(device)
                start = time.perf_counter()
                outputs[name] = runners[name]()
                synchronize(device)
                times[name] = min(times[name], time.perf_counter() - start)
            # Measured every round, the best kept: one busy moment on a shared machine
            # must not make the network look faster than the machine's matmul rate.
            rate = max(rate, matmul_rate(args.matmul, device))
        flops = flops_per_image(inception_extractor("cpu"), args.size)
        reference = outputs[names[0]]
        difference = float((outputs[ours_name] - reference).abs().max())

    speed = {name: args.n / seconds for name, seconds in times.items()}
    bare_names = [name for name in names if name != ours_name]
    best_bare = max(bare_names, key=speed.get)
    print(
        f"device {device}, {torch.get_num_threads()} CPU threads, torch {torch.__version__}; {args.n} images of "
        f"{args.size} x {args.size} grey per round, {args.repeat} rounds (minimum kept)"
    )
    print(f"network: {flops / 1e9:.2f} GFLOP per image; {args.matmul}^2 float32 matmul: {rate / 1e9:.0f} GFLOP/s")
    print(f"{'':28} {'images/s':>9} {'share of matmul rate':>21}")
    for name in names:
        print(f"{name:28} {speed[name]:9.2f} {speed[name] * flops / rate:20.0%}")
    print(f"ratio ganbench / bare torch-fidelity (its best batch, {best_bare.split()[-1]}): {speed[ours_name] / speed[best_bare]:.2f}")
    for name in bare_names:
        if name != best_bare:
            print(f"ratio ganbench / {name}: {speed[ours_name] / speed[name]:.2f}")
    print(f"largest |feature difference| ganbench vs torch-fidelity: {difference:.2g} (tolerance 1e-4)")
    return 0 if difference <= 1e-4 else 1


if __name__ == "__main__":
    sys.exit(main())
