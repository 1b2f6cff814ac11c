"""The embedded default dataset: a procedural brain-MRI phantom.

Why it exists
-------------
``ganbench run --suite brain-mri`` has to work on a fresh machine with no data download
and no patient data. This module draws a deterministic, synthetic stand-in for the
Kaggle "Brain Tumor Classification (MRI)" dataset, with its four classes in its order:
``glioma_tumor``, ``meningioma_tumor``, ``no_tumor``, ``pituitary_tumor``.

What it draws
-------------
One axial, T1-like (contrast-enhanced look) slice per image, in pure numpy:

* dark background; a bright scalp ring, a dark bony skull with a faint diploe line and a
  thin dark CSF rim, all ellipses with thickness and a slightly irregular, egg-shaped
  outline (wider at the back);
* the brain: cortex (grey matter, slightly darker) around white matter whose boundary is
  folded by smoothed noise into gyri, dark sulci cut in from the surface, a dark
  interhemispheric fissure on the midline, two mirrored dark crescent-shaped lateral
  ventricles near the centre and grey deep nuclei beside them;
* per image: random head rotation (+-15 deg), scale, position jitter, ventricle size,
  a smooth bias field, global gain / gamma, mild Rician-like noise and a slight blur.

The classes differ only in the lesion (the anatomy and the noise are drawn from their
own random streams, so one seed rendered with two labels differs only around the lesion):

* ``glioma_tumor``: an irregular, lobulated intra-axial mass inside one hemisphere, with
  a dark necrotic core, a bright irregular enhancing rim, a dark oedema halo and mass
  effect (nearby ventricle and midline pushed away);
* ``meningioma_tumor``: a round/oval, homogeneous, bright extra-axial mass based on the
  dura: flattened against the inner table of the skull, with a short dural tail and
  mass effect on the brain;
* ``pituitary_tumor``: a small, bright, roundish mass on the midline in the
  lower-central (sellar) part of the slice;
* ``no_tumor``: no lesion.

Lesion sizes vary. Images are rendered at ``max(128, 2 * size)`` (``size`` itself above
256 px) and area-downsampled, so 32..256 px outputs are anti-aliased.

What it is not
--------------
It is not real anatomy and not patient data. Results on it measure whether the pipeline
and the GANs work, not how they do on MRI: they are never compared with papers' numbers
(:attr:`ganbench.specs.LoadedData.synthetic` is True).

Determinism
-----------
Every image comes from its own generator, ``numpy.random.default_rng([seed, label,
index])``, so a split is byte-identical on every call, independent of the global random
state, and its first ``n`` images per class do not change when ``n_per_class`` grows.
The train split uses seed 0 and the test split seed 1, whatever the run seed. (Float
maths in numpy's vectorised ``exp``/``sin`` may differ in the last bit between CPUs, which
can in rare cases move one pixel by one grey level and so change the fingerprint on
another machine.)
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from functools import lru_cache
from pathlib import Path
from typing import Optional

import numpy as np
import torch
from PIL import Image

from ganbench.api import (
    Dataset,
    DatasetLayoutError,
    GanbenchError,
    ImageSplit,
    LoadedData,
    Progress,
    SilentProgress,
    hookimpl,
)

CLASS_NAMES = ("glioma_tumor", "meningioma_tumor", "no_tumor", "pituitary_tumor")
GLIOMA, MENINGIOMA, NO_TUMOR, PITUITARY = range(4)

#: Bump whenever the rendering changes: it is part of the dataset fingerprint.
PHANTOM_VERSION = "brain-phantom-v1"

TRAIN_SEED = 0
TEST_SEED = 1

#: Grid on which the smooth random fields (texture, folds, bias field) are drawn; they
#: are then resized to the render grid, so an image's anatomy does not depend on ``size``.
_FIELD_GRID = 96


# --------------------------------------------------------------------------- helpers


def _render_resolution(size: int) -> int:
    return size if size > 256 else max(128, 2 * size)


@lru_cache(maxsize=16)
def _gaussian_transfer(grid: int, sigmas: tuple[float, ...]) -> np.ndarray:
    fy = np.fft.fftfreq(grid)[:, None]
    fx = np.fft.rfftfreq(grid)[None, :]
    s2 = np.asarray(sigmas, dtype=np.float64)[:, None, None] ** 2
    return np.exp(-2.0 * np.pi**2 * s2 * (fx**2 + fy**2)[None])


def _smooth_noise(rng: np.random.Generator, grid: int, sigmas: tuple[float, ...]) -> np.ndarray:
    """``len(sigmas)`` periodic gaussian-filtered white-noise fields (FFT), each zero mean
    and unit std, shape ``(len(sigmas), grid, grid)`` float32."""
    white = rng.standard_normal((len(sigmas), grid, grid), dtype=np.float32)
    fields = np.fft.irfft2(np.fft.rfft2(white) * _gaussian_transfer(grid, tuple(sigmas)), s=(grid, grid))
    fields -= fields.mean(axis=(1, 2), keepdims=True)
    fields /= np.maximum(fields.std(axis=(1, 2), keepdims=True), 1e-12)
    return fields.astype(np.float32)


def _resize_float(field: np.ndarray, size: int, resample=Image.Resampling.BICUBIC) -> np.ndarray:
    if field.shape == (size, size):
        return field.astype(np.float32, copy=False)
    img = Image.fromarray(np.ascontiguousarray(field, dtype=np.float32), mode="F")
    return np.asarray(img.resize((size, size), resample=resample), dtype=np.float32)


def _gaussian_blur(img: np.ndarray, sigma: float) -> np.ndarray:
    """Separable gaussian blur with reflected borders (no scipy)."""
    if sigma <= 0.05:
        return img
    radius = max(1, int(np.ceil(3.0 * sigma)))
    taps = np.arange(-radius, radius + 1, dtype=np.float64)
    kernel = np.exp(-0.5 * (taps / sigma) ** 2)
    kernel = (kernel / kernel.sum()).astype(np.float32)
    out = img
    for axis in (0, 1):
        pad = [(0, 0), (0, 0)]
        pad[axis] = (radius, radius)
        padded = np.pad(out, pad, mode="reflect")
        n = out.shape[axis]
        acc = np.zeros_like(out)
        for i, w in enumerate(kernel):
            sl = [slice(None), slice(None)]
            sl[axis] = slice(i, i + n)
            acc += w * padded[tuple(sl)]
        out = acc
    return out


def _soft_inside(dist: np.ndarray, edge: float) -> np.ndarray:
    """1 inside (``dist < 0``), 0 outside, linear ramp ``edge`` wide across the border."""
    return np.clip(0.5 - dist * (1.0 / edge), 0.0, 1.0)


def _ramp(x: np.ndarray, lo: float, hi: float) -> np.ndarray:
    """0 below ``lo``, 1 above ``hi``, linear between."""
    return np.clip((x - lo) * (1.0 / (hi - lo)), 0.0, 1.0)


def _lerp(base: np.ndarray, value, weight: np.ndarray) -> np.ndarray:
    return base + (value - base) * weight


def _harmonics(du: np.ndarray, dv: np.ndarray, amps, phases, first: int) -> np.ndarray:
    """``sum_k amps[k] * cos((first + k) * angle + phases[k])`` with ``angle`` the polar
    angle of (du, dv), by complex powers instead of arctan2/cos."""
    z = (du + 1j * dv).astype(np.complex64)
    z /= np.maximum(np.abs(z), np.float32(1e-6))
    zk = z**first
    out = np.zeros(du.shape, dtype=np.float32)
    for a, p in zip(amps, phases):
        out += (zk * np.complex64(a * np.exp(1j * p))).real
        zk = zk * z
    return out


# --------------------------------------------------------------------------- rendering


def render_phantom(label: int, size: int, rng: np.random.Generator) -> np.ndarray:
    """One axial T1-like slice of class ``label`` (index into :data:`CLASS_NAMES`),
    ``size`` x ``size`` uint8. Deterministic given the state of ``rng``."""
    label = int(label)
    if label not in range(len(CLASS_NAMES)):
        raise ValueError(f"label must be 0..{len(CLASS_NAMES) - 1}, got {label}")
    size = int(size)
    if size < 8:
        raise ValueError(f"size must be at least 8 px, got {size}")

    # Three independent streams: anatomy, lesion, noise. The lesion stream is only
    # consumed by tumour classes, so it never shifts the anatomy or the noise.
    anat_seed, lesion_seed, noise_seed = (int(s) for s in rng.integers(0, 2**63 - 1, size=3))
    arng = np.random.default_rng(anat_seed)
    lrng = np.random.default_rng(lesion_seed)
    nrng = np.random.default_rng(noise_seed)

    def a_(lo, hi):
        return float(arng.uniform(lo, hi))

    def l_(lo, hi):
        return float(lrng.uniform(lo, hi))

    res = _render_resolution(size)
    px = 2.0 / res  # one render pixel in normalised image units ([-1, 1] across)

    # ---- anatomy parameters (fixed order of draws; plain floats keep the maths float32)
    theta = np.deg2rad(a_(-15.0, 15.0))
    scale = a_(0.8, 0.96)
    cx, cy = a_(-0.06, 0.06), a_(-0.06, 0.06)
    head_a = 0.74 * a_(0.94, 1.04)  # half-width (left-right)
    head_b = 0.90 * a_(0.97, 1.03)  # half-height (front-back)
    egg = a_(0.03, 0.08)  # wider at the back
    harm_amp = [a_(0.0, 0.015) for _ in range(3)]
    harm_phase = [a_(0.0, 2 * np.pi) for _ in range(3)]
    scalp_in = a_(0.925, 0.95)
    skull_in = scalp_in - a_(0.05, 0.07)
    brain_edge = skull_in - a_(0.012, 0.022)
    i_scalp = a_(0.6, 0.85)
    i_bone = a_(0.06, 0.14)
    i_diploe = a_(0.25, 0.45)
    i_csf = a_(0.04, 0.1)
    i_wm = a_(0.6, 0.68)
    i_gm = i_wm - a_(0.15, 0.24)
    i_deep = i_gm + a_(0.0, 0.05)
    vent_size = a_(0.75, 1.35)
    vent_asym = a_(0.9, 1.1)
    vent_open = a_(0.0, 0.5)
    wm_depth = a_(0.62, 0.7)
    gain = a_(0.85, 1.12)
    gamma = a_(0.85, 1.2)
    bias_amp = a_(0.03, 0.12)
    noise_sigma = a_(0.008, 0.035)
    blur_sigma = a_(0.35, 0.9)
    # smooth fields on fixed grids (so the anatomy does not depend on the output size)
    fold, sulci, texture = (_resize_float(f, res) for f in _smooth_noise(arng, _FIELD_GRID, (1.6, 1.4, 0.8)))
    bias, outline = (_resize_float(f, res) for f in _smooth_noise(arng, 24, (2.5, 1.5)))

    # ---- lesion parameters (only tumour classes draw them)
    lesion: dict = {}
    lesion_field = None
    if label == GLIOMA:
        side = 1.0 if lrng.random() < 0.5 else -1.0
        radius = l_(0.10, 0.22)
        # centre inside one hemisphere, clear of the midline and the cortex edge
        for _ in range(32):
            lu = side * l_(0.18, 0.5) * head_a
            lv = l_(-0.5, 0.5) * head_b
            rr = np.hypot(lu / (head_a * brain_edge), lv / (head_b * brain_edge))
            if rr + radius / (head_a * brain_edge) < 0.93 and abs(lu) > radius * 0.7 + 0.05:
                break
        lesion = dict(
            u=lu, v=lv, radius=radius,
            amps=[l_(0.0, 0.18) / (k + 1) for k in range(4)], phases=[l_(0.0, 2 * np.pi) for _ in range(4)],
            core=l_(0.45, 0.72), rim=l_(0.82, 0.98), i_core=l_(0.15, 0.3),
            oedema=l_(1.25, 1.7), push=l_(0.25, 0.45), spread=2.0,
        )
        lesion_field = _resize_float(_smooth_noise(lrng, _FIELD_GRID, (2.0,))[0], res)
    elif label == MENINGIOMA:
        lesion = dict(
            phi=l_(0.0, 2 * np.pi), radius=l_(0.10, 0.21), aspect=l_(0.8, 1.2), embed=l_(0.35, 0.7),
            i_mass=l_(0.78, 0.92), tail=l_(0.15, 0.35), push=l_(0.15, 0.3), spread=1.4,
        )
        lesion_field = _resize_float(_smooth_noise(lrng, _FIELD_GRID, (1.5,))[0], res)
    elif label == PITUITARY:
        lesion = dict(
            u=l_(-0.015, 0.015) * head_a, v=l_(0.14, 0.3) * head_b,
            radius=l_(0.06, 0.12), aspect=l_(0.8, 1.25), i_mass=l_(0.86, 1.0), tilt=l_(-0.4, 0.4),
        )

    # ---- coordinates: image grid -> head frame (u: left-right, v: front(-)/back(+))
    coords = (np.arange(res, dtype=np.float32) + 0.5) * np.float32(px) - 1.0
    X, Y = np.meshgrid(coords - cx, coords - cy)
    ct, st = float(np.cos(theta)) / scale, float(np.sin(theta)) / scale
    U = ct * X + st * Y
    V = ct * Y - st * X
    hpx = px / scale  # one pixel in head units
    redge = 1.6 * hpx / min(head_a, head_b)  # ~1.6 px in radius units

    # ---- head: scalp, skull, CSF (elliptical radius with an irregular outline)
    wobble = 1.0 + 0.006 * outline + _harmonics(U, V, harm_amp, harm_phase, 2)
    inv_wobble = 1.0 / wobble

    def radius_of(u, v):
        ue = u / (1.0 + (egg / head_b) * v)
        return np.sqrt((ue * (1.0 / head_a)) ** 2 + (v * (1.0 / head_b)) ** 2) * inv_wobble

    R = radius_of(U, V)
    img = i_scalp * (1.0 + 0.06 * texture) * _soft_inside(R - 1.0, redge)
    img = _lerp(img, i_bone, _soft_inside(R - scalp_in, redge))
    diploe_r = 0.5 * (scalp_in + skull_in)
    img = _lerp(img, i_diploe, 0.6 * _soft_inside(np.abs(R - diploe_r) - 0.006, redge))
    inside_skull = _soft_inside(R - skull_in, redge)
    img = _lerp(img, i_csf, inside_skull)

    # meningioma geometry first: it indents the brain surface
    brain = _soft_inside(R - brain_edge - 0.006 * fold, redge)
    men_mask = None
    if label == MENINGIOMA:
        phi, mr = lesion["phi"], lesion["radius"]
        # point on the inner skull table in direction phi, then the centre a little
        # inside it, so the mass is flattened against the bone
        bu, bv = head_a * skull_in * np.cos(phi), head_b * skull_in * np.sin(phi)
        norm = float(np.hypot(bu, bv))
        mu = float(bu - (bu / norm) * mr * lesion["embed"])
        mv = float(bv - (bv / norm) * mr * lesion["embed"])
        du, dv = U - mu, V - mv
        ca, sa = float(np.cos(phi)), float(np.sin(phi))
        along = (ca * dv - sa * du) * (1.0 / (mr * lesion["aspect"]))
        across = (ca * du + sa * dv) * (1.0 / mr)
        md = np.sqrt(along**2 + across**2) * (1.0 + 0.04 * lesion_field)
        men_mask = _soft_inside(md - 1.0, 1.6 * hpx / mr) * inside_skull
        lesion.update(u=mu, v=mv)
        # dural tail: thin enhancement along the inner table either side of the mass
        cos_d = (U * mu + V * mv) / (np.sqrt(U**2 + V**2) * float(np.hypot(mu, mv)) + 1e-6)
        tail = _ramp(cos_d, float(np.cos(lesion["tail"] + mr)), 1.0)
        tail_mask = tail * _soft_inside(np.abs(R - skull_in + 0.008) - 0.006, redge)
        brain = brain * (1.0 - men_mask)

    # mass effect: brain structures are sampled closer to the lesion centre, so they
    # appear pushed away from it
    Ub, Vb = U, V
    if "push" in lesion:
        du, dv = U - lesion["u"], V - lesion["v"]
        spread2 = 2.0 * (lesion["spread"] * lesion["radius"]) ** 2
        w = lesion["push"] * np.exp(-(du**2 + dv**2) * (1.0 / spread2))
        Ub, Vb = U - w * du, V - w * dv

    # ---- brain tissue
    rb = radius_of(Ub, Vb) * (1.0 / brain_edge)  # 0 at the centre, 1 at the surface
    # gyri: the zero lines of a smooth field are the sulci; each gyrus between them has
    # a grey ribbon around a white core; below a folded depth everything is white matter
    deep = wm_depth + 0.07 * np.clip(fold, -2, 2)
    depth = rb - deep
    an = np.abs(sulci)
    gm = np.maximum(_ramp(depth, 0.0, 0.07) * _ramp(an, 0.95, 0.8), _ramp(rb, 0.93, 0.98))
    tissue = i_wm + (i_gm - i_wm) * gm + 0.02 * texture
    sulcus = _ramp(depth, 0.06, 0.14) * _ramp(an, 0.16, 0.08)
    tissue = _lerp(tissue, i_csf + 0.04, 0.9 * sulcus)
    # deep grey nuclei beside the ventricles
    vn = ((Vb + 0.02 * head_b) * (1.0 / (0.13 * head_b))) ** 2
    for sgn in (-1.0, 1.0):
        dn = np.sqrt(((Ub - sgn * 0.24 * head_a) * (1.0 / (0.07 * head_a))) ** 2 + vn)
        tissue = _lerp(tissue, i_deep, 0.6 * _soft_inside(dn - 1.0, 0.6))
    # interhemispheric fissure (midline), visible at the front and the back
    mid = _soft_inside(np.abs(Ub) - (0.45 * hpx + 0.004), 1.6 * hpx)
    mid = mid * _ramp(np.abs(Vb), 0.32 * head_b, 0.4 * head_b)
    tissue = _lerp(tissue, i_csf + 0.02, 0.9 * mid)
    # lateral ventricles: two mirrored curved bands, frontal horns close to the midline
    # in front (separated by the septum), bodies and atria diverging towards the back
    v_top, v_len = -0.33 * head_b, 0.6 * head_b * (0.9 + 0.1 * vent_size)
    t = (Vb - v_top) * (1.0 / v_len)
    tc = np.clip(t, 0.0, 1.0)
    bow = (0.1 + vent_open * 0.08) * tc**2 - 0.02 * np.sin(np.pi * tc)
    horns = 0.75 * np.exp(-(((tc - 0.1) / 0.14) ** 2)) + 0.55 * np.exp(-(((tc - 0.88) / 0.14) ** 2))
    over = np.maximum(-t, t - 1.0) * v_len  # beyond the ends: round them off
    for sgn, asym in ((-1.0, 1.0), (1.0, vent_asym)):
        vs = vent_size * asym
        centre = head_a * (0.05 + 0.012 * vs + bow)
        width = head_a * vs * (0.02 + 0.035 * horns)
        dist = np.abs(sgn * Ub - centre) - width
        dist = np.where(over > 0, np.hypot(np.maximum(dist, 0), over), dist)
        tissue = _lerp(tissue, i_csf, _soft_inside(dist, 1.6 * hpx))
    img = _lerp(img, tissue, brain)

    # ---- lesions
    if label == GLIOMA:
        du, dv = U - lesion["u"], V - lesion["v"]
        lobes = 1.0 + _harmonics(du, dv, lesion["amps"], lesion["phases"], 2) + 0.1 * lesion_field
        d = np.sqrt(du**2 + dv**2) / (lesion["radius"] * lobes)
        e = 1.6 * hpx / lesion["radius"]
        oedema = _soft_inside(d - lesion["oedema"], 0.35) * brain
        img = img * (1.0 - 0.22 * oedema)
        rim_level = 0.86 + 0.06 * lesion_field
        img = _lerp(img, rim_level, _soft_inside(d - lesion["rim"], e) * brain)
        core = lesion["core"] * (1.0 + 0.12 * lesion_field)
        img = _lerp(img, lesion["i_core"] + 0.05 * texture, _soft_inside(d - core, 2.5 * e) * brain)
    elif label == MENINGIOMA:
        mass = lesion["i_mass"] * (1.0 + 0.03 * lesion_field + 0.02 * texture)
        img = _lerp(img, mass, men_mask)
        img = _lerp(img, 0.8 * lesion["i_mass"], 0.7 * tail_mask * (1.0 - men_mask))
    elif label == PITUITARY:
        du, dv = U - lesion["u"], V - lesion["v"]
        ct2, st2 = float(np.cos(lesion["tilt"])), float(np.sin(lesion["tilt"]))
        r = lesion["radius"]
        qu = (ct2 * du + st2 * dv) * (1.0 / (r * lesion["aspect"]))
        qv = (ct2 * dv - st2 * du) * (1.0 / r)
        d = np.sqrt(qu**2 + qv**2)
        img = _lerp(img, i_csf + 0.1, 0.5 * _soft_inside(d - 1.35, 0.3) * brain)
        img = _lerp(img, lesion["i_mass"] * (1.0 + 0.02 * texture), _soft_inside(d - 1.0, 1.6 * hpx / r))

    # ---- acquisition: bias field, gain / gamma, blur, Rician-like noise
    img = img * (1.0 + bias_amp * bias)
    img = gain * np.power(np.maximum(img, 0.0), gamma)
    img = _gaussian_blur(img, blur_sigma * res / 128.0)
    sigma = noise_sigma * (res / 128.0) ** 0.5  # the same noise once area-downsampled to 128
    noise = nrng.standard_normal((2, res, res), dtype=np.float32) * np.float32(sigma)
    img = np.sqrt((img + noise[0]) ** 2 + noise[1] ** 2)

    if res != size:
        resample = Image.Resampling.BOX if res % size == 0 else Image.Resampling.BICUBIC
        img = _resize_float(img, size, resample)
    return np.clip(np.rint(img * 255.0), 0, 255).astype(np.uint8)


def make_phantom_split(
    n_per_class: int,
    size: int,
    seed: int,
    *,
    progress: Optional[Progress] = None,
    description: str = "brain phantom",
) -> tuple[np.ndarray, np.ndarray]:
    """``n_per_class`` images of every class: ``(N, size, size)`` uint8 and ``(N,)`` int64
    labels, class by class. Image ``i`` of class ``c`` comes from
    ``default_rng([seed, c, i])``: identical bytes on every call, and stable as
    ``n_per_class`` grows."""
    n_per_class = int(n_per_class)
    if n_per_class < 0:
        raise ValueError("n_per_class must be >= 0")
    jobs = [(c, i) for c in range(len(CLASS_NAMES)) for i in range(n_per_class)]
    images = np.empty((len(jobs), size, size), dtype=np.uint8)
    labels = np.array([c for c, _ in jobs], dtype=np.int64)
    progress = progress or SilentProgress()
    for k, (c, i) in enumerate(progress.track(jobs, total=len(jobs), description=description)):
        images[k] = render_phantom(c, size, np.random.default_rng([int(seed), c, i]))
    return images, labels


# --------------------------------------------------------------------------- plugin

_CACHE: "OrderedDict[tuple, tuple]" = OrderedDict()
_CACHE_SIZE = 2


class BrainPhantom(Dataset):
    name = "brain-phantom"
    description = "Synthetic procedural axial brain-MRI phantom, four tumour classes (offline default; not patient data)"
    source = "ganbench procedural phantom; no patient data"
    obtain = "ships with ganbench; nothing to download"
    needs_path = False
    family = "brain-phantom"

    def __init__(self, train_per_class: int = 200, test_per_class: int = 50):
        if train_per_class < 1 or test_per_class < 1:
            raise ValueError("train_per_class and test_per_class must be >= 1")
        self.train_per_class = int(train_per_class)
        self.test_per_class = int(test_per_class)

    def _generate(self, image_size: int, progress: Progress):
        key = (PHANTOM_VERSION, self.train_per_class, self.test_per_class, image_size)
        if key in _CACHE:
            _CACHE.move_to_end(key)
            return _CACHE[key]
        train = make_phantom_split(
            self.train_per_class, image_size, TRAIN_SEED, progress=progress, description="phantom train"
        )
        test = make_phantom_split(
            self.test_per_class, image_size, TEST_SEED, progress=progress, description="phantom test"
        )
        digest = hashlib.sha256()
        digest.update(
            f"{PHANTOM_VERSION}|size={image_size}|train={self.train_per_class}|"
            f"test={self.test_per_class}|seeds={TRAIN_SEED},{TEST_SEED}".encode()
        )
        for array in (*train, *test):
            digest.update(np.ascontiguousarray(array).tobytes())
        result = (train, test, digest.hexdigest())
        _CACHE[key] = result
        while len(_CACHE) > _CACHE_SIZE:
            _CACHE.popitem(last=False)
        return result

    def load(
        self,
        path: Optional[Path],
        image_size: int,
        channels: int,
        progress: Progress,
    ) -> LoadedData:
        if path is not None:
            raise DatasetLayoutError(
                f"dataset {self.name!r} is generated by ganbench and takes no path (got {str(path)!r}); "
                "leave out the data path, or use a dataset that reads one (e.g. image-folder)"
            )
        image_size = int(image_size)
        if image_size < 8:
            raise GanbenchError(f"dataset {self.name!r}: image size must be at least 8 px, got {image_size}")
        if channels not in (1, 3):
            raise GanbenchError(f"dataset {self.name!r}: channels must be 1 or 3, got {channels}")
        (train_x, train_y), (test_x, test_y), digest = self._generate(image_size, progress or SilentProgress())

        def split(x: np.ndarray, y: np.ndarray) -> ImageSplit:
            images = torch.from_numpy(x.copy()).unsqueeze(1)
            if channels == 3:
                images = images.repeat(1, 3, 1, 1)
            return ImageSplit(images.contiguous(), torch.from_numpy(y.copy()))

        # grey repeated to three channels is a preprocessing choice: it goes into the hash
        fingerprint = hashlib.sha256(f"{digest}|channels={channels}".encode()).hexdigest()[:16]
        return LoadedData(
            name=self.name,
            class_names=CLASS_NAMES,
            train=split(train_x, train_y),
            test=split(test_x, test_y),
            fingerprint=fingerprint,
            family=self.family,
            synthetic=True,
            notes="procedural phantom, not patient data; never compared with papers' numbers",
        )


@hookimpl
def register_datasets(register):
    register(BrainPhantom())
