"""The tiny-folder reader against ganbench's dataset contract, on a folder of PNGs made
here: RGB images of several sizes, four patients per class, one file that is no image."""

import numpy as np
import pytest
from PIL import Image

from ganbench.api import GanbenchError, SilentProgress
from ganbench.testing import check_dataset
from ganbench_tiny_gan.folder import TinyFolder

CLASSES = ("no_tumor", "tumor")


@pytest.fixture
def folder(tmp_path):
    rng = np.random.default_rng(0)
    for label, cls in enumerate(CLASSES):
        for patient in range(4):
            for n, (width, height) in enumerate([(40, 48), (48, 40), (44, 44)]):
                pixels = rng.integers(0, 120, (height, width, 3), dtype=np.uint8)
                pixels[height // 3 :, width // 3 :, 0] = 200 if label else 0  # a red "lesion"
                path = tmp_path / cls / f"patient-{label}{patient}" / f"{n}.png"
                path.parent.mkdir(parents=True, exist_ok=True)
                Image.fromarray(pixels, "RGB").save(path)
    (tmp_path / "tumor" / "patient-10" / "broken.png").write_bytes(b"not an image")
    return tmp_path


def test_tiny_folder_keeps_the_dataset_contract(folder):
    data = check_dataset(TinyFolder(), folder, size=16)
    assert data.class_names == CLASSES
    assert data.skipped == {"unreadable image": 1}


def test_images_are_grey_squares_of_the_asked_size(folder):
    data = TinyFolder().load(folder, 24, 3, SilentProgress())
    assert data.train.images.shape[1:] == (3, 24, 24)
    # grey repeated into RGB: the three channels are equal
    assert bool((data.train.images[:, 0] == data.train.images[:, 2]).all())


def test_no_patient_is_on_both_sides(folder):
    data = TinyFolder().load(folder, 16, 1, SilentProgress())
    assert not set(data.patients["train"]) & set(data.patients["test"])
    assert len(set(data.patients["test"])) == 2  # a quarter of the 8 patients


def test_a_copy_across_the_splits_is_reported(folder):
    data = TinyFolder().load(folder, 16, 1, SilentProgress())
    assert data.leakage.startswith("0 of")
    # Copy a training image into a test patient's folder: the check finds it.
    train_file, test_file = folder / data.sources["train"][0], folder / data.sources["test"][0]
    (test_file.parent / "copy.png").write_bytes(train_file.read_bytes())
    leaked = TinyFolder().load(folder, 16, 1, SilentProgress())
    assert leaked.leakage.startswith("1 of") and leaked.fingerprint != data.fingerprint


def test_options_are_read(folder):
    reader = TinyFolder().configure({"test_fraction": "0.5", "crop_border": "true"})
    assert (reader.test_fraction, reader.crop_border) == (0.5, True)
    data = reader.load(folder, 16, 1, SilentProgress())
    assert len(set(data.patients["test"])) == 4  # half of the 4 patients of each class


@pytest.mark.parametrize("option, named", [("crop_border", "use true or false"), ("test_fraction", "test_fraction")])
def test_a_bad_option_value_is_a_message_naming_it(option, named):
    with pytest.raises(GanbenchError, match=named):
        TinyFolder().configure({option: "sometimes"})


def test_the_entry_point_registers_the_reader(ganbench_registry):
    registry = ganbench_registry(distributions=["ganbench-tiny-gan"])
    assert registry.names("datasets") == ["tiny-folder"]
    assert registry.provenance("datasets", "tiny-folder").plugin == "tiny-folder"
