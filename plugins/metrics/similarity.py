"""SSIM, PSNR and MSE of each generated image against a real image, in two protocols.

*nearest-real* (every GAN): see below. *paired* (image-to-image GANs only): each
translation against the real source image it was translated from (key suffix
``_paired_translation``), which says how much of the source the translation keeps.

Papers that report SSIM/PSNR for noise-to-image GANs (the IJACSA 2024 brain-MRI tables,
for one) have no natural "target" image for a sample, so we read their numbers as the
*nearest-real* protocol: each generated image is paired with the most similar real
training image (pixel MSE, within its class), and SSIM/PSNR are measured on that pair.
High values mean the samples look like real images - or that the GAN memorised them;
the numbers cannot tell those apart.

Both metrics share one nearest-neighbour search (:func:`nearest_real`), cached per
Evaluation, so running both costs one search.

The search (:func:`exact_nearest`) is exact, not approximate, yet does most of its work
on images 4-64x smaller. Each image is cut into b x b pixel blocks per channel (b one
of 8, 4, 2 dividing H and W, the largest leaving about 256 blocks: see
:func:`block_side`); with S(x) its block sums and m = b*b, the Cauchy-Schwarz inequality
per block, (sum of m differences)^2 <= m * (sum of their squares), gives
||x - y||^2 >= ||S(x) - S(y)||^2 / m for every pair, and blocks of half the side give a
tighter bound. One matrix product per chunk of queries gives the coarse bounds of all
pairs. Per query, the finer bound picks one of the CANDIDATES references of smallest
coarse bound, and its exact distance d is computed: the nearest reference is at most d
away. Every reference that can beat or tie it has coarse bound <= d and fine bound
<= d, so the few passing both tests get their exact distances too, and the answer is
the lowest-index minimum over those (a bound *equal* to d is checked: it could hide an
equally near reference of lower index). A query whose coarse bounds let more than
BRUTE_FORCE_SHARE of the references through is searched by brute force. The result is
the argmin over the exact distances with the lowest index winning ties, as torch.argmin.

That holds only if every comparison is exact, and it is. uint8 (or other integer) pixels
make squared norms, dot products, block sums and squared distances integers; float64
represents every integer below 2**53 exactly, so every partial sum of
||x||^2 - 2 x.y + ||y||^2 (the bounds, the brute-force products) and of the direct sum
of squared differences (the candidates) is computed without rounding, in any summation
order (BLAS, GPU, TF32 settings do not touch float64). Dividing by m, a power of two, is
exact too. uint8 block sums are held in int16 (at most 64 * 255) and the fine bounds of
pairs summed in int64. uint8 squared differences are summed in float32 over 256 values at a time
(at most 256 * 255^2 < 2**24, float32's exact-integer limit), those sums in float64. The
largest partial sums are the block sums' 2 * D * m * M^2 (D values per image, pixel
magnitude M); for uint8 and m = 64 that stays below 2**53 up to D of about 1.08e9 values
per image (3 x 19,000 x 19,000). Above it the search drops the bounds (exact brute
force while 2 * D * M^2 < 2**53) and raises ValueError beyond. Float images holding only
integer values are searched as integers (cast to uint8 when within 0..255); other float
images get a plain float64 brute-force search (centred on the reference mean), correct
to float64 rounding: near ties may then resolve either way.

Per class (the IJACSA 2024 Table VI reports SSIM and PSNR per tumour class), each
nearest-real score is also written as ``<key>[<class name>]``: the same mean over the
generated images of that class alone. The search already pairs each of them with its
nearest real image of the same class, so the per-class scores reuse its pairing and
search nothing more; a class the reference set has no images of (its generated images
were paired over the whole set) and generated images without a label (-1) have none.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Optional

import torch
from pytorch_msssim import ssim as _msssim_ssim

from ganbench.api import REAL_REFERENCE_PROTOCOL, Evaluation, ImageSplit, Metric, MetricResult, hookimpl, per_class

#: Pixel scale everything here is measured on: the uint8 values 0..255 at rest.
MAX_VALUE = 255.0
#: The standard SSIM window (Wang et al. 2004; skimage's gaussian_weights=True).
WIN_SIZE = 11
WIN_SIGMA = 1.5
#: Fake images per chunk in the nearest-neighbour search (a CHUNK x n_real matrix).
CHUNK = 256
#: References of smallest coarse bound per query among which the finer bound picks the
#: first to measure exactly (see the notes on the exact search above): the nearer that
#: first one, the fewer references its distance lets through.
CANDIDATES = 4
#: Sides of the pixel blocks summed for the lower bounds, largest (cheapest) first.
BLOCK_SIDES = (8, 4, 2)
#: Blocks (over all channels) an image should hold: fewer, larger blocks make cheaper but
#: looser bounds. On random smooth images (8x8 noise upsampled) 256 blocks measured
#: best: at 32x32 b=2 pruned 99.7% of the pairs where b=8 (16 blocks) pruned none; at
#: 64x64 b=4 ran 5x faster than b=8; at 128x128 b=8 (256 blocks) prunes ~99%.
BLOCKS_WANTED = 256
#: Fewest blocks worth a bound at all; smaller images are searched by brute force.
MIN_BLOCKS = 4
#: Pixel values gathered at once to compute the exact distances of listed pairs: small,
#: so the buffers stay in cache (measured 2-5x faster than 2**22 on a CPU).
PAIR_CHUNK_VALUES = 2**16
#: uint8 squared differences summed in float32 per this many values: 256 * 255^2 < 2**24.
U8_SEGMENT = 256
#: Pixel values converted to float64 at once for matrix products (~128 MB).
BRUTE_CHUNK_VALUES = 2**24
#: Queries whose coarse bounds leave more than this share of the references to check are
#: searched by brute force instead: per pair, a matrix product was measured ~8x cheaper
#: on a CPU than gathering the pair's two rows.
BRUTE_FORCE_SHARE = 0.1
#: float64 holds every integer below this exactly.
EXACT_LIMIT = 2.0**53
#: Pixel values per SSIM chunk: ~16 MB per float32 map, about ten maps alive at once.
SSIM_CHUNK_VALUES = 2**22


# --------------------------------------------------------------------------- pure maths


def pairwise_sq_distances(fake: torch.Tensor, real: torch.Tensor) -> torch.Tensor:
    """Squared Euclidean distances (F x R) between flattened float images.

    Uses ||f||^2 - 2 f.r + ||r||^2 (one matrix product) instead of materialising
    differences, which would need F x R x D memory.
    """
    return (
        fake.pow(2).sum(1, keepdim=True)
        - 2.0 * fake @ real.T
        + real.pow(2).sum(1).unsqueeze(0)
    )


@dataclass
class SearchStats:
    """What one :func:`exact_nearest` call did: how much the lower bounds pruned.

    ``exact_pairs`` counts the (query, reference) pairs whose exact distance was
    computed, those of brute-force searches included (F x R when nothing is pruned);
    ``fine_pairs`` those whose finer lower bound was computed (each ~1/4 of an exact
    distance's work or less)."""

    queries: int = 0
    references: int = 0
    #: Side of the pixel blocks of the bounds for all pairs; 0 when the search ran
    #: without bounds (non-integer values, no block side divides H and W, tiny images,
    #: or no more references than CANDIDATES).
    block: int = 0
    #: Side of the finer blocks bounding the candidate pairs (block / 2); 0 when the
    #: coarse blocks are already the finest (b = 2) or there are none.
    fine_block: int = 0
    exact_pairs: int = 0
    fine_pairs: int = 0
    #: Queries settled by one exact distance: no other reference's bound reached it.
    settled_first: int = 0
    #: Queries settled by checking the few other references whose bounds reached it.
    settled_second: int = 0
    #: Queries searched exhaustively (unpruned searches, and queries whose bounds left
    #: more than BRUTE_FORCE_SHARE of the references to check).
    brute_force: int = 0

    @property
    def pruned_share(self) -> float:
        """The share of all F x R pairs whose exact distance was never computed."""
        total = self.queries * self.references
        return 1.0 - self.exact_pairs / total if total else 0.0


@dataclass
class NearestNeighbours:
    """The result of :func:`exact_nearest`, on the queries' device."""

    #: For query i, the index of its nearest reference (F,), int64; the lowest such
    #: index where several are equally near.
    index: torch.Tensor
    #: For query i, its squared Euclidean distance to that reference (F,), float64:
    #: exact for integer pixel values (see the module notes on exactness).
    sq_distance: torch.Tensor
    stats: SearchStats


def block_side(shape: tuple[int, ...]) -> int:
    """The side b of the square pixel blocks the lower bounds sum over, for images of
    ``shape`` (the per-image shape, ``(C, H, W)`` or ``(H, W)``): the largest of
    BLOCK_SIDES that divides both H and W into at least BLOCKS_WANTED blocks (over all
    channels); failing that, the smallest that divides them into at least MIN_BLOCKS;
    failing that (or for images of fewer than two axes) 0: no bounds, brute force."""
    if len(shape) < 2:
        return 0
    height, width = shape[-2], shape[-1]
    channels = math.prod(shape[:-2])
    blocks = {
        side: channels * (height // side) * (width // side)
        for side in BLOCK_SIDES
        if height % side == 0 and width % side == 0
    }
    for side in sorted(blocks, reverse=True):
        if blocks[side] >= BLOCKS_WANTED:
            return side
    return min((side for side in blocks if blocks[side] >= MIN_BLOCKS), default=0)


def _block_sums(images: torch.Tensor, side: int) -> torch.Tensor:
    """:func:`block_sums` of N x [C x] H x W images, kept in int16 for uint8 images
    (sides up to 8: at most 64 * 255 = 16,320) and in float64 for any other dtype."""
    small = images.dtype == torch.uint8 and side <= 8
    step = max(1, BRUTE_CHUNK_VALUES // max(1, math.prod(images.shape[1:])))
    out = [_sum_blocks(images[s : s + step], side, torch.int16 if small else torch.float64) for s in range(0, images.shape[0], step)]
    if not out:
        blocks = math.prod(images.shape[1:]) // side**2
        return torch.zeros(0, blocks, dtype=torch.int16 if small else torch.float64, device=images.device)
    return torch.cat(out)


def _sum_blocks(images: torch.Tensor, side: int, dtype: torch.dtype) -> torch.Tensor:
    """Sums of ``side`` x ``side`` blocks of N x [C x] H x W values, accumulated in
    ``dtype`` (which must hold them exactly), as N x (blocks) rows: each block's rows
    first, then its columns - far faster on a CPU than one reduction over two strided
    axes."""
    n, height, width = images.shape[0], images.shape[-2], images.shape[-1]
    cols = images.reshape(n, -1, height // side, side, width).sum(3, dtype=dtype)
    return cols.reshape(*cols.shape[:-1], width // side, side).sum(-1, dtype=dtype).flatten(1)


def _coarser(sums: torch.Tensor, shape: tuple[int, ...], side: int, factor: int) -> torch.Tensor:
    """Sums of ``side * factor`` blocks from those of ``side`` blocks (``sums``, N x
    blocks rows of images of per-image ``shape``), in the same dtype: int16 sums of uint8
    stay exact up to 8 x 8 blocks."""
    height, width = shape[-2] // side, shape[-1] // side
    return _sum_blocks(sums.reshape(sums.shape[0], -1, height, width), factor, sums.dtype)


def block_sums(images: torch.Tensor, side: int) -> torch.Tensor:
    """Per image, the sums of its ``side`` x ``side`` pixel blocks, per channel, as one
    flat float64 row: (N, C*H*W/side^2). ``images``: N x [C x] H x W, H and W multiples
    of ``side``. Integer pixel values give integer sums, exact in float64."""
    return _block_sums(images, side).double()


def _value_kind(queries: torch.Tensor, references: torch.Tensor) -> tuple[str, float]:
    """How the search can treat the pixel values, and the largest magnitude they have:
    ("uint8", 255) for uint8 images or any integer values within 0..255 (cast to uint8
    losslessly), ("integer", max |value|) for other integer values, ("float", inf) for
    any non-integer value. uint8 is known without reading the data.

    Raises:
        ValueError: complex values, or NaN or infinite ones.
    """
    if queries.dtype == torch.uint8 and references.dtype == torch.uint8:
        return "uint8", 255.0
    both = [queries, references]
    if any(t.dtype.is_complex for t in both):
        raise ValueError("complex images have no pixel distance here")
    if any(t.is_floating_point() for t in both):
        for t in both:
            if t.is_floating_point() and t.numel() and not bool(torch.isfinite(t).all()):
                raise ValueError("images hold NaN or infinite values; no nearest image is defined")
        if not all(bool((t == t.round()).all()) for t in both if t.is_floating_point()):
            return "float", math.inf
    both = [t.to(torch.int16) if t.dtype in (torch.bool, torch.uint8) else t for t in both]
    low = min(float(t.min()) for t in both if t.numel())
    high = max(float(t.max()) for t in both if t.numel())
    if low >= 0 and high <= 255:
        return "uint8", 255.0
    return "integer", max(abs(low), abs(high))


def _sq_norms(rows: torch.Tensor) -> torch.Tensor:
    """float64 squared norms of the rows (N x D), converted a chunk at a time."""
    step = max(1, BRUTE_CHUNK_VALUES // max(1, rows.shape[1]))
    out = [rows[s : s + step].double().pow(2).sum(1) for s in range(0, rows.shape[0], step)]
    return torch.cat(out) if out else torch.zeros(0, dtype=torch.float64, device=rows.device)


def _brute_force(queries: torch.Tensor, references: torch.Tensor, ref_norms: torch.Tensor, chunk: int) -> tuple[torch.Tensor, torch.Tensor]:
    """(nearest index, squared distance) of every query row over every reference row:
    float64 products ||x||^2 - 2 x.y + ||y||^2 over chunks of queries x chunks of
    references. Within a chunk the lowest index of the minimum wins; the chunks ascend
    and a later one must be strictly nearer to win, so ties go to the lowest index."""
    n_ref, dim = references.shape
    ref_step = max(1, BRUTE_CHUNK_VALUES // max(1, dim))
    whole = references.double() if ref_step >= n_ref else None
    index, distance = [], []
    for start in range(0, queries.shape[0], chunk):
        block = queries[start : start + chunk].double()
        block_norms = block.pow(2).sum(1, keepdim=True)
        best = torch.full((block.shape[0],), math.inf, dtype=torch.float64, device=block.device)
        winner = torch.zeros(block.shape[0], dtype=torch.long, device=block.device)
        for r0 in range(0, n_ref, ref_step):
            refs = whole if whole is not None else references[r0 : r0 + ref_step].double()
            d = block_norms - 2.0 * block @ refs.T + ref_norms[r0 : r0 + refs.shape[0]].unsqueeze(0)
            value = d.min(1).values
            local = torch.arange(r0, r0 + refs.shape[0], device=block.device)
            at = torch.where(d == value.unsqueeze(1), local, n_ref).min(1).values
            better = value < best
            best = torch.where(better, value, best)
            winner = torch.where(better, at, winner)
        index.append(winner)
        distance.append(best)
    return torch.cat(index), torch.cat(distance)


def _pair_sq_distances(queries: torch.Tensor, references: torch.Tensor, qi: torch.Tensor, ri: torch.Tensor) -> torch.Tensor:
    """float64 squared distances of the listed pairs (queries[qi[j]], references[ri[j]]),
    summing squared differences directly, a few pairs at a time (small enough to stay
    in cache). Exact for integer values: uint8 rows are summed in float32 over segments
    of U8_SEGMENT values (each partial sum an integer <= 256 * 255^2 < 2**24, which
    float32 holds exactly) and the segment sums in float64; int16 rows (block sums,
    |difference| < 2**15) are squared in int32 and summed in int64; others in float64."""
    out = torch.empty(qi.shape[0], dtype=torch.float64, device=queries.device)
    dim = queries.shape[1]
    step = max(1, PAIR_CHUNK_VALUES // max(1, dim))
    whole = dim - dim % U8_SEGMENT
    for s in range(0, qi.shape[0], step):
        a, b = queries[qi[s : s + step]], references[ri[s : s + step]]
        if a.dtype == torch.uint8:
            diff = a.float() - b.float()
            diff.mul_(diff)
            total = diff[:, :whole].reshape(diff.shape[0], -1, U8_SEGMENT).sum(-1).sum(-1, dtype=torch.float64)
            if whole < dim:
                total += diff[:, whole:].sum(-1, dtype=torch.float64)
        elif a.dtype == torch.int16:
            diff = a.int() - b.int()
            total = diff.mul_(diff).sum(1, dtype=torch.int64).double()
        else:
            diff = a.double() - b.double()
            total = diff.mul_(diff).sum(1)
        out[s : s + step] = total
    return out


def exact_nearest(queries: torch.Tensor, references: torch.Tensor, chunk: int = CHUNK, candidates: int = CANDIDATES) -> NearestNeighbours:
    """For every query image, the reference image at the smallest squared Euclidean
    pixel distance, and that distance (see the module notes for how it stays exact).

    Args:
        queries: F x ... images (uint8, another integer dtype, or float), on any device.
        references: R x ... images of the same per-image shape; moved to the queries'
            device.
        chunk: queries handled per matrix product (bounds a chunk x R matrix).
        candidates: references of smallest coarse bound per query among which the finer
            bound picks the first to measure exactly.

    Returns:
        :class:`NearestNeighbours`: ``index`` (F,) int64 - equal to the argmin over
        the exact distances with the lowest index winning ties -, ``sq_distance`` (F,)
        float64, and the search's :class:`SearchStats`. Images laid out N x [C x] H x W
        are pruned with block-sum bounds; any other layout (N x D) is searched
        exhaustively.

    Raises:
        ValueError: the per-image shapes differ, there are no references,
            ``candidates`` is below 1, the values are complex, NaN or infinite, or
            integer values are too large for float64 to hold their squared distances
            exactly (2 * D * max|value|^2 >= 2**53).
    """
    if queries.shape[1:] != references.shape[1:]:
        raise ValueError(f"query images {tuple(queries.shape[1:])} and reference images {tuple(references.shape[1:])} differ in shape")
    if references.shape[0] == 0:
        raise ValueError("no reference images to search")
    if candidates < 1:
        raise ValueError(f"candidates must be at least 1, not {candidates}")
    device = queries.device
    references = references.to(device)
    n_query, n_ref = queries.shape[0], references.shape[0]
    shape = tuple(queries.shape[1:])
    dim = math.prod(shape)
    stats = SearchStats(n_query, n_ref)
    if n_query == 0:
        return NearestNeighbours(
            torch.zeros(0, dtype=torch.long, device=device), torch.zeros(0, dtype=torch.float64, device=device), stats
        )
    kind, magnitude = _value_kind(queries, references)
    integer = kind != "float"
    if integer and 2.0 * dim * magnitude**2 >= EXACT_LIMIT:
        raise ValueError(
            f"images of {dim} values up to {magnitude:g} are too large for exact float64 distances "
            f"(2 * values * max^2 must stay below 2**53)"
        )
    if kind == "uint8":
        queries, references = queries.to(torch.uint8), references.to(torch.uint8)
    elif kind == "integer":
        # Held as float64: every value is an integer below 2**26, so exact.
        queries, references = queries.double(), references.double()
    q_flat, r_flat = queries.reshape(n_query, dim), references.reshape(n_ref, dim)
    if not integer:
        # Float values: no exactness to keep; centring on the reference mean leaves the
        # distances unchanged and shrinks the norms the float64 expansion cancels.
        centre = r_flat.double().mean(0, keepdim=True)
        r_flat, q_flat = r_flat.double() - centre, q_flat.double() - centre
    side = block_side(shape) if integer and n_ref > candidates else 0
    if side and 2.0 * dim * side * side * magnitude**2 >= EXACT_LIMIT:
        side = 0  # the block sums' squared norms would leave float64's exact integers
    if not side:
        stats.brute_force = n_query
        stats.exact_pairs = n_query * n_ref
        index, distance = _brute_force(q_flat, r_flat, _sq_norms(r_flat), chunk)
        if not integer:
            # The float64 expansion rounds; report the distance of the pair found,
            # summed directly.
            distance = _pair_sq_distances(q_flat, r_flat, torch.arange(n_query, device=device), index)
        return NearestNeighbours(index, distance, stats)

    fine = side // 2 if side > 2 else 0
    stats.block, stats.fine_block = side, fine
    m, m_fine = side * side, fine * fine  # powers of two: numerator / m is exact
    # Coarse sums from the fine ones: one pass over the pixels.
    ref_fine = _block_sums(references, fine) if fine else None
    ref_sums = (_coarser(ref_fine, shape, fine, 2) if fine else _block_sums(references, side)).double()
    ref_sum_norms = ref_sums.pow(2).sum(1).unsqueeze(0)
    k = min(candidates, n_ref)
    ref_norms = None  # only a brute-force fallback needs them
    index, distance = [], []
    for start in range(0, n_query, chunk):
        block = q_flat[start : start + chunk]
        n = block.shape[0]
        rows = torch.arange(n, device=device)
        q_fine = _block_sums(queries[start : start + chunk], fine) if fine else None
        sums = (_coarser(q_fine, shape, fine, 2) if fine else _block_sums(queries[start : start + chunk], side)).double()
        # m * the lower bound of every pair, an exact integer in float64:
        # ||S(x)||^2 - 2 S(x).S(y) + ||S(y)||^2.
        coarse = sums.pow(2).sum(1, keepdim=True) - 2.0 * sums @ ref_sums.T + ref_sum_norms
        cand = coarse.topk(k, dim=1, largest=False, sorted=True).indices
        if fine:
            # Among the k coarse candidates, the one of smallest finer bound.
            tight = _pair_sq_distances(q_fine, ref_fine, rows.repeat_interleave(k), cand.reshape(-1)).view(n, k)
            stats.fine_pairs += n * k
            first = cand.gather(1, tight.argmin(1, keepdim=True)).squeeze(1)
        else:
            first = cand[:, 0]
        best = _pair_sq_distances(block, r_flat, rows, first)
        winner = first
        stats.exact_pairs += n
        # Every reference at least as near as ``first`` has a coarse bound <= best: those
        # are all that can beat it, or tie it (and an equal one of lower index must win,
        # so bound == best is checked too).
        todo = coarse <= (best * m).unsqueeze(1)
        todo[rows, first] = False
        counts = todo.sum(1)
        settled = counts == 0
        heavy = counts > BRUTE_FORCE_SHARE * n_ref
        stats.settled_first += int(settled.sum())
        heavy_rows = heavy.nonzero().squeeze(1)
        if heavy_rows.shape[0]:
            # Bounds too loose to pay: all references, by matrix products.
            if ref_norms is None:
                ref_norms = _sq_norms(r_flat)
            again, again_d = _brute_force(block[heavy_rows], r_flat, ref_norms, heavy_rows.shape[0])
            best, winner = best.clone(), winner.clone()
            best[heavy_rows], winner[heavy_rows] = again_d, again
            stats.brute_force += heavy_rows.shape[0]
            stats.exact_pairs += heavy_rows.shape[0] * (n_ref - 1)  # ``first`` was counted already
            todo[heavy_rows] = False
        stats.settled_second += n - int(settled.sum()) - heavy_rows.shape[0]
        qi, ri = todo.nonzero(as_tuple=True)
        if fine and qi.shape[0]:
            # The finer bound (within at most the coarse one's cost / 4) drops most of them.
            tight = _pair_sq_distances(q_fine, ref_fine, qi, ri)
            stats.fine_pairs += qi.shape[0]
            keep = tight <= best[qi] * m_fine
            qi, ri = qi[keep], ri[keep]
        if qi.shape[0]:
            d = _pair_sq_distances(block, r_flat, qi, ri)
            stats.exact_pairs += qi.shape[0]
            # The lexicographic minimum of (distance, index) over ``first`` and the pairs.
            fresh = torch.full((n,), math.inf, dtype=torch.float64, device=device).scatter_reduce(0, qi, d, "amin")
            new_best = torch.minimum(best, fresh)
            tied = torch.where(d == new_best[qi], ri, n_ref)
            fresh_winner = torch.full((n,), n_ref, dtype=torch.long, device=device).scatter_reduce(0, qi, tied, "amin")
            winner = torch.minimum(torch.where(best == new_best, winner, n_ref), fresh_winner)
            best = new_best
        index.append(winner)
        distance.append(best)
    return NearestNeighbours(torch.cat(index), torch.cat(distance), stats)


def nearest_indices(fake: torch.Tensor, real: torch.Tensor, chunk: int = CHUNK) -> torch.Tensor:
    """For each image in ``fake`` (F x ..., uint8 or float), the index into ``real``
    (R x ..., the same per-image shape) of the image with the smallest pixel MSE: (F,)
    int64 on ``fake``'s device, the lowest index where several tie. An exact search
    (:func:`exact_nearest`), pruned with block-sum lower bounds.

    Raises:
        ValueError: as :func:`exact_nearest` (shapes differ, ``real`` is empty, ...).
    """
    return exact_nearest(fake, real, chunk=chunk).index


def pair_mse(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Per-pair mean squared error (N,), in float64 on the images' own scale."""
    return (a.double() - b.double()).pow(2).flatten(1).mean(1)


def psnr_from_mse(mse: torch.Tensor, max_value: float = MAX_VALUE) -> torch.Tensor:
    """10 log10(MAX^2 / MSE); +inf where MSE is 0 (identical images)."""
    return 10.0 * torch.log10(max_value**2 / mse.double())


def capped_pair_psnr(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Per-pair PSNR (N,) of uint8 images, an exact copy scoring as if one value were
    off by one: the largest finite PSNR such images can have, instead of +inf, so a
    single copy cannot make a mean infinite while copies still score highest."""
    return psnr_from_mse(pair_mse(a, b).clamp_min(min_nonzero_mse(a.shape[1:])))


def min_nonzero_mse(shape: torch.Size) -> float:
    """The smallest non-zero MSE two uint8 images of ``shape`` (C, H, W) can have: one
    value off by one."""
    return 1.0 / math.prod(shape)


def ssim_window(height: int, width: int) -> int:
    """The standard 11-pixel window, or the largest odd window that fits a smaller
    image (pytorch_msssim would otherwise silently skip smoothing along that axis)."""
    fit = min(height, width)
    return WIN_SIZE if fit >= WIN_SIZE else fit - (1 - fit % 2)


def mean_pair_ssim(a: torch.Tensor, b: torch.Tensor, device: Optional[torch.device] = None) -> float:
    """Mean SSIM over the pairs (a[i], b[i]) of uint8 images on the 0..255 scale, each
    pair's SSIM being the mean over its channels.

    Every (image, channel) is laid out as a channel of a single batch item, so
    pytorch_msssim filters them all with one depthwise convolution: on a CPU that is
    3-4x faster than a batch of one-channel images (and float64 would be ~50x slower
    still, for a difference of ~1e-8). The mean over channels of all pairs equals the
    mean over pairs of their per-image SSIM because every pair has C channels.
    """
    n, c, h, w = a.shape
    if n == 0:
        raise ValueError("no image pairs to compare")
    win = ssim_window(h, w)
    chunk = max(1, SSIM_CHUNK_VALUES // (c * h * w))
    total = 0.0
    for start in range(0, n, chunk):
        x = a[start : start + chunk].to(device).float()
        y = b[start : start + chunk].to(device).float()
        k = x.shape[0]
        value = _msssim_ssim(
            x.reshape(1, k * c, h, w), y.reshape(1, k * c, h, w),
            data_range=MAX_VALUE, win_size=win, win_sigma=WIN_SIGMA,
        )
        total += float(value) * k
    return total / n


# --------------------------------------------------------------------------- the search


@dataclass
class NearestReal:
    """The pairing of every generated image with its nearest real image."""

    #: The capped real reference set the search ran over.
    real: ImageSplit
    #: For fake image i, the index into ``real`` of its partner (N_fake,).
    index: torch.Tensor
    #: For fake image i, whether its partner was searched within its own class (N_fake,
    #: bool): False for a label that is negative or that the reference set lacks.
    within_class: torch.Tensor
    #: The labels of the generated images searched for (N_fake,).
    fake_labels: torch.Tensor

    def partners(self) -> torch.Tensor:
        return self.real.images[self.index]

    def classes(self) -> dict[int, torch.Tensor]:
        """Label -> positions of the generated images of that class paired within it, for
        every label some generated image was paired within its class, ascending."""
        labels = self.fake_labels[self.within_class]
        return {
            label: (self.within_class & (self.fake_labels == label)).nonzero().squeeze(1)
            for label in sorted(set(labels.tolist()))
        }


def search(fake: ImageSplit, real: ImageSplit, device: torch.device) -> NearestReal:
    """Nearest real image per fake image, within the fake's class where the reference
    set has images of that class, otherwise over the whole reference set (labels that
    are negative or unknown to the real set carry no class information)."""
    if fake.images.shape[1:] != real.images.shape[1:]:
        raise ValueError(
            f"generated images {tuple(fake.images.shape[1:])} and real images "
            f"{tuple(real.images.shape[1:])} differ in shape; cannot pair them"
        )
    if len(real) == 0:
        raise ValueError("the real reference set is empty; nothing to pair generated images with")
    index = torch.empty(len(fake), dtype=torch.long)
    real_classes = set(real.labels.tolist())
    done = torch.zeros(len(fake), dtype=torch.bool)
    for label in sorted(set(fake.labels.tolist())):
        if label < 0 or label not in real_classes:
            continue
        fake_pos = (fake.labels == label).nonzero().squeeze(1)
        real_pos = (real.labels == label).nonzero().squeeze(1)
        local = nearest_indices(fake.images[fake_pos].to(device), real.images[real_pos].to(device))
        index[fake_pos] = real_pos[local.cpu()]
        done[fake_pos] = True
    rest = (~done).nonzero().squeeze(1)
    if len(rest):
        index[rest] = nearest_indices(fake.images[rest].to(device), real.images.to(device)).cpu()
    return NearestReal(real, index, done, fake.labels.cpu())


def nearest_real(evaluation: Evaluation) -> NearestReal:
    """The pairing for an Evaluation, searched once and shared by SSIM and PSNR."""
    return evaluation.shared(
        "nearest-real", lambda: search(evaluation.fake, evaluation.real_reference(), evaluation.device)
    )


# --------------------------------------------------------------------------- plugins

_MEMORISATION = (
    "High values can also mean the GAN memorised training images, so read them beside "
    "a diversity or distribution metric."
)
_PAIRING = REAL_REFERENCE_PROTOCOL + (
    "Each generated image is paired with its nearest real image in the reference set by "
    "pixel MSE, searched within the generated image's class (over the whole reference set "
    "when the class is absent from it). "
)


class _NearestRealMetric(Metric):
    kind = "paired"
    direction = "higher"
    #: The values one score can take; every result key of the metric shares it.
    score_range: tuple[float, float] = (-float("inf"), float("inf"))

    def score(self, fake: torch.Tensor, real: torch.Tensor, device: torch.device) -> float:
        """The mean over pairs (fake[i], real[i]) of uint8 images."""
        raise NotImplementedError

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        prefix = cls.name.replace("-", "_")
        cls.result_keys = (f"{prefix}_nearest_real", f"{prefix}_paired_translation", f"{prefix}_paired_cycle")
        cls.headline_keys = (f"{prefix}_nearest_real",)
        cls.value_ranges = dict.fromkeys(cls.result_keys, cls.score_range)
        cls.protocol = cls.protocol + (
            f" For image-to-image GANs, `{prefix}_paired_translation` is the same measure between each "
            "translation and the held-out real source image it was translated from, and "
            f"`{prefix}_paired_cycle` between that source and its cycle reconstruction (the "
            "translation translated back)."
            f" Per class, `{prefix}_nearest_real[<class>]` is the same mean over the generated images of "
            "that class alone, each paired with its nearest real image of the same class in the reference "
            "set, for every class whose generated images carry their label (none for an unconditional GAN "
            "trained on all classes at once) and that the reference set has images of; the unqualified key "
            "stays the mean over all generated images."
        )
        cls.per_class_keys = (f"{prefix}_nearest_real",)

    def compute(self, evaluation: Evaluation, classifier=None) -> MetricResult:
        pairing = nearest_real(evaluation)
        partners = pairing.partners()
        values = {self.result_keys[0]: self.score(evaluation.fake.images, partners, evaluation.device)}
        class_names = evaluation.data.class_names
        for label, positions in pairing.classes().items():
            if 0 <= label < len(class_names):
                values[per_class(self.result_keys[0], class_names[label])] = self.score(
                    evaluation.fake.images[positions], partners[positions], evaluation.device
                )
        if evaluation.sources is not None:
            values[self.result_keys[1]] = self.score(evaluation.fake.images, evaluation.sources.images, evaluation.device)
        if evaluation.reconstructions is not None:
            values[self.result_keys[2]] = self.score(
                evaluation.reconstructions.images, evaluation.sources.images, evaluation.device
            )
        return MetricResult(values, n_real=len(pairing.real), n_fake=len(evaluation.fake))


class SSIM(_NearestRealMetric):
    name = "ssim"
    description = "Mean SSIM of each generated image with its nearest real training image"
    source = "Wang et al., IEEE TIP 2004 (SSIM); nearest-real reading of the IJACSA 2024 brain-MRI tables"
    protocol = (
        _PAIRING + "SSIM (pytorch_msssim, 11x11 gaussian window, sigma 1.5, K=(0.01, 0.03), "
        "data_range 255 on the uint8 pixel values, valid-region mean, averaged over "
        "channels; images under 11 px per side use the largest odd window that fits) "
        "is computed per pair and averaged over all generated images. " + _MEMORISATION
    )

    score_range = (-1.0, 1.0)

    def score(self, fake, real, device):
        return mean_pair_ssim(fake, real, device)


class PSNR(_NearestRealMetric):
    name = "psnr"
    description = "Mean PSNR (dB) of each generated image with its nearest real training image"
    source = "Nearest-real reading of the IJACSA 2024 brain-MRI tables"
    protocol = (
        _PAIRING + "PSNR = 10 log10(255^2 / MSE) on the uint8 pixel values is computed per "
        "pair and averaged (in dB) over all generated images. An exact copy (MSE 0) is "
        "scored as if one value were off by one (MSE 1/(C*H*W)), the highest finite PSNR "
        "uint8 images of that size can have, so one copy cannot make the mean infinite. "
        + _MEMORISATION
    )

    score_range = (0.0, float("inf"))  # MSE is at most 255^2

    def score(self, fake, real, device):
        return float(capped_pair_psnr(fake, real).mean())


class MSE(_NearestRealMetric):
    name = "mse"
    description = "Mean squared error (grey levels^2) of each generated image with its nearest real training image"
    source = "Nearest-real reading of the IJACSA 2024 brain-MRI tables (MSE beside PSNR)"
    direction = "lower"
    protocol = (
        _PAIRING + "MSE is the mean over pixels and channels of the squared difference of "
        "the uint8 pixel values (0..255 scale), averaged over all generated images. "
        "The pairing minimises exactly this quantity, so it is the distance to the "
        "nearest real image. " + _MEMORISATION
    )

    score_range = (0.0, MAX_VALUE**2)

    def score(self, fake, real, device):
        return float(pair_mse(fake, real).mean())


@hookimpl
def register_metrics(register):
    register(SSIM())
    register(PSNR())
    register(MSE())
