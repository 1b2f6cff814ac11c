"""The sample grid: one row per label, tiles where the samples are, white elsewhere; and
the leaderboard's strip cut from it: tiles enlarged to at least 96 px, nearest-neighbour."""

import numpy as np
import pytest
import torch
from PIL import Image

from ganbench.leaderboard.strip import MIN_TILE, draw_strip, grid_tiles, scale_for
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


# --------------------------------------------------------------------------- the leaderboard's strip


def patterned(n: int, side: int, channels: int = 1) -> torch.Tensor:
    """``n`` images whose every pixel differs from its neighbours: a smoothed resize shows."""
    generator = torch.Generator().manual_seed(0)
    return torch.randint(0, 256, (n, channels, side, side), generator=generator, dtype=torch.uint8)


def test_the_tiles_of_a_sample_grid_are_cut_back_exactly(tmp_path):
    images = patterned(5, 8)
    save_sample_grid(ImageSplit(images, torch.tensor([0, 0, 0, 1, 1])), path=tmp_path / "grid.png", per_class=3)
    with Image.open(tmp_path / "grid.png") as grid:
        tiles = grid_tiles(grid, 8)
    assert [len(row) for row in tiles] == [3, 3]
    assert (np.asarray(tiles[0][2]) == images[2, 0].numpy()).all()
    assert (np.asarray(tiles[1][1]) == images[4, 0].numpy()).all()
    assert (np.asarray(tiles[1][2]) == 255).all()  # class 1 has two samples: the third tile is blank
    with Image.open(tmp_path / "grid.png") as grid, pytest.raises(ValueError, match="not made of 7 px tiles"):
        grid_tiles(grid, 7)


@pytest.mark.parametrize("resolution, channels", [(32, 1), (20, 3), (128, 1)])
def test_strip_tiles_are_at_least_96_px_and_blocks_of_equal_pixels(tmp_path, resolution, channels):
    images = patterned(4, resolution, channels)
    save_sample_grid(ImageSplit(images, torch.tensor([0, 0, 1, 1])), path=tmp_path / "grid.png", per_class=2)
    with Image.open(tmp_path / "grid.png") as grid:
        tiles = grid_tiles(grid, resolution)
    placed = draw_strip([("dcgan", tiles), ("lost-gan", None)], ["glioma", "no_tumor"], resolution, tmp_path / "strip.png")
    strip = np.asarray(Image.open(tmp_path / "strip.png").convert("RGB"))
    scale = scale_for(resolution)
    assert [(gan, c) for gan, c, _ in placed] == [("dcgan", 0), ("dcgan", 0), ("dcgan", 1), ("dcgan", 1)]
    for (_, _, (left, top, right, bottom)), image in zip(placed, images):
        assert right - left == bottom - top == resolution * scale >= MIN_TILE
        source = image.permute(1, 2, 0).numpy()
        source = np.repeat(source, 3, axis=2) if channels == 1 else source
        # Nearest-neighbour: every source pixel is a scale x scale block of its own value.
        expected = np.kron(source, np.ones((scale, scale, 1), dtype=np.uint8))
        assert (strip[top:bottom, left:right] == expected).all()


def test_scale_reaches_96_px_with_whole_factors():
    assert [scale_for(r) for r in (16, 32, 64, 96, 256)] == [6, 3, 2, 1, 1]


def label_band(strip: np.ndarray, placed, class_index: int) -> np.ndarray:
    """The strip's pixels above the first row's tiles of one class: where its name is written."""
    boxes = [box for _, c, box in placed if c == class_index]
    left, right = min(b[0] for b in boxes), max(b[2] for b in boxes)
    return strip[: min(b[1] for b in boxes), left:right]


def test_each_class_is_labelled_above_its_tiles(tmp_path):
    images = patterned(4, 32)
    save_sample_grid(ImageSplit(images, torch.tensor([0, 0, 1, 1])), path=tmp_path / "grid.png", per_class=2)
    with Image.open(tmp_path / "grid.png") as grid:
        tiles = grid_tiles(grid, 32)
    named = draw_strip([("dcgan", tiles)], ["glioma", "pituitary"], 32, tmp_path / "named.png")
    unnamed = draw_strip([("dcgan", tiles)], [], 32, tmp_path / "unnamed.png")
    named_pixels = np.asarray(Image.open(tmp_path / "named.png").convert("L"))
    unnamed_pixels = np.asarray(Image.open(tmp_path / "unnamed.png").convert("L"))
    for c in (0, 1):
        # Ink above every class's tiles, and a different name draws different ink.
        assert (label_band(named_pixels, named, c) < 128).sum() > 20
        assert (label_band(unnamed_pixels, unnamed, c) < 128).sum() > 20  # "class 0", "class 1"
    assert not np.array_equal(label_band(named_pixels, named, 0), label_band(named_pixels, named, 1))
    assert not np.array_equal(label_band(named_pixels, named, 0), label_band(unnamed_pixels, unnamed, 0))
