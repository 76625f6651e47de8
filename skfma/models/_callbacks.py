"""Callbacks for the neural classifiers."""

import torch
from skorch.callbacks import LRScheduler

from ..exceptions import ParameterError
from ..utils import check_positive, is_finite_number, names_its_errors

__all__ = ["OneCycleSchedule"]


class OneCycleSchedule(LRScheduler):
    """One-cycle learning rate over a whole fit, stepped every batch.

    ``torch.optim.lr_scheduler.OneCycleLR`` with ``max_lr`` the net's ``lr``
    and ``total_steps`` the number of training batches in ``max_epochs``
    epochs, both read when a cycle starts, so that a grid search over ``lr``,
    ``batch_size`` or ``max_epochs`` schedules every candidate correctly.

    ``fit`` starts a cycle. ``partial_fit`` and a warm-started ``fit`` go on
    with an unfinished one, as skorch's schedulers go on from the net's
    history: ``max_epochs`` epochs trained in several calls (a Hyperband
    trial's rungs) follow the schedule of one ``fit``. A call after the
    cycle has ended, after ``lr`` changed or after the optimizer was built
    again starts a new one; within a call, the learning rate stays at its
    final value once the cycle ends.

    A fit resumed from its ``checkpoint`` goes on with the saved cycle. Where
    that cycle has ended (a short run continued with a larger
    ``max_epochs``), a new cycle spans the epochs left.

    Parameters
    ----------
    pct_start : float, default=0.3
        Fraction of the cycle spent increasing the learning rate.
    div_factor : float, default=25.0
        The cycle starts at ``lr / div_factor``.
    final_div_factor : float, default=1e4
        The cycle ends at ``lr / (div_factor * final_div_factor)``.

    Examples
    --------
    >>> from skfma.models import DNNClassifier, OneCycleSchedule
    >>> clf = DNNClassifier(callbacks=[("one_cycle", OneCycleSchedule())])
    """

    # skorch's LRScheduler settings, fixed here: class attributes, so that the parameters
    # (get_params, clone) are those of __init__ and LRScheduler's ``kwargs`` (those passed
    # to the scheduler) are exactly those three.
    policy = torch.optim.lr_scheduler.OneCycleLR
    monitor = "train_loss"
    event_name = "event_lr"
    step_every = "batch"

    def __init__(self, *, pct_start=0.3, div_factor=25.0, final_div_factor=1e4):
        self.pct_start = pct_start
        self.div_factor = div_factor
        self.final_div_factor = final_div_factor

    def __repr__(self):
        params = ", ".join(f"{name}={value!r}" for name, value in self.get_params().items())
        return f"{type(self).__name__}({params})"

    def set_params(self, **params):
        """Set ``pct_start``, ``div_factor`` or ``final_div_factor``.

        Returns
        -------
        self : OneCycleSchedule
        """
        super().set_params(**params)
        return self

    @names_its_errors
    def on_train_begin(self, net, **kwargs):
        """Check the parameters; go on with an unfinished cycle, else start one at the first epoch.

        Raises
        ------
        ParameterError
            Naming the parameter, unless ``0 < pct_start < 1`` and both
            factors are finite numbers > 0.
        """
        if not (is_finite_number(self.pct_start) and 0 < self.pct_start < 1):
            raise ParameterError(f"pct_start must be a number in (0, 1); got {self.pct_start!r}.")
        for name in ("div_factor", "final_div_factor"):
            check_positive(name, getattr(self, name))
        cycle = self.lr_scheduler_
        if cycle is not None and (
            cycle.last_epoch >= cycle.total_steps
            or cycle.optimizer is not net.optimizer_
            or self.peak_lr_ != net.lr
        ):
            self.lr_scheduler_ = None

    def on_resume(self, net):
        """A fit resumed from a checkpoint: a cycle that has ended gives way to one over the
        epochs left (those of this call), as ``on_train_begin`` does to one over ``max_epochs``."""
        cycle = self.lr_scheduler_
        if cycle is None or cycle.last_epoch >= cycle.total_steps:
            self.lr_scheduler_ = None
            self.cycle_over_call_ = True

    def on_epoch_begin(self, net, dataset_train=None, **kwargs):
        """Build the schedule on the first epoch of a cycle."""
        if self.lr_scheduler_ is None:
            self.peak_lr_ = net.lr
            n_batches = len(net.get_iterator(dataset_train, training=True))
            over_call = getattr(self, "cycle_over_call_", False)
            self.cycle_over_call_ = False
            epochs = net.epochs_in_call_ if over_call else net.max_epochs
            self.lr_scheduler_ = torch.optim.lr_scheduler.OneCycleLR(
                net.optimizer_,
                max_lr=net.lr,
                total_steps=max(1, epochs * n_batches),
                **self.kwargs,
            )

    def on_batch_end(self, net, training, **kwargs):
        """Step once per training batch, never past the end of the cycle."""
        if training and self.lr_scheduler_.last_epoch < self.lr_scheduler_.total_steps:
            super().on_batch_end(net, training, **kwargs)
