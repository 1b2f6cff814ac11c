"""What a plugin author imports: the contracts between ganbench and its plugins, and the
helpers a dataset reader needs. ganbench's own plugins import the same names from here.

```python
from ganbench.api import GAN, GANModel, hookimpl
```

Conventions, everywhere:

* images at rest (datasets, generated sets handed to metrics) are ``uint8`` tensors of
  shape ``(N, C, H, W)`` with values 0..255, square (H = W), C = 1 (grey) or 3;
* images inside a network (training input, `GANModel.sample` output, classifier input)
  are ``float32`` in [-1, 1] (`to_unit_range`, `to_uint8`);
* labels are ``int64`` class indices into `LoadedData.class_names`;
* errors a person should read as a message (a wrong path, an unknown option) are a
  `GanbenchError`: the command line prints it in one line and exits with status 2.

A dataset reader goes from files to `LoadedData` with these helpers, in this order:
`decode_image` (or `to_grey`, `crop_to_content` and `square_resize` for pixels from
elsewhere; `scale_to_uint8` for 16-bit or float data), `stratified_split` or
`patient_split`, `cross_split_duplicates`, `image_split`, and `content_fingerprint`.
docs/writing-a-plugin.md builds one.
"""

from __future__ import annotations

import pluggy

from . import hookimpl as _hookimpl
from .data.cache import content_fingerprint, file_digests
from .data.class_map import parse_class_map, relabel
from .data.decode import IMAGE_EXTENSIONS, Skipped, decode_image
from .data.duplicates import DuplicateReport, cross_split_duplicates
from .data.inspection import Inspection, inspect_by_loading, split_counts
from .data.pixels import crop_to_content, scale_to_uint8, square_resize, to_grey
from .data.splits import SPLIT_SEED, parse_test_fraction, patient_split, stratified_split
from .data.tensors import image_split
from .errors import DatasetLayoutError, GanbenchError, PretrainedWeightsUnavailable, RegistrationError
from .result_keys import per_class
from .settings import Setting
from .specs import (
    CLASS_TASKS,
    DIRECTIONS,
    GAN_KINDS,
    METRIC_KINDS,
    PROFILES,
    REAL_REFERENCE_PROTOCOL,
    REAL_REFERENCE_SEED,
    GAN,
    Claim,
    Classifier,
    Dataset,
    Detection,
    Evaluation,
    GANModel,
    ImageSpec,
    ImageSplit,
    ImageToImageModel,
    LoadedData,
    Measure,
    Metric,
    MetricResult,
    ProfileSettings,
    Progress,
    Reference,
    SilentProgress,
    Suite,
    Variant,
    to_uint8,
    to_unit_range,
)

hookimpl: pluggy.HookimplMarker = _hookimpl
"""Marks a plugin module's hook implementations (``@hookimpl def register_gans(register):
...``); the hooks are listed in docs/plugins.md. The same object as ``ganbench.hookimpl``."""

__all__ = [
    # plugging in
    "hookimpl",
    "PROFILES",
    "Progress",
    "SilentProgress",
    "GanbenchError",
    "RegistrationError",
    # GANs
    "GAN",
    "GAN_KINDS",
    "GANModel",
    "ImageToImageModel",
    "ImageSpec",
    # datasets: the contract
    "Dataset",
    "Detection",
    "LoadedData",
    "ImageSplit",
    "Inspection",
    "DatasetLayoutError",
    # datasets: the reader's helpers
    "IMAGE_EXTENSIONS",
    "decode_image",
    "Skipped",
    "to_grey",
    "crop_to_content",
    "square_resize",
    "scale_to_uint8",
    "SPLIT_SEED",
    "stratified_split",
    "patient_split",
    "parse_test_fraction",
    "cross_split_duplicates",
    "DuplicateReport",
    "image_split",
    "file_digests",
    "content_fingerprint",
    "parse_class_map",
    "relabel",
    "split_counts",
    "inspect_by_loading",
    # metrics
    "Metric",
    "METRIC_KINDS",
    "DIRECTIONS",
    "MetricResult",
    "Evaluation",
    "REAL_REFERENCE_SEED",
    "REAL_REFERENCE_PROTOCOL",
    "Setting",
    "per_class",
    "to_unit_range",
    "to_uint8",
    # classifiers
    "Classifier",
    "PretrainedWeightsUnavailable",
    # suites
    "Suite",
    "ProfileSettings",
    "Variant",
    "CLASS_TASKS",
    # papers' numbers
    "Reference",
    "Claim",
    "Measure",
]
