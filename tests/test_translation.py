"""Image-to-image GANs in a suite: which class is the source, what is held out, and
that every translation keeps its source beside it."""

import pytest
import torch

from ganbench.errors import GanbenchError
from ganbench.runner.translation import holdout, source_class, train_and_translate
from ganbench.specs import GAN, ImageSplit, ImageToImageModel, LoadedData, SilentProgress, to_uint8, to_unit_range


@pytest.mark.parametrize(
    "names, expected",
    [
        (("glioma_tumor", "meningioma_tumor", "no_tumor", "pituitary_tumor"), 2),
        (("glioma", "meningioma", "notumor", "pituitary"), 2),
        (("Normal", "Tumor"), 0),
        (("no", "yes"), 0),
    ],
)
def test_the_source_class_is_found_by_name(names, expected):
    assert source_class(names, None) == expected


def test_an_unclear_or_unknown_source_class_is_an_error():
    with pytest.raises(GanbenchError, match="translation_source"):
        source_class(("a", "b"), None)
    with pytest.raises(GanbenchError, match="not a class"):
        source_class(("no", "yes"), "maybe")
    assert source_class(("a", "b"), "b") == 1


def labelled(counts):
    labels = torch.cat([torch.full((n,), c) for c, n in enumerate(counts)])
    images = torch.arange(len(labels), dtype=torch.uint8).view(-1, 1, 1, 1).expand(-1, 1, 4, 4).contiguous()
    return ImageSplit(images, labels)


def test_holdout_is_a_fixed_fifth_of_one_class():
    split = labelled([10, 20])
    keep, out = holdout(split, 1)
    assert (len(keep), len(out)) == (16, 4)
    assert set(keep.labels.tolist()) == set(out.labels.tolist()) == {1}
    assert not set(keep.images[:, 0, 0, 0].tolist()) & set(out.images[:, 0, 0, 0].tolist())
    assert torch.equal(holdout(split, 1)[1].images, out.images)


class Negate(ImageToImageModel):
    """A stand-in translator: forward negates, reverse adds 0.5."""

    def train_step(self, real, labels):
        return {"loss": 0.0}

    def translate(self, images, reverse=False):
        return (images + 0.5).clamp(-1, 1) if reverse else -images

    def networks(self):
        return {}


class NegateGAN(GAN):
    name = "negate"
    kind = "image-to-image"
    profiles = {"smoke": {"batch_size": 2, "steps": 1}}

    def build(self, spec, hparams, device):
        return Negate()


def test_translations_carry_their_sources_and_target_labels():
    train = labelled([10, 10, 10])  # classes: no, glioma, pituitary
    data = LoadedData("d", ("no", "glioma", "pituitary"), train, train, fingerprint="f", family="f")
    result = train_and_translate(
        NegateGAN(), data.image_spec, {"batch_size": 2, "steps": 1}, data, n_fake=9, seed=0,
        device=torch.device("cpu"), progress=SilentProgress(), source_name=None, description="t",
    )
    fake, sources = result.fake, result.sources
    assert len(fake) == len(sources) == 2 + 2 + 3  # two held out per class; 'no' gets 3 back
    assert torch.equal(fake.labels, fake.labels.sort().values)
    forward = fake.labels != 0
    assert (sources.labels[forward] == 0).all() and (sources.labels[~forward] != 0).all()
    # uint8 v -> [-1, 1] -> negated -> uint8 255 - v (to rounding)
    assert ((fake.images[forward].int() - (255 - sources.images[forward].int())).abs() <= 1).all()
    assert set(result.history) == {"no->glioma", "no->pituitary"}
    # The cycle reconstruction is the translation translated back, beside its source.
    cycled = result.reconstructions
    assert torch.equal(cycled.labels, sources.labels)
    back = to_uint8((to_unit_range(fake.images[forward]) + 0.5).clamp(-1, 1))
    assert torch.equal(cycled.images[forward], back)
    assert torch.equal(cycled.images[~forward], to_uint8(-to_unit_range(fake.images[~forward])))
