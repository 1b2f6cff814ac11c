"""The sample grid: one row per label, tiles where the samples are, white elsewhere."""

import numpy as np
import torch
from PIL import Image

from ganbench.runner.cell import save_sample_grid
from ganbench.specs import ImageSplit


def test_grid_has_one_row_per_class_and_tiles_in_place(tmp_path):
    # Class 0: two images of value 10 and 20; class 1: one image of value 30.
    images = torch.tensor([10, 20, 30], dtype=torch.uint8).view(3, 1, 1, 1).expand(3, 1, 4, 5).contiguous()
    fake = ImageSplit(images, torch.tensor([0, 0, 1]))
    path = tmp_path / "grid.png"
    save_sample_grid(fake, path=path, per_class=3, padding=2)
    grid = np.asarray(Image.open(path))
    assert grid.shape == (2 + 2 * (4 + 2), 2 + 3 * (5 + 2))
    assert (grid[2:6, 2:7] == 10).all() and (grid[2:6, 9:14] == 20).all()
    assert (grid[8:12, 2:7] == 30).all()
    assert (grid[8:12, 9:14] == 255).all()  # class 1 has no second sample: blank tile
    assert (grid[0:2, :] == 255).all()  # padding


def test_rgb_grid(tmp_path):
    images = torch.zeros(2, 3, 4, 4, dtype=torch.uint8)
    images[:, 0] = 200
    save_sample_grid(ImageSplit(images, torch.tensor([0, 0])), path=tmp_path / "g.png", per_class=2)
    grid = np.asarray(Image.open(tmp_path / "g.png"))
    assert grid.shape == (8, 14, 3) and tuple(grid[2, 2]) == (200, 0, 0)
