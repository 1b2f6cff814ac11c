"""The exact nearest-image search behind nearest-real SSIM/PSNR/MSE and memorisation:
block-sum lower bounds prune it, yet it must equal a brute-force argmin over the exact
pixel distances (lowest index on ties) on every kind of input, including ones built to
make the bounds useless."""

import numpy as np
import pytest
import torch

from ganbench_plugins.metrics import similarity
from ganbench_plugins.metrics.memorization import pixel_distances
from ganbench_plugins.metrics.similarity import block_side, block_sums, exact_nearest, nearest_indices


pytestmark = pytest.mark.usefixtures("one_thread")


def reference(queries: torch.Tensor, references: torch.Tensor) -> tuple[np.ndarray, np.ndarray]:
    """(index, squared distance) by explicit int64 differences of every pair and numpy's
    argmin (the first of equal minima): independent of the search."""
    r = references.flatten(1).numpy().astype(np.int64)
    d = np.stack([((r - row) ** 2).sum(1) for row in queries.flatten(1).numpy().astype(np.int64)])
    index = d.argmin(1)
    return index, d[np.arange(len(d)), index]


def assert_exact(queries, references, **kwargs):
    found = exact_nearest(queries, references, **kwargs)
    index, distance = reference(queries, references)
    assert found.index.dtype == torch.int64 and found.sq_distance.dtype == torch.float64
    assert found.index.tolist() == index.tolist()
    assert found.sq_distance.tolist() == distance.astype(np.float64).tolist()
    stats = found.stats
    assert stats.settled_first + stats.settled_second + stats.brute_force == len(queries)
    assert stats.exact_pairs <= len(queries) * len(references)
    return found


def random_images(n, shape, seed, high=256):
    g = torch.Generator().manual_seed(seed)
    return torch.randint(0, high, (n, *shape), generator=g, dtype=torch.uint8)


def smooth_images(n, size, channels=1, seed=0):
    """Random smooth images: 8x8 noise upsampled bicubically (the kind of images whose
    block sums say a lot about their pixels)."""
    g = torch.Generator().manual_seed(seed)
    coarse = torch.rand(n, channels, 8, 8, generator=g)
    images = torch.nn.functional.interpolate(coarse, size=size, mode="bicubic", align_corners=False)
    return (images * 255).round().clamp(0, 255).to(torch.uint8)


# --------------------------------------------------------------------------- agreement


@pytest.mark.parametrize("channels", [1, 3])
@pytest.mark.parametrize("size", [16, 24])
def test_random_images_match_brute_force(channels, size):
    queries = random_images(30, (channels, size, size), seed=1)
    references = random_images(70, (channels, size, size), seed=2)
    assert_exact(queries, references)
    assert_exact(queries, references, chunk=7, candidates=1)


@pytest.mark.parametrize("channels", [1, 3])
def test_smooth_images_and_noisy_copies_match_brute_force(channels):
    references = smooth_images(120, 32, channels, seed=3)
    g = torch.Generator().manual_seed(4)
    picks = torch.randint(0, 120, (25,), generator=g)
    noise = torch.randint(-6, 7, (25, channels, 32, 32), generator=g)
    copies = (references[picks].int() + noise).clamp(0, 255).to(torch.uint8)
    queries = torch.cat([copies, smooth_images(25, 32, channels, seed=5)])
    found = assert_exact(queries, references, chunk=16)
    assert found.index[:25].tolist() == picks.tolist()


def test_duplicates_resolve_to_the_lowest_index():
    base = smooth_images(10, 16, seed=6)
    # References: base images repeated in shuffled blocks, so each image has copies at
    # several indices, the lowest of them not first in any natural order.
    order = torch.tensor([3, 7, 1, 3, 9, 7, 0, 3, 2, 5, 1, 8, 4, 6, 9, 0, 7])
    references = base[order]
    queries = base.clone()
    found = assert_exact(queries, references, candidates=1)
    for image in range(10):
        assert found.index[image].item() == int((order == image).nonzero()[0])
    assert found.sq_distance.tolist() == [0.0] * 10
    # Exact copies of a reference that has identical twins, with the bound tied too.
    assert_exact(references, references)


