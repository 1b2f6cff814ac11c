"""How much does ganbench's training harness cost over a bare PyTorch loop?

Both train the same DCGAN (ganbench's ``dcgan`` plugin networks, its smoke width, 64 x
64 grayscale, batch 64, BrainGAN's learning rates) for the same number of steps on the
same in-memory images, in one process:

1. ganbench: the plugin's model through ``ganbench.runner.training.train`` (batches from
   a seeded permutation, ``AdversarialModel.train_step``, the per-step finiteness check
   and loss history);
2. bare: the PyTorch DCGAN example's loop written out by hand on a copy of the same
   networks: random batch, D on real and on detached fakes, BCE-with-logits, Adam step,
   G step on D's new output, ``.item()`` of both losses. It uses the kernels the
   plugin's hyperparameters name (channels-last layout, fused Adam), so the ratio is the
   harness's cost, not a difference of kernels.

Rounds alternate the order and the minimum per-step time of each is reported; the ratio
is bare / ganbench (1.0 = no overhead; the goal is >= 0.95).
Run: ``python benchmarks/bench_train_step.py [--steps 40] [--repeat 3] [--size 64]``.
"""

from __future__ import annotations

import argparse
import copy
import sys
import time

import torch
from torch.nn import functional as F


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=40)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--size", type=int, default=64)
    parser.add_argument("--device", default="cpu")
    args = parser.parse_args(argv)

    from ganbench.plugins import load_plugins
    from ganbench.runner.training import train
    from ganbench.specs import ImageSpec, ImageSplit, SilentProgress, to_unit_range

    device = torch.device(args.device)
    gan = load_plugins().registry.get("gans", "dcgan")
    hparams = {**gan.hyperparameters("smoke"), "steps": args.steps}
    spec = ImageSpec(args.size, 1, 1)
    generator = torch.Generator().manual_seed(0)
    images = torch.randint(0, 256, (512, 1, args.size, args.size), generator=generator, dtype=torch.uint8)
    split = ImageSplit(images, torch.zeros(len(images), dtype=torch.long))

    def harness() -> float:
        torch.manual_seed(0)
        model = gan.build(spec, hparams, device)
        train(model, split, {**hparams, "steps": 3}, 0, device, SilentProgress())  # warm-up
        start = time.perf_counter()
        train(model, split, hparams, 0, device, SilentProgress())
        return (time.perf_counter() - start) / args.steps

    def bare() -> float:
        torch.manual_seed(0)
        template = gan.build(spec, hparams, device)
        # The copies keep the template's layout (channels-last when the plugin's
        # hyperparameters say so).
        net_g, net_d = copy.deepcopy(template.generator), copy.deepcopy(template.discriminator)
        fused = True if hparams.get("fused_adam") else None
        opt_g = torch.optim.Adam(net_g.parameters(), lr=hparams["lr_g"], betas=hparams["betas"], fused=fused)
        opt_d = torch.optim.Adam(net_d.parameters(), lr=hparams["lr_d"], betas=hparams["betas"], fused=fused)
        data = to_unit_range(images).to(device)
        batch = hparams["batch_size"]

        def step():
            real = data[torch.randint(len(data), (batch,))]
            fake = net_g(torch.randn(batch, hparams["latent_dim"], device=device))
            opt_d.zero_grad()
            out_real, out_fake = net_d(real), net_d(fake.detach())
            loss_d = F.binary_cross_entropy_with_logits(out_real, torch.ones_like(out_real)) + \
                F.binary_cross_entropy_with_logits(out_fake, torch.zeros_like(out_fake))
            loss_d.backward()
            opt_d.step()
            opt_g.zero_grad()
            out = net_d(fake)
            loss_g = F.binary_cross_entropy_with_logits(out, torch.ones_like(out))
            loss_g.backward()
            opt_g.step()
            return loss_d.item(), loss_g.item()

        for _ in range(3):
            step()
        start = time.perf_counter()
        for _ in range(args.steps):
            step()
        return (time.perf_counter() - start) / args.steps

    times = {"ganbench": [], "bare": []}
    for round_ in range(args.repeat):
        order = [("ganbench", harness), ("bare", bare)]
        for name, run in order if round_ % 2 == 0 else order[::-1]:
            times[name].append(run())
    best = {name: min(values) for name, values in times.items()}
    print(f"DCGAN {args.size}x{args.size}x1, batch {hparams['batch_size']}, width {hparams['width']}, "
          f"{args.steps} steps x {args.repeat} rounds on {device} ({torch.get_num_threads()} threads)")
    for name, values in times.items():
        print(f"{name:9s}: {best[name] * 1000:8.1f} ms/step   all: {', '.join(f'{v * 1000:.1f}' for v in values)}")
    ratio = best["bare"] / best["ganbench"]
    print(f"ratio bare / ganbench: {ratio:.3f}   (goal >= 0.95)")
    return 0 if ratio >= 0.95 else 1


if __name__ == "__main__":
    sys.exit(main())
