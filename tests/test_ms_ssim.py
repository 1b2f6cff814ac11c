"""MS-SSIM against pytorch_msssim at full size, its small-image scales, and the
diversity measure."""

from __future__ import annotations

import pytest
import torch
from pytorch_msssim import ms_ssim as reference_ms_ssim

from ganbench.specs import Evaluation, ImageSplit, LoadedData, SilentProgress
from ganbench_plugins.metrics.ms_ssim import DiversityMSSSIM, MSSSIM, levels_for, ms_ssim, same_class_pairs


def smooth(n, size, seed, channels=1):
    g = torch.Generator().manual_seed(seed)
    coarse = torch.rand(n, channels, 8, 8, generator=g) * 255
    return torch.nn.functional.interpolate(coarse, size=size, mode="bicubic", align_corners=False).clamp(0, 255).round().to(torch.uint8)


@pytest.mark.parametrize("channels", [1, 3])
def test_matches_pytorch_msssim_at_full_size(channels):
    a = smooth(3, 256, 1, channels)
    b = (a.float() + torch.randn(a.shape, generator=torch.Generator().manual_seed(2)) * 20).clamp(0, 255).round().to(torch.uint8)
    ours = ms_ssim(a, b)
    theirs = reference_ms_ssim(a.float(), b.float(), data_range=255, size_average=False)
    assert levels_for(256, 256) == 5
    assert torch.allclose(ours, theirs, atol=1e-5)


def test_identical_images_score_one_and_small_images_use_fewer_scales():
    a = smooth(4, 32, 3)
    assert torch.allclose(ms_ssim(a, a), torch.ones(4), atol=1e-6)
    assert [levels_for(s, s) for s in (8, 32, 64, 128, 256)] == [1, 2, 3, 4, 5]
    noisy = (a.float() + 40 * torch.randn(a.shape, generator=torch.Generator().manual_seed(4))).clamp(0, 255).to(torch.uint8)
    assert (ms_ssim(a, noisy) < 0.95).all()


def test_pairs_stay_within_a_class_and_differ():
    split = ImageSplit(smooth(30, 16, 5), torch.tensor([0] * 20 + [1] * 10))
    i, j = same_class_pairs(split, 90, seed=0)
    assert len(i) == 90 and (i != j).all() and (split.labels[i] == split.labels[j]).all()
    assert (split.labels[i] == 0).sum() == 60


def evaluation(tmp_path, fake, train):
    data = LoadedData(name="t", class_names=("a",), train=train, test=train, fingerprint="t", family="t")
    return Evaluation(data=data, fake=fake, device=torch.device("cpu"), seed=0, settings={"n_real": 1000},
                      cache_dir=tmp_path, artifacts_dir=tmp_path, progress=SilentProgress())


def test_diversity_sees_mode_collapse(tmp_path):
    real = ImageSplit(smooth(60, 32, 6), torch.zeros(60, dtype=torch.long))
    collapsed = ImageSplit(real.images[:1].repeat(60, 1, 1, 1), torch.zeros(60, dtype=torch.long))
    varied = DiversityMSSSIM().compute(evaluation(tmp_path, real, real)).values
    same = DiversityMSSSIM().compute(evaluation(tmp_path, collapsed, real)).values
    assert varied["ms_ssim_diversity"] == pytest.approx(varied["ms_ssim_diversity_real"])
    assert same["ms_ssim_diversity"] == pytest.approx(1.0) and varied["ms_ssim_diversity_real"] < 0.9
    close = MSSSIM().compute(evaluation(tmp_path, real, real)).values
    assert close["ms_ssim_nearest_real"] == pytest.approx(1.0)