@pytest.mark.parametrize("shape", [(1, 7, 7), (3, 16, 16)])
def test_duplicates_across_brute_force_chunks_resolve_to_the_lowest_index(monkeypatch, shape):
    """The brute-force search takes references a few at a time: a copy in a later chunk
    must not displace an equal one in an earlier chunk. (7x7 has no block side; 16x16
    is sent to brute force by a zero share of references worth checking by bounds.)"""
    monkeypatch.setattr(similarity, "BRUTE_CHUNK_VALUES", 3 * int(np.prod(shape)))
    monkeypatch.setattr(similarity, "BRUTE_FORCE_SHARE", 0.0)
    base = random_images(4, shape, seed=30)
    order = torch.tensor([2, 0, 1, 3, 1, 2, 0, 3, 3, 1, 0, 2])
    found = assert_exact(base, base[order], chunk=3, candidates=1)
    assert found.index.tolist() == [1, 2, 0, 3]
    assert found.stats.brute_force == 4


@pytest.mark.parametrize("size", [16, 64])
def test_equidistant_references_tie_to_the_lowest_index_even_when_its_bound_equals_the_best(size):
    """Reference 1 is as near as reference 6, but 6 has a zero lower bound (its changes
    cancel within 2x2 blocks) while 1's bound on the finest blocks equals the distance
    itself (a uniform change over one 2x2 block); references 2-5, at bound 0 too but
    farther, are measured first. The search must still return 1: a bound equal to the
    best so far has to be checked. At 16x16 the 2x2 blocks are the only bounds; at 64x64
    they are the finer bounds of the candidate pairs (4x4 blocks bound all pairs)."""
    assert block_side((1, size, size)) == {16: 2, 64: 4}[size]
    query = smooth_images(1, size, seed=7).int().clamp(20, 235)

    def changed(*changes):
        image = query.clone()
        for (y, x), delta in changes:
            image[0, 0, y, x] += delta
        return image

    far = random_images(50, (1, size, size), seed=8).int()
    references = torch.cat([
        far[:1],
        changed(((0, 0), 5), ((0, 1), 5), ((1, 0), 5), ((1, 1), 5)),  # 1: distance 100, 2x2 bound 100
        changed(((2, 2), 9), ((3, 3), -9)),  # 2-5: bound 0, distance 162
        changed(((4, 4), 9), ((5, 5), -9)),
        changed(((6, 6), 9), ((7, 7), -9)),
        changed(((8, 8), 9), ((9, 9), -9)),
        changed(((10, 10), 5), ((11, 11), -5), ((12, 12), 5), ((13, 13), -5)),  # 6: bound 0, distance 100
        far[1:],
    ]).to(torch.uint8)
    query = query.to(torch.uint8)
    assert (block_sums(references[1:2], 2) - block_sums(query, 2)).pow(2).sum() / 4 == 100
    for candidates in (1, 2, 4, 8):
        found = assert_exact(query, references, candidates=candidates)
        assert found.index.tolist() == [1] and found.sq_distance.tolist() == [100.0]
        assert found.stats.settled_second == 1 and found.stats.brute_force == 0


