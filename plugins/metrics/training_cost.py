"""``training-cost``: what a cell's GAN training cost, as result keys, so that a paper's
training times (the GAN-depth thesis, Table 5) meet ours in the same tables.

``train_wall_time_min`` is the wall-clock time, in minutes, from the first GAN built to
the last image sampled (every per-class GAN of the cell, sampling included; metrics
excluded). ``train_device_hours`` is that time in hours times the number of devices the
cell held (one: a cell runs on one GPU, or on the CPU, which counts as one device). Both
depend on the machine and on what else it ran: compare them within one run, or across
runs on the same device (the rows record it).
"""

from __future__ import annotations

from ganbench.api import Evaluation, Metric, MetricResult, hookimpl

#: Devices one cell holds: the runner puts a cell on one device.
DEVICES_PER_CELL = 1


class TrainingCost(Metric):
    name = "training-cost"
    description = "Wall-clock minutes and device-hours of the cell's GAN training and sampling"
    source = "GAN-depth thesis 2023, Table 5 (training time per depth, sample count and epochs)"
    kind = "cost"
    direction = "lower"
    result_keys = ("train_wall_time_min", "train_device_hours")
    value_ranges = dict.fromkeys(result_keys, (0.0, float("inf")))
    protocol = (
        "Wall clock from building the cell's first GAN to its last sampled image (every per-class GAN, "
        "sampling included, metrics excluded), in minutes; device-hours are that time in hours times the "
        f"{DEVICES_PER_CELL} device a cell holds (a GPU, or the CPU). Machine-dependent: compare within a run "
        "or on the same device."
    )

    def compute(self, evaluation: Evaluation, classifier=None) -> MetricResult:
        seconds = evaluation.train_wall_time_s
        if seconds is None:
            raise ValueError("the runner did not record the cell's training time")
        return MetricResult(
            {"train_wall_time_min": seconds / 60.0, "train_device_hours": seconds / 3600.0 * DEVICES_PER_CELL}
        )


@hookimpl
def register_metrics(register):
    register(TrainingCost())
