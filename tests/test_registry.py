import pytest

from ganbench.errors import RegistrationError, UnknownNameError
from ganbench.registry import Provenance, Registry
from ganbench_plugins.gans.dcgan import DCGAN

A = Provenance("plugin-a", "dist-a", "1.0")
B = Provenance("plugin-b", "dist-b", "2.0")


def named(name):
    return type("Named", (DCGAN,), {"name": name})()


def test_register_and_get_keeps_provenance():
    registry = Registry()
    registry.register("gans", named("my-gan"), A)
    assert registry.get("gans", "my-gan").name == "my-gan"
    assert registry.provenance("gans", "my-gan") == A
    assert registry.names("gans") == ["my-gan"]


@pytest.mark.parametrize("bad", ["MyGAN", "my_gan", "my gan", "-gan", "gan-", "", "my--gan"])
def test_names_must_be_lower_kebab(bad):
    with pytest.raises(RegistrationError, match="lower-kebab"):
        Registry().register("gans", named(bad), A)


def test_duplicate_names_both_plugins():
    registry = Registry()
    registry.register("gans", named("twin"), A)
    with pytest.raises(RegistrationError) as info:
        registry.register("gans", named("twin"), B)
    message = str(info.value)
    assert "plugin-a" in message and "plugin-b" in message and "dist-b" in message


def test_wrong_type_is_rejected():
    with pytest.raises(RegistrationError, match="not a ganbench.specs.GAN"):
        Registry().register("gans", object(), A)


def test_unknown_name_lists_the_available_ones():
    registry = Registry()
    registry.register("gans", named("alpha"), A)
    registry.register("gans", named("beta"), A)
    with pytest.raises(UnknownNameError) as info:
        registry.get("gans", "gamma")
    assert str(info.value) == "unknown GAN 'gamma'; available GANs: alpha, beta"