@pytest.mark.parametrize("size", [32, 128])
def test_pixels_permuted_within_blocks_defeat_the_bound_but_not_the_search(size):
    """Every reference is the same image with its pixels shuffled within each block (or
    turned into a checkerboard of the block's values): all block sums are identical, so
    every lower bound is 0 and only the exact distances can decide."""
    side = block_side((1, size, size))
    assert side == {32: 2, 128: 8}[size]
    g = torch.Generator().manual_seed(9)
    base = random_images(1, (1, size, size), seed=10)[0, 0]
    per_axis, per_block = size // side, side * side
    blocks = base.reshape(per_axis, side, per_axis, side).permute(0, 2, 1, 3).reshape(per_axis, per_axis, per_block)

    def image(values):
        return values.reshape(per_axis, per_axis, side, side).permute(0, 2, 1, 3).reshape(1, size, size)

    def shuffled():
        perm = torch.stack([torch.randperm(per_block, generator=g) for _ in range(per_axis**2)])
        return image(blocks.gather(2, perm.reshape(per_axis, per_axis, per_block)))

    def checkerboard():
        values = blocks.sort(-1).values  # the low half on the black squares, the high half on the white
        yy, xx = torch.meshgrid(torch.arange(side), torch.arange(side), indexing="ij")
        cell = (yy * side + xx).flatten() // 2
        rank = torch.where(((yy + xx) % 2 == 0).flatten(), cell, per_block // 2 + cell)
        return image(values[..., rank])

    references = torch.stack([shuffled() for _ in range(40)] + [checkerboard(), base[None]] + [shuffled() for _ in range(9)])
    queries = torch.stack([shuffled() for _ in range(12)] + [base[None], checkerboard()])
    assert (block_sums(references, side) == block_sums(references[:1], side)).all()
    found = assert_exact(queries, references)
    assert found.index[-2:].tolist() == [41, 40]
    assert found.stats.block == side and found.stats.brute_force > 0
    assert_exact(queries, references, candidates=1)


@pytest.mark.parametrize(
    "shape, side",
    [
        ((1, 7, 7), 0), ((3, 15, 15), 0), ((1, 2, 2), 0), ((49,), 0),  # no side divides / too few blocks / flat
        ((1, 30, 30), 2), ((3, 12, 20), 2), ((1, 16, 16), 2), ((4, 4), 2),  # too small for 256 blocks: the finest side
        ((3, 32, 32), 2), ((1, 64, 64), 4), ((3, 64, 64), 4), ((1, 128, 128), 8), ((2, 40, 24), 2),
    ],
)
def test_sizes_without_a_dividing_block_side(shape, side):
    assert block_side(shape) == side
    queries = random_images(9, shape, seed=11)
    references = torch.cat([random_images(20, shape, seed=12), queries[:3]])
    found = assert_exact(queries, references)
    assert found.stats.block == side
    if side == 0:
        assert found.stats.brute_force == 9 and found.stats.exact_pairs == 9 * 23


def test_single_query_and_single_reference():
    one = smooth_images(1, 16, seed=13)
    many = smooth_images(20, 16, seed=14)
    assert_exact(one, many)
    assert_exact(many, one)
    assert_exact(one, one)
    found = exact_nearest(many[:0], many)
    assert found.index.shape == (0,) and found.index.dtype == torch.int64 and found.sq_distance.shape == (0,)


def test_refusals():
    images = random_images(3, (1, 8, 8), seed=15)
    with pytest.raises(ValueError, match="differ in shape"):
        exact_nearest(images, random_images(3, (1, 8, 9), seed=15))
    with pytest.raises(ValueError, match="no reference"):
        exact_nearest(images, images[:0])
    with pytest.raises(ValueError, match="candidates"):
        exact_nearest(images, images, candidates=0)
    with pytest.raises(ValueError, match="NaN"):
        exact_nearest(images.float().fill_(float("nan")), images)
    # Integers too large for float64 to hold their squared distances exactly.
    huge = torch.full((2, 1, 4, 4), 2**26, dtype=torch.int64)
    with pytest.raises(ValueError, match="2\\*\\*53"):
        exact_nearest(huge, -huge)


# --------------------------------------------------------------------------- other dtypes


def test_float_images():
    g = torch.Generator().manual_seed(16)
    references = torch.rand(50, 3, 16, 16, generator=g)
    queries = references[torch.tensor([4, 40, 4])] + 0.01 * torch.randn(3, 3, 16, 16, generator=g)
    queries = torch.cat([queries, torch.rand(10, 3, 16, 16, generator=g)])
    found = exact_nearest(queries, references)
    r = references.flatten(1).double()
    distances = torch.stack([((r - row) ** 2).sum(1) for row in queries.flatten(1).double()])
    assert found.index.tolist() == distances.argmin(1).tolist()
    assert found.index[:3].tolist() == [4, 40, 4]
    assert torch.allclose(found.sq_distance, distances.min(1).values, rtol=1e-12, atol=0)
    assert found.stats.block == 0  # no bounds for non-integer values: plain float64 search
    assert nearest_indices(queries, references).tolist() == found.index.tolist()


def test_integer_valued_floats_and_wider_integers_are_exact():
    references = smooth_images(60, 16, seed=17)
    queries = torch.cat([references[[5, 5, 50]], smooth_images(10, 16, seed=18)])
    as_uint8 = exact_nearest(queries, references)
    for dtype in (torch.float32, torch.float64, torch.int16, torch.int64):
        again = exact_nearest(queries.to(dtype), references.to(dtype))
        assert again.index.tolist() == as_uint8.index.tolist()
        assert again.sq_distance.tolist() == as_uint8.sq_distance.tolist()
        assert again.stats.block == as_uint8.stats.block == 2
    # Signed values outside 0..255: still integers, still exact.
    signed_q, signed_r = queries.int() * 3 - 400, references.int() * 3 - 400
    found = exact_nearest(signed_q, signed_r)
    index, distance = reference(signed_q, signed_r)
    assert found.index.tolist() == index.tolist() and found.sq_distance.tolist() == distance.tolist()


def test_integers_too_large_for_exact_block_bounds_are_searched_without_them():
    """Values up to 2**17 over 128 x 128 pixels: the distances stay exact in float64
    (2 * 2**14 * 2**34 < 2**53), the 8x8 block sums' squared norms, 64x larger, would
    not, so the bounds are dropped."""
    g = torch.Generator().manual_seed(19)
    references = torch.randint(-(2**17), 2**17, (15, 1, 128, 128), generator=g)
    queries = torch.cat([references[[3, 11]], torch.randint(-(2**17), 2**17, (4, 1, 128, 128), generator=g)])
    found = assert_exact(queries, references)
    assert found.stats.block == 0 and found.index[:2].tolist() == [3, 11]
    assert block_side((1, 128, 128)) == 8  # uint8 images of this size do get bounds
    assert exact_nearest(queries.clamp(0, 255), references.clamp(0, 255)).stats.block == 8


# --------------------------------------------------------------------------- pruning


def test_the_bounds_really_prune_smooth_images():
    references = smooth_images(400, 64, seed=20)
    queries = smooth_images(60, 64, seed=21)
    found = assert_exact(queries, references)
    stats = found.stats
    assert (stats.block, stats.fine_block) == (4, 2) and stats.brute_force == 0
    # Exact distances for one or two references per query instead of all 400 (measured:
    # 78 in all), finer bounds for a few more (measured: 434).
    assert 60 <= stats.exact_pairs < 0.02 * 60 * 400
    assert stats.fine_pairs < 0.05 * 60 * 400
    assert stats.pruned_share > 0.98


def test_nearest_indices_is_the_exact_search():
    references = smooth_images(80, 32, 3, seed=22)
    queries = smooth_images(20, 32, 3, seed=23)
    index, _ = reference(queries, references)
    assert nearest_indices(queries, references, chunk=6).tolist() == index.tolist()


def test_pixel_distances_are_the_exact_euclidean_distances():
    references = smooth_images(50, 16, seed=24)
    queries = torch.cat([references[[7, 30]], smooth_images(8, 16, seed=25)])
    distances, index = pixel_distances(queries, references, torch.device("cpu"))
    want_index, want_sq = reference(queries, references)
    assert index.tolist() == want_index.tolist()
    assert distances.dtype == torch.float64 and distances.device.type == "cpu"
    assert distances.tolist() == np.sqrt(want_sq.astype(np.float64)).tolist()
    assert distances[:2].tolist() == [0.0, 0.0]


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_on_cuda_the_results_match_the_cpu():
    references = smooth_images(300, 32, 3, seed=26)
    queries = torch.cat([references[[9, 9, 200]], smooth_images(40, 32, 3, seed=27)])
    noisy = random_images(30, (1, 16, 16), seed=28)
    for q, r in ((queries, references), (noisy, random_images(60, (1, 16, 16), seed=29))):
        cpu = exact_nearest(q, r)
        gpu = exact_nearest(q.cuda(), r.cuda())
        assert gpu.index.device.type == "cuda" and gpu.sq_distance.device.type == "cuda"
        assert gpu.index.cpu().tolist() == cpu.index.tolist()
        assert gpu.sq_distance.cpu().tolist() == cpu.sq_distance.tolist()


@pytest.mark.slow
def test_larger_random_mix_matches_brute_force():
    references = torch.cat([smooth_images(600, 32, 3, seed=30), random_images(200, (3, 32, 32), seed=31)])
    references = references[torch.randperm(800, generator=torch.Generator().manual_seed(32))]
    queries = torch.cat([references[::7], smooth_images(100, 32, 3, seed=33), random_images(30, (3, 32, 32), seed=34)])
    q = queries.flatten(1).double()
    r = references.flatten(1).double()
    found = exact_nearest(queries, references)
    d = torch.stack([((r - row) ** 2).sum(1) for row in q])  # exact: integers below 2**53
    assert found.index.tolist() == d.argmin(1).tolist()
    assert found.sq_distance.tolist() == d.min(1).values.tolist()
