"""Processes of the data-parallel test: they write what they saw as JSON into a folder.

``python -m torch.distributed.run --nproc_per_node 2 data_parallel_worker.py OUT``:
every process fits the accelerated net on the same synthetic clips, then trains
one more epoch with ``partial_fit`` (without validation), and writes to
``OUT/rank<k>.json`` which training clips each epoch's batches held on this
process, the history, a digest of the module's state after each training call
and the accuracy of its predictions. The main process also fits the plain net
alone, for comparison, and pickles the accelerated one to ``OUT/net.pkl``.

``python data_parallel_worker.py OUT --load``: one process loads ``OUT/net.pkl``
and writes its accuracy to ``OUT/loaded.json``.
"""

import argparse
import hashlib
import json
import pickle
from pathlib import Path

import numpy as np
import torch
from skorch.callbacks import Callback

from skfma.models import AccelerateMixin, KostrzewaCNN

#: The same tiny net for both fits: clips of 16 bands x 16 frames, 4 genres.
PARAMS = {
    "module__filters": (4, 8),
    "module__kernel_size": 3,
    "lr": 1e-2,
    "max_epochs": 6,
    "batch_size": 16,
    "random_state": 0,
}


class AcceleratedKostrzewaCNN(AccelerateMixin, KostrzewaCNN):
    """KostrzewaCNN trained on every process of the launch."""


class SeenClips(Callback):
    """Record, for each epoch, which clips of ``X`` this process's training batches held."""

    def __init__(self, X):
        self.X = X

    def initialize(self):
        self.index_ = {clip.tobytes(): i for i, clip in enumerate(self.X)}
        self.epochs_ = []
        return self

    def on_epoch_begin(self, net, **kwargs):
        self.epochs_.append([])

    def on_batch_end(self, net, batch, training, **kwargs):
        if training:
            clips = batch[0][:, 0].cpu().numpy()  # without the channel axis
            self.epochs_[-1] += [self.index_[clip.tobytes()] for clip in clips]


def make_clips(n_clips, seed):
    """Noisy spectrogram-like clips whose genre is a band of bright bins: (X, y)."""
    rng = np.random.default_rng(seed)
    y = np.arange(n_clips) % 4
    X = rng.normal(size=(n_clips, 16, 16)).astype(np.float32)
    for genre in range(4):
        X[y == genre, 4 * genre : 4 * genre + 4] += 1.5
    return X, np.array(["Rock", "Jazz", "Pop", "Folk"])[y]


def digest(module):
    """SHA-1 of every parameter and buffer of a module (its state dict)."""
    sha = hashlib.sha1()
    for name, tensor in sorted(module.state_dict().items()):
        sha.update(name.encode() + tensor.detach().cpu().numpy().tobytes())
    return sha.hexdigest()


def train(out):
    """Fit on every process of the launch, record, write this process's JSON."""
    from accelerate import Accelerator
    from skorch.dataset import ValidSplit

    X, y = make_clips(256, seed=0)
    accelerator = Accelerator(cpu=True)  # gloo across CPU processes
    split = {"train_split": ValidSplit(4, stratified=True)}
    seen = SeenClips(X)
    net = AcceleratedKostrzewaCNN(
        accelerator=accelerator, callbacks=[("seen", seen)], **split, **PARAMS
    )
    net.fit(X, y)
    fitted = digest(net.module_)
    # one more epoch without validation, whose forward passes would sync the buffers
    net.set_params(train_split=None).partial_fit(X, y, epochs=1)
    result = {
        "num_processes": accelerator.num_processes,
        "seen": seen.epochs_,
        "history": [
            {key: epoch[key] for key in ("train_loss", "valid_loss", "valid_acc") if key in epoch}
            for epoch in net.history_
        ],
        "digests": [fitted, digest(net.module_)],
        "accuracy": net.score(*make_clips(96, seed=1)),
    }
    if accelerator.is_main_process:
        (out / "net.pkl").write_bytes(pickle.dumps(net))
        single = KostrzewaCNN(**split, **PARAMS).fit(X, y)
        result["single_accuracy"] = single.score(*make_clips(96, seed=1))
    (out / f"rank{accelerator.process_index}.json").write_text(json.dumps(result))


def load(out):
    """Load the pickled net in this one process and write its accuracy."""
    net = pickle.loads((out / "net.pkl").read_bytes())
    result = {"accuracy": net.score(*make_clips(96, seed=1)), "digest": digest(net.module_)}
    (out / "loaded.json").write_text(json.dumps(result))


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("out", type=Path)
    parser.add_argument("--load", action="store_true")
    args = parser.parse_args()
    torch.set_num_threads(1)
    (load if args.load else train)(args.out)
