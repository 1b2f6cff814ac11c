"""The only place ganbench hooks are declared.

Every hook but ``register_commands`` receives a ``register`` callback; a plugin calls it
once per item it contributes. The callback checks the item and records which plugin
contributed it, so a plugin never touches the registry directly.
"""

import pluggy

hookspec = pluggy.HookspecMarker("ganbench")


@hookspec
def register_gans(register):
    """Register GAN architectures: ``register(gan)`` with a :class:`ganbench.specs.GAN`."""


@hookspec
def register_datasets(register):
    """Register datasets: ``register(dataset)`` with a :class:`ganbench.specs.Dataset`."""


@hookspec
def register_metrics(register):
    """Register metrics: ``register(metric)`` with a :class:`ganbench.specs.Metric`."""


@hookspec
def register_classifiers(register):
    """Register downstream classifiers: ``register(classifier)`` with a
    :class:`ganbench.specs.Classifier`."""


@hookspec
def register_suites(register):
    """Register benchmark suites: ``register(suite)`` with a :class:`ganbench.specs.Suite`."""


@hookspec
def register_references(register):
    """Register numbers reported in papers: ``register(reference)`` with a
    :class:`ganbench.specs.Reference`."""


@hookspec
def register_claims(register):
    """Register a paper's claims that one measured quantity beats another:
    ``register(claim)`` with a :class:`ganbench.specs.Claim`; a paper suite's report
    gives each a verdict from the measured runs."""


@hookspec
def register_commands(cli):
    """Add commands to the ``ganbench`` click group."""
