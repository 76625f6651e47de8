"""Data-parallel training of the nets with Hugging Face accelerate, through skorch's mixin."""

import torch
from skorch.hf import AccelerateMixin as _SkorchAccelerateMixin
from skorch.utils import noop

from ..exceptions import ParameterError

__all__ = ["AccelerateMixin"]


class AccelerateMixin(_SkorchAccelerateMixin):
    """skorch's ``AccelerateMixin`` for skfma's nets: one fit on several devices.

    Put it first among the bases of a subclass of any skfma net, and pass an
    ``accelerate.Accelerator``. Started on several processes (``accelerate
    launch`` or ``torchrun``, one per device), each process trains a replica
    of the module on its share of every epoch's batches, and the gradients
    are averaged across processes after each backward pass (PyTorch's
    ``DistributedDataParallel``), so that the replicas stay identical.
    Started as one process, the net trains as it does without the mixin. The
    recipe is in :doc:`/data_parallel`.

    Beyond :class:`skorch.hf.AccelerateMixin`, which it extends: every process
    records the same losses (averaged across processes), so that callbacks
    that decide (``EarlyStopping``, ``LRScheduler`` on a plateau) decide
    alike everywhere; ``partial_fit`` and warm-started fits keep averaging the
    gradients; every process ends a fit with the main process's buffers
    (batch-norm statistics); the criterion and ``augment``, without trainable
    parameters, stay out of ``DistributedDataParallel``, which refuses them
    on CPU processes; ``verbose=0`` prints nothing, and ``verbose=1`` prints
    the epoch table from the main process only; and a pickled net, loaded,
    runs on the accelerator of the process that loads it.

    ``predict``, ``predict_proba`` and ``score`` are collective: every
    process must call them; each runs the module on its share of the clips,
    and every process gets the predictions of all the clips, in order.

    Parameters
    ----------
    accelerator : accelerate.Accelerator
        The one ``Accelerator`` of the script. Its ``mixed_precision``
        (``"bf16"``, ``"fp16"``) sets the arithmetic in place of the net's
        ``precision``, which must stay ``"float32"``. Keep the default
        ``even_batches=True`` of its ``dataloader_config``: every process
        then runs the same number of batches, as the averaged losses need.
    device : None, default=None
        accelerate places the module and the batches (one device per
        process); must be None.
    unwrap_after_train : bool, default=True
        Hand the module back unwrapped after training (a plain module);
        ``partial_fit`` and warm-started fits wrap it again.
    callbacks__print_log__sink : "auto" or callable, default="auto"
        ``"auto"`` prints the epoch table (``verbose=1``) from the main
        process only; a callable is called on every process, whatever
        ``verbose``.
    **kwargs
        The net's own parameters, but ``checkpoint``, which must stay None:
        skorch's ``Checkpoint`` callback saves from the main process.

    See Also
    --------
    skorch.hf.AccelerateMixin, NeuralClassifier

    Notes
    -----
    ``batch_size`` is per process: with ``n`` processes, each step of the
    optimizer averages the gradients of ``n * batch_size`` examples, and an
    epoch has ``n`` times fewer steps, so that the learning rate may want
    raising. Each epoch's shuffle is drawn on the main process and shared;
    with ``random_state``, every process starts from the same weights and
    draws the same shuffles, so that a launch repeats.

    Examples
    --------
    >>> from accelerate import Accelerator  # doctest: +SKIP
    >>> from skfma.models import AccelerateMixin, KostrzewaCNN
    >>> class AcceleratedKostrzewaCNN(AccelerateMixin, KostrzewaCNN):
    ...     '''KostrzewaCNN trained on every process of the launch.'''
    >>> net = AcceleratedKostrzewaCNN(accelerator=Accelerator(), random_state=0)  # doctest: +SKIP
    """

    def _validate_params(self):
        super()._validate_params()
        precision = getattr(self, "precision", "float32")
        if precision != "float32":
            raise ParameterError(
                f"precision={precision!r}: with accelerate, the accelerator sets the arithmetic; "
                "leave precision='float32' and pass Accelerator(mixed_precision='bf16' or 'fp16')."
            )
        if getattr(self, "checkpoint", None) is not None:
            raise ParameterError(
                f"checkpoint={self.checkpoint!r} cannot save a fit of several processes; use "
                "skorch.callbacks.Checkpoint, which saves from the main process."
            )
        if not self.accelerator.even_batches:
            raise ParameterError(
                "the accelerator's DataLoaderConfiguration must keep even_batches=True: every "
                "process must run the same number of batches, whose losses are averaged across "
                "processes."
            )

    def _torch_device(self):
        """The device of this process: the accelerator's."""
        return self.accelerator.device

    def _initialize_callbacks(self):
        if self.callbacks__print_log__sink == "auto":
            # skorch's PrintLog heeds verbose with print only: it calls any other sink always
            self.callbacks__print_log__sink = print if self.accelerator.is_main_process else noop
        return super()._initialize_callbacks()

    def _initialize_accelerator(self):
        """skorch's preparation, keeping the modules without trainable parameters out of DDP.

        On CPU processes accelerate wraps every module in
        ``DistributedDataParallel``, which refuses one with nothing to train
        (the criterion, ``SpecAugment``): those are prepared for evaluation
        (placed on the device), which skorch's preparation then keeps.
        """
        if not self._wrapped_with_accelerator:
            for kind, names in (("criterion", self._criteria), ("module", self._modules)):
                with self._current_init_context(kind):
                    for name in names:
                        module = getattr(self, name + "_")
                        if isinstance(module, torch.nn.Module) and not any(
                            parameter.requires_grad for parameter in module.parameters()
                        ):
                            prepared = self.accelerator.prepare_model(module, evaluation_mode=True)
                            setattr(self, name + "_", prepared)
        return super()._initialize_accelerator()

    def on_train_begin(self, net, X=None, y=None, **kwargs):
        """Wrap the modules again where a previous training call unwrapped them."""
        self._initialize_accelerator()
        return super().on_train_begin(net, X=X, y=y, **kwargs)

    def on_train_end(self, net, X=None, y=None, **kwargs):
        """Give every process the main process's buffers (batch-norm statistics), then unwrap.

        The averaged gradients keep the parameters identical; buffers updated
        in the forward pass, such as batch norm's running statistics, followed
        each process's last batch.
        """
        from accelerate.utils import broadcast

        for name in self._modules:
            module = getattr(self, name + "_")
            if isinstance(module, torch.nn.Module):
                for buffer in module.buffers():
                    broadcast(buffer, from_process=0)
        return super().on_train_end(net, X=X, y=y, **kwargs)

    def train_step(self, batch, **fit_params):
        """The training step; its loss is the mean over the processes' batches."""
        return self._mean_loss(super().train_step(batch, **fit_params))

    def validation_step(self, batch, **fit_params):
        """The validation step; its loss is the mean over the processes' batches."""
        return self._mean_loss(super().validation_step(batch, **fit_params))

    def _mean_loss(self, step):
        """A step's output whose loss is averaged across processes (equal batch sizes)."""
        return {**step, "loss": self.accelerator.reduce(step["loss"].detach(), reduction="mean")}

    def __getstate__(self):
        # The accelerator belongs to its launch: copied elsewhere, it would still shard the
        # batches for the processes of that launch.
        state = super().__getstate__()
        del state["accelerator"]
        return state

    def __setstate__(self, state):
        from accelerate import Accelerator

        # The modules load on the CPU (skorch's choice for device=None, said in a warning),
        # then go to the device of this process's accelerator.
        super().__setstate__({**state, "device": "cpu"})
        self.device = state["device"]
        self.accelerator = Accelerator()
        for name in self._modules + self._criteria:
            module = getattr(self, name + "_", None)
            if isinstance(module, torch.nn.Module):
                module.to(self.accelerator.device)
