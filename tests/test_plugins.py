"""Plugin loading: entry points, failures, allow-list, block switch, and the guard that
every built-in plugin module is declared as an entry point."""

import ast
import tomllib
import types
from importlib import metadata
from pathlib import Path

import pytest

from ganbench import hookimpl
from ganbench.errors import RegistrationError
from ganbench.plugins import ALLOW_ENV, ENTRY_POINT_GROUP, load_plugins
from ganbench_plugins.gans.dcgan import DCGAN

ROOT = Path(__file__).resolve().parents[1]
BUILTIN_GANS = {"vanilla-gan", "dcgan"}


class FakeDist:
    def __init__(self, name, version="9.9"):
        self.name, self.version = name, version


class FakeEntryPoint:
    """Duck-types importlib.metadata.EntryPoint for the loader."""

    def __init__(self, name, loader, dist="third-party"):
        self.name, self.value, self._loader, self.dist = name, f"{name}_module", loader, FakeDist(dist)

    def load(self):
        return self._loader()


def module_with_gan(gan_name):
    module = types.ModuleType(f"plugin_{gan_name}")

    @hookimpl
    def register_gans(register):
        register(type("G", (DCGAN,), {"name": gan_name})())

    module.register_gans = register_gans
    return module


def broken():
    raise ImportError("this plugin is broken on purpose")


def test_builtins_load_under_distribution_ganbench():
    plugins = load_plugins()
    builtin = [i for i in plugins.infos if i.distribution == "ganbench"]
    assert {i.name for i in builtin} >= {"vanilla-gan", "dcgan", "brain-mri"}
    assert all(i.error is None for i in builtin), [i.error for i in builtin if i.error]
    assert BUILTIN_GANS <= set(plugins.registry.names("gans"))
    assert plugins.registry.provenance("gans", "dcgan").distribution == "ganbench"


def test_a_broken_plugin_is_reported_and_skipped():
    eps = [FakeEntryPoint("good", lambda: module_with_gan("good-gan")), FakeEntryPoint("bad", broken)]
    plugins = load_plugins(entry_points=eps)
    info = {i.name: i for i in plugins.infos}
    assert info["bad"].error.startswith("ImportError: this plugin is broken on purpose")
    assert info["good"].error is None and info["good"].hooks == ["register_gans"]
    assert plugins.registry.names("gans") == ["good-gan"]
    assert plugins.registry.provenance("gans", "good-gan").distribution == "third-party"


def test_a_plugin_whose_hook_raises_is_reported():
    module = types.ModuleType("raising")

    @hookimpl
    def register_gans(register):
        raise RuntimeError("boom")

    module.register_gans = register_gans
    plugins = load_plugins(entry_points=[FakeEntryPoint("raising", lambda: module)])
    assert plugins.infos[0].error.startswith("RuntimeError: boom")


def test_a_misspelt_hook_name_is_reported_not_silently_ignored():
    # pluggy takes an implementation of an undeclared hook and never calls it.
    module = types.ModuleType("misspelt")

    @hookimpl
    def register_dataset(register):
        raise AssertionError("an undeclared hook is never called")

    module.register_dataset = register_dataset
    plugins = load_plugins(entry_points=[FakeEntryPoint("misspelt", lambda: module), FakeEntryPoint("good", lambda: module_with_gan("good-gan"))])
    info = {i.name: i for i in plugins.infos}
    assert info["misspelt"].error.startswith("register_dataset is not a ganbench hook (did you mean register_datasets?); the hooks: register_claims, register_classifiers")
    assert info["good"].error is None and plugins.registry.names("gans") == ["good-gan"]


def test_duplicate_across_plugins_names_both():
    eps = [
        FakeEntryPoint("first", lambda: module_with_gan("same"), dist="dist-one"),
        FakeEntryPoint("second", lambda: module_with_gan("same"), dist="dist-two"),
    ]
    plugins = load_plugins(entry_points=eps)  # a clash is reported, never fatal
    second = next(i for i in plugins.infos if i.name == "second")
    assert "'first'" in second.error and "'second'" in second.error
    with pytest.raises(RegistrationError, match="'first'.*'second'"):
        plugins.registry.get("gans", "same")
    assert [i.name for i in plugins.infos if i.error] == ["second"]


def test_clash_leaves_other_names_usable():
    def module_with_gans(*names):
        module = types.ModuleType("m")

        @hookimpl
        def register_gans(register):
            for name in names:
                register(type("G", (DCGAN,), {"name": name})())

        module.register_gans = register_gans
        return module

    eps = [
        FakeEntryPoint("first", lambda: module_with_gans("same", "only-first"), dist="dist-one"),
        FakeEntryPoint("second", lambda: module_with_gans("same", "only-second"), dist="dist-two"),
    ]
    registry = load_plugins(entry_points=eps).registry
    assert registry.get("gans", "only-first").name == "only-first"
    assert registry.get("gans", "only-second").name == "only-second"
    with pytest.raises(RegistrationError, match="registered twice"):
        registry.get("gans", "same")


def test_allow_list_and_block_switch(monkeypatch):
    eps = [
        FakeEntryPoint("one", lambda: module_with_gan("gan-one"), dist="dist-one"),
        FakeEntryPoint("two", lambda: module_with_gan("gan-two"), dist="dist-two"),
    ]
    monkeypatch.setenv(ALLOW_ENV, "dist-two")
    assert load_plugins(entry_points=eps).registry.names("gans") == ["gan-two"]
    monkeypatch.delenv(ALLOW_ENV)
    assert load_plugins(entry_points=eps, blocked=["one"]).registry.names("gans") == ["gan-two"]
    assert load_plugins(entry_points=eps, blocked=["dist-two"]).registry.names("gans") == ["gan-one"]


def test_each_load_is_a_fresh_manager():
    first, second = load_plugins(), load_plugins()
    assert first.manager is not second.manager and first.registry is not second.registry


def plugin_modules_with_hookimpls() -> set[str]:
    found = set()
    for path in (ROOT / "plugins").rglob("*.py"):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef) and any(
                isinstance(d, ast.Name) and d.id == "hookimpl" for d in node.decorator_list
            ):
                relative = path.relative_to(ROOT / "plugins").with_suffix("")
                found.add(".".join(("ganbench_plugins", *relative.parts)))
                break
    return found


def test_guard_every_builtin_plugin_module_has_an_entry_point():
    declared = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["entry-points"][ENTRY_POINT_GROUP]
    modules = plugin_modules_with_hookimpls()
    assert modules, "no plugin modules found"
    missing = modules - set(declared.values())
    assert not missing, f"plugin modules without an entry point in pyproject.toml: {sorted(missing)}"


def test_guard_every_installed_entry_point_resolves():
    declared = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["entry-points"][ENTRY_POINT_GROUP]
    installed = {ep.name: ep for ep in metadata.entry_points(group=ENTRY_POINT_GROUP) if ep.dist.name == "ganbench"}
    assert set(installed) == set(declared), "installed entry points differ from pyproject.toml: reinstall (pip install -e .)"
    for ep in installed.values():
        module = ep.load()
        assert any(hasattr(module, f"register_{k}") for k in ("gans", "datasets", "metrics", "classifiers", "suites", "references", "commands")), ep.name
