"""Epochs and time of HyperbandSearchCV and BayesianSearchCV versus GridSearchCV over one grid.

The problem is two noisy concentric circles (a net needs a hidden layer to
separate them) and the grid twelve DNNClassifier configurations: three learning
rates, no or one hidden layer, two dropouts. GridSearchCV trains every
configuration for ``--max-epochs`` on every fold; Hyperband (``reduction_factor``
3) and TPE with Hyperband pruning draw twelve configurations from the same grid
and stop the poor ones early, continuing survivors from their state. The script
counts the epochs every net trained (a skorch callback sees each one) and
prints, for each search, the epochs, the wall time, the best cross-validated
accuracy, and the ratios to the grid's epochs and time.

Example::

    python benchmarks/bench_search.py --max-epochs 27 --seeds 0 1 2
"""

import argparse
import itertools
import time

import numpy as np
import torch
from sklearn.datasets import make_circles
from sklearn.model_selection import GridSearchCV
from skorch.callbacks import Callback

from skfma.model_selection import BayesianSearchCV, HyperbandSearchCV
from skfma.models import DNNClassifier

GRID = {
    "lr": [3e-2, 1e-2, 1e-3],
    "module__hidden_layer_sizes": [(), (32,)],
    "module__dropout": [0.0, 0.2],
}


class CountEpochs(Callback):
    """Counts every epoch of every net (class-level: clones share it)."""

    count = 0

    def on_epoch_end(self, net, **kwargs):
        CountEpochs.count += 1


def run(search, X, y):
    CountEpochs.count = 0
    start = time.perf_counter()
    search.fit(X, y)
    return CountEpochs.count, time.perf_counter() - start, search.best_score_


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--max-epochs", type=int, default=27)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    parser.add_argument("--threads", type=int, default=1, help="torch threads")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)  # tiny nets: a second thread only adds contention
    X, y = make_circles(240, noise=0.1, factor=0.4, random_state=0)
    X = X.astype(np.float32)
    n_grid = len(list(itertools.product(*GRID.values())))
    net = DNNClassifier(
        max_epochs=args.max_epochs, batch_size=16, callbacks=[("count", CountEpochs())]
    )
    print(f"{n_grid} configurations, 3 folds, up to {args.max_epochs} epochs each")
    print(f"{'search':<22}{'seed':>5}{'epochs':>8}{'seconds':>9}{'best acc':>10}"
          f"{'epochs/grid':>13}{'time/grid':>11}")  # fmt: skip
    for seed in args.seeds:
        grid = run(GridSearchCV(net.set_params(random_state=seed), GRID, cv=3), X, y)
        searches = {
            "GridSearchCV": grid,
            "HyperbandSearchCV": run(
                HyperbandSearchCV(net, GRID, n_trials=n_grid, cv=3, random_state=seed), X, y
            ),
            "BayesianSearchCV+prune": run(
                BayesianSearchCV(
                    net,
                    GRID,
                    n_trials=n_grid,
                    n_startup_trials=4,
                    pruning=True,
                    cv=3,
                    random_state=seed,
                ),  # fmt: skip
                X,
                y,
            ),
        }
        for name, (epochs, seconds, best) in searches.items():
            print(
                f"{name:<22}{seed:>5}{epochs:>8}{seconds:>9.1f}{best:>10.3f}"
                f"{epochs / grid[0]:>13.2f}{seconds / grid[1]:>11.2f}"
            )


if __name__ == "__main__":
    main()
