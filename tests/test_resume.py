"""Resumable training: a training interrupted after a checkpoint and resumed ends with
exactly the weights and losses of one that never stopped, for every built-in GAN; the
checkpoint keeps only the latest and the final state; a checkpoint format that loses
an optimiser's int keys would fail here."""

from __future__ import annotations

import pytest
import torch

from ganbench.checkpoints import load_state, save_state
from ganbench.plugins import load_plugins
from ganbench.runner.checkpointing import PhaseCheckpoints, pack_history, unpack_history
from ganbench.testing import check_resume

REGISTRY = load_plugins().registry
GANS = sorted(REGISTRY.names("gans"))
#: Sizes a GAN makes that are smallest; the thesis networks make only 112 px.
SIZES = {"gan-4layer": 112, "gan-7layer": 112, "gan-15layer": 112}


@pytest.mark.parametrize("name", GANS)
def test_every_gan_resumes_exactly(name):
    check_resume(REGISTRY.get("gans", name), size=SIZES.get(name, 32))


def test_state_round_trip_keeps_types_and_values(tmp_path):
    state = {
        "adam": {"state": {0: {"step": torch.tensor(3.0), "exp_avg": torch.randn(2, 2)}}, "param_groups": [{"params": [0], "betas": (0.5, 0.999), "lr": 2e-4, "foreach": None}]},
        "counter": 7,
        "flag": True,
        "name": "x",
        "shared": [torch.ones(3)[:2], torch.ones(3)[1:]],  # views of one storage
    }
    path = tmp_path / "state.safetensors"
    save_state(path, state)
    loaded = load_state(path)
    assert list(loaded["adam"]["state"]) == [0]  # an int key, as Optimizer.load_state_dict needs
    assert loaded["adam"]["param_groups"][0]["betas"] == (0.5, 0.999)
    assert loaded["adam"]["param_groups"][0]["lr"] == 2e-4 and loaded["adam"]["param_groups"][0]["foreach"] is None
    assert torch.equal(loaded["adam"]["state"][0]["exp_avg"], state["adam"]["state"][0]["exp_avg"])
    assert loaded["counter"] == 7 and loaded["flag"] is True and loaded["name"] == "x"
    assert [t.tolist() for t in loaded["shared"]] == [[1.0, 1.0], [1.0, 1.0]]
    assert not list(tmp_path.glob(".*partial"))


def test_state_refuses_what_it_could_not_give_back(tmp_path):
    with pytest.raises(TypeError, match="set"):
        save_state(tmp_path / "bad.safetensors", {"x": {1, 2}})


def test_history_packs_exactly_with_losses_missing_on_some_steps():
    history = [{"step": 0, "loss_d": 0.1 + 0.2}, {"step": 1, "loss_d": 1e-300, "loss_g": -3.5}]
    assert unpack_history(pack_history(history)) == history


def test_only_the_latest_and_the_final_checkpoint_are_kept(tmp_path):
    gan = REGISTRY.get("gans", "dcgan")
    from ganbench.runner.training import build_model, train
    from ganbench.specs import ImageSpec, ImageSplit, SilentProgress

    spec = ImageSpec(32, 1, 2)
    hparams = {**gan.hyperparameters("smoke"), "batch_size": 4, "steps": 5}
    hparams.pop("epochs", None)
    split = ImageSplit(torch.zeros(8, 1, 32, 32, dtype=torch.uint8), torch.arange(8) % 2)
    messages = []
    checkpoints = PhaseCheckpoints(tmp_path / "all", every=2, log=messages.append)
    model = build_model(gan, spec, hparams, torch.device("cpu"), 0)
    history = train(model, split, hparams, 0, torch.device("cpu"), SilentProgress(), "t", checkpoints)
    assert sorted(p.name for p in (tmp_path / "all").iterdir()) == ["final.safetensors"]
    # A second training of the same phase loads the final state instead of training.
    again = build_model(gan, spec, hparams, torch.device("cpu"), 1)
    assert train(again, split, hparams, 0, torch.device("cpu"), SilentProgress(), "t", checkpoints) == history
    assert any("already trained" in m for m in messages)
    assert all(torch.equal(a, b) for a, b in zip(model.generator.state_dict().values(), again.generator.state_dict().values()))


def test_check_resume_catches_a_model_whose_state_forgets_the_optimisers(monkeypatch):
    from ganbench.specs import GANModel

    original = GANModel.state_dict

    def networks_only(self):
        state = original(self)
        state["attributes"] = {k: v for k, v in state["attributes"].items() if not k.startswith("opt")}
        return state

    monkeypatch.setattr(GANModel, "state_dict", networks_only)
    with pytest.raises(AssertionError, match="other weights"):
        check_resume(REGISTRY.get("gans", "dcgan"))


@pytest.mark.slow
def test_a_run_killed_in_training_resumes_from_its_checkpoint_with_the_uninterrupted_numbers(tmp_path):
    """``kill -9`` of a whole ``ganbench run`` process at its second cell's fifth step
    (checkpoints every 2 steps), then the same run again: it says it resumes from step
    4 and ends with the weights and numbers of a run that was never stopped."""
    from safetensors.torch import load_file

    from ganbench.results.store import ResultsStore
    from stoppable_suite import CELL_KEYS
    from test_results_dir import start, wait_until

    reference = tmp_path / "reference"
    start(reference, tmp_path / "reference.log").wait()
    results, marker, log = tmp_path / "results", tmp_path / "stopped", tmp_path / "run.log"
    process = start(results, log, STOP_AT="train", STOP_STEP="5", CHECKPOINT_EVERY="2", STOP_MARKER=str(marker))
    try:
        wait_until(marker.exists, process, log)
    finally:
        process.send_signal(9)
        process.wait()
    assert len(list((results / "training").glob("*/all/latest.safetensors"))) == 1
    again_log = tmp_path / "again.log"
    assert start(results, again_log, CHECKPOINT_EVERY="2").wait() == 0, again_log.read_text()
    assert "resuming from step 4 of 6" in again_log.read_text()

    def outcome(folder):
        rows = [r for r in ResultsStore(folder).rows() if r["cell_key"] == CELL_KEYS[1]]
        weights = load_file(str(folder / rows[0]["artifacts_dir"] / "checkpoint.safetensors"))
        return {r["key"]: r["value"] for r in rows}, weights

    (values, weights), (expected_values, expected_weights) = outcome(results), outcome(reference)
    assert values == expected_values and weights.keys() == expected_weights.keys()
    assert all(torch.equal(weights[k], expected_weights[k]) for k in weights)
    # Only the final checkpoint is left of the phase.
    assert not list((results / "training").glob("*/all/latest.safetensors"))
