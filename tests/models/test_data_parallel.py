"""Data-parallel training through AccelerateMixin: one fit in two CPU processes (gloo)."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("accelerate")

from accelerate import Accelerator, DataLoaderConfiguration  # noqa: E402

from skfma.exceptions import ParameterError  # noqa: E402
from skfma.models import AccelerateMixin, KostrzewaCNN  # noqa: E402

WORKER = Path(__file__).with_name("data_parallel_worker.py")
RUNS = ["rank0", "rank1", "loaded"]


class AcceleratedKostrzewaCNN(AccelerateMixin, KostrzewaCNN):
    """KostrzewaCNN with accelerate."""


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """What each process of a 2-process ``torchrun`` launch saw, then one process loading the net.

    Returns
    -------
    dict
        ``"rank0"`` and ``"rank1"``: the launch's processes; ``"loaded"``: the
        process that loaded the pickled net.
    """
    out = tmp_path_factory.mktemp("data_parallel")
    launch = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2"]
    for command in ([*launch, WORKER, out], [sys.executable, WORKER, out, "--load"]):
        result = subprocess.run(
            command,
            env={**os.environ, "OMP_NUM_THREADS": "1"},
            capture_output=True,
            text=True,
            timeout=300,  # a hang guard
        )
        assert result.returncode == 0, result.stdout + result.stderr
    return {name: json.loads((out / f"{name}.json").read_text()) for name in RUNS}


def test_two_processes_reach_the_single_process_accuracy(runs):
    assert runs["rank0"]["num_processes"] == runs["rank1"]["num_processes"] == 2
    assert runs["rank0"]["single_accuracy"] >= 0.9
    # predict is collective: every process gets the predictions of every clip
    assert runs["rank0"]["accuracy"] == runs["rank1"]["accuracy"] >= 0.9


def test_each_process_trains_on_its_half_of_every_epoch(runs):
    first, second = runs["rank0"]["seen"], runs["rank1"]["seen"]
    # fit: 6 epochs on 192 clips (a quarter of 256 held out); partial_fit: 1 on all 256
    n_clips = [192] * 6 + [256]
    assert (
        [len(epoch) for epoch in first]
        == [len(epoch) for epoch in second]
        == [n // 2 for n in n_clips]
    )
    for mine, theirs, n in zip(first, second, n_clips, strict=True):
        assert not set(mine) & set(theirs)
        assert len(set(mine) | set(theirs)) == n
    assert first[0] != first[1]  # a new shuffle every epoch


def test_processes_end_with_the_same_weights_and_history(runs):
    # after fit and after partial_fit: gradients averaged, buffers from the main process
    assert runs["rank0"]["digests"] == runs["rank1"]["digests"]
    assert runs["rank0"]["digests"][0] != runs["rank0"]["digests"][1]
    # losses averaged across processes, so that callbacks decide alike everywhere
    assert runs["rank0"]["history"] == runs["rank1"]["history"]


def test_a_pickled_net_predicts_in_one_process(runs):
    # the loaded net takes the accelerator of its process, not the launch's (2 processes)
    assert runs["loaded"]["digest"] == runs["rank0"]["digests"][-1]
    assert runs["loaded"]["accuracy"] == runs["rank0"]["accuracy"]


@pytest.mark.parametrize(
    "accelerator, params, match",
    [
        ({}, {"precision": "bfloat16"}, "mixed_precision"),
        ({}, {"checkpoint": "folder"}, "skorch.callbacks.Checkpoint"),
        ({"dataloader_config": DataLoaderConfiguration(even_batches=False)}, {}, "even_batches"),
    ],
)
def test_settings_that_data_parallelism_cannot_honour_are_refused(accelerator, params, match):
    net = AcceleratedKostrzewaCNN(accelerator=Accelerator(**accelerator), **params)
    with pytest.raises(ParameterError, match=match):
        net.initialize()
