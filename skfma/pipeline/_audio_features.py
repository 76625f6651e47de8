"""AudioFeatures: stateless per-clip steps run clip by clip in workers, with an on-disk cache."""

import itertools
import math
import os
from functools import partial

import numpy as np
from joblib import Memory, Parallel, delayed, effective_n_jobs
from joblib import hash as stable_hash
from joblib.parallel import get_active_backend
from sklearn import config_context
from sklearn.base import TransformerMixin, clone
from sklearn.utils import Bunch, get_tags
from sklearn.utils.metaestimators import available_if
from sklearn.utils.validation import check_is_fitted

from .._memory import release_free_heap
from .._progress import progress_bar
from ..audio import AudioLoader, load_window
from ..base import ON_ERROR, ArrayOutputMixin, paths_input_tags, validate_parameters, warn_failures
from ..exceptions import AudioDecodeError, ParameterError
from ..utils import (
    check_choice,
    check_int,
    check_n_jobs,
    check_paths,
    expand_path,
    is_finite_number,
    names_its_errors,
    value_check,
)
from ..utils._composition import BaseComposition
from ..utils._fingerprint import describe
from ._cache import ClipCache, file_identity
from ._outputs import allocate_output

__all__ = ["AudioFeatures", "make_audio_features"]

#: Most clips per task when ``batch_size`` is None: small enough for progress and bounded
#: worker memory (a worker holds a batch's outputs, 16 log-mels of 30 s take 11 MB), large
#: enough to amortise a task's overhead.
DEFAULT_BATCH_SIZE = 16

#: When ``batch_size`` is None, each batch takes this share of the clips left per worker, so
#: that batches shrink to single clips at the end and the workers finish together.
SHARE_OF_WHAT_IS_LEFT = 0.5


class AudioFeatures(TransformerMixin, BaseComposition):
    """Run stateless per-clip steps clip by clip in workers: paths in, features out.

    The steps of a ``Pipeline`` prefix that only transform (an
    :class:`~skfma.AudioLoader` first, then e.g. ``MelSpectrogram`` and
    ``TemporalStatistics``, or ``FMAFeatures``) run inside the workers, one
    file at a time: decoded waveforms never cross a process boundary and
    never all sit in memory; only the final outputs come back, a batch of
    files per task.
    The output equals running the steps one after the other on all the paths,
    one row per path, in input order.

    With ``memory``, each clip's output is stored on disk under a key made of
    the file's identity (path, size, modification time, inode) and the parameters of
    every step: a second call, another fold or another grid point of a
    ``GridSearchCV`` over later steps reads it instead of decoding again, an
    interrupted run resumes where it stopped (every finished clip is kept),
    and changing a step's parameter computes afresh. A 3-D output (such as
    log-mel spectrograms for the nets) is then written to a disk-backed
    ``.npy`` file in the same folder and returned as a memory map, so that it
    may be larger than memory.

    Parameters
    ----------
    steps : list of (str, estimator)
        Named steps, as ``Pipeline`` takes them. The first is an
        ``AudioLoader`` (its ``n_jobs`` and ``on_error`` are not used: this
        transformer's are); every step must be stateless (its tags say
        ``requires_fit=False``: fit learns nothing from the data). A step
        with an ``sr`` parameter (``MelSpectrogram``, ``FMAFeatures``,
        ``MusicnnFeatures``, ...) must have the loader's: another rate is
        refused, as it would read the audio at the wrong speed.
    n_jobs : int or None, default=None
        joblib workers, each computing whole batches; ``-1`` uses every
        core. Runs under any joblib backend, e.g. a Dask cluster through
        ``joblib.parallel_config(backend="dask")``. Worker processes of this
        machine (joblib's loky and multiprocessing backends, on Linux) write
        their rows into shared memory (``/dev/shm``) instead of sending them
        back; other workers send them back.
    batch_size : int or None, default=None
        Clips per task. ``None`` gives each task half of the clips left per
        worker, at most 16: batches shrink to single clips at the end, so
        that the workers finish together. A worker runs the steps on one clip
        at a time and holds one batch's outputs.
    memory : str, os.PathLike, joblib.Memory or None, default=None
        Folder of the per-clip cache (and of 3-D outputs); ``None`` caches
        nothing. A ``joblib.Memory`` contributes its ``location``. Share it
        between machines through a shared filesystem. A step that draws other
        outputs at every fit (scikit-learn's ``non_deterministic`` tag, e.g.
        ``PretrainedCNNFeatures(weights=None)`` without a ``random_state``)
        is refused: its cached rows would come from another draw.
    on_error : {"raise", "warn"}, default="raise"
        A file that cannot be decoded raises
        :class:`~skfma.exceptions.AudioDecodeError` naming it, or, with
        ``"warn"``, gets a row of zeros, is listed in ``failures_`` and named
        in one warning. Rows are never dropped. Failed clips are not cached.
    verbose : int, default=0
        Above 0, show a progress bar (clips done, rate, ETA, failures) on
        stderr even when it is not a terminal; it shows on a terminal anyway.

    Attributes
    ----------
    named_steps : sklearn.utils.Bunch
        The steps by name.
    output_shape_ : tuple of int
        Shape of one clip's output (set by ``fit``).
    failures_ : list of tuple (int, str, str)
        Set by ``transform``: ``(row, path, reason)`` of every file that could
        not be decoded (with ``on_error="warn"``); absent after a call that
        raised.

    See Also
    --------
    make_audio_features : name the steps automatically.
    sklearn.pipeline.Pipeline : the same steps, run step by step on all rows.

    Examples
    --------
    >>> from skfma import AudioFeatures, AudioLoader, MelSpectrogram, TemporalStatistics
    >>> features = AudioFeatures(
    ...     [("load", AudioLoader(sr=22050, duration=30.0)),
    ...      ("mel", MelSpectrogram(n_mels=64)),
    ...      ("stats", TemporalStatistics())],
    ...     n_jobs=2, memory="feature_cache")
    >>> X = features.fit_transform(["000002.mp3", "000005.mp3"])  # doctest: +SKIP
    >>> X.shape  # doctest: +SKIP
    (2, 448)
    """

    def __init__(
        self, steps, *, n_jobs=None, batch_size=None, memory=None, on_error="raise", verbose=0
    ):
        self.steps = steps
        self.n_jobs = n_jobs
        self.batch_size = batch_size
        self.memory = memory
        self.on_error = on_error
        self.verbose = verbose

    def get_params(self, deep=True):
        """Parameters, the steps' included as ``step__param`` (as ``Pipeline``'s).

        Parameters
        ----------
        deep : bool, default=True
            Include the steps and their parameters.

        Returns
        -------
        params : dict
        """
        return self._get_params("steps", deep=deep)

    def set_params(self, **params):
        """Set parameters, a step's as ``step__param``, or replace a step by its name.

        Returns
        -------
        self : AudioFeatures
        """
        self._set_params("steps", **params)
        return self

    @property
    def named_steps(self):
        """sklearn.utils.Bunch : The steps, by name."""
        return Bunch(**dict(self.steps))

    @names_its_errors
    def fit(self, X, y=None):
        """Check the steps and the paths, and size the output; nothing is learnt.

        The steps are fitted on one clip of silence (they are stateless), so
        that ``get_feature_names_out`` and ``named_steps`` work as in a
        ``Pipeline``.

        Parameters
        ----------
        X : array-like of str or os.PathLike, shape (n_clips,) or (n_clips, 1)
            Audio file paths.
        y : None
            Ignored.

        Returns
        -------
        self : AudioFeatures
        """
        self._check_params()
        check_paths(X)
        self.output_shape_, self.output_dtype_ = self._probe(self.steps)
        return self

    @names_its_errors
    def transform(self, X):
        """Run the steps on every file, batch by batch in the workers.

        Parameters
        ----------
        X : array-like of str or os.PathLike, shape (n_clips,) or (n_clips, 1)
            Audio file paths.

        Returns
        -------
        features : ndarray, shape (n_clips, ...)
            One row of shape ``output_shape_`` per path.
            What the last step returns, one row per path, in order; a
            read-only-on-disk ``np.memmap`` (copy-on-write) for a 3-D output
            when ``memory`` is set.
        """
        self._check_params()
        paths = check_paths(X)
        vars(self).pop("failures_", None)  # a call that raises leaves no earlier call's list
        # Fitted copies, once, here: every worker runs the same fitted steps (a random
        # network's seed, a weights file's checksum are drawn or computed once).
        steps = [(name, clone(step)) for name, step in self.steps]
        shape, dtype = self._probe(steps)
        identities = [file_identity(path) for path in paths]
        folder = self._memory_folder()
        cache = None if folder is None else ClipCache(folder, self.steps)
        output = allocate_output(
            (len(paths), *shape), dtype, n_jobs=self.n_jobs, cache=cache, identities=identities
        )
        try:
            failures = self._compute(steps, paths, identities, output, cache)
        except BaseException:
            output.discard()
            raise
        features = output.publish()
        self.failures_ = sorted(failures)
        warn_failures(self.failures_, len(paths))
        return features

    def _compute(self, steps, paths, identities, output, cache):
        """Fill ``output`` from the cache, then batch by batch in the workers; return the failures.

        Parameters
        ----------
        steps : list of (str, estimator)
            The fitted steps.
        paths : ndarray of str, shape (n_clips,)
        identities : list
            The files' :func:`~skfma.pipeline._cache.file_identity`.
        output : skfma.pipeline._outputs.Output
            Where the rows go (see :func:`~skfma.pipeline._outputs.allocate_output`).
        cache : ClipCache or None

        Returns
        -------
        failures : list of (int, str, str)
            ``(row, path, reason)`` of every file that could not be decoded.
        """
        todo = _fill_from_cache(output.array, cache, identities)
        if self.batch_size is None:
            sizes = guided_batch_sizes(len(todo), effective_n_jobs(self.n_jobs))
        else:
            sizes = [self.batch_size] * math.ceil(len(todo) / self.batch_size)
        ends = itertools.accumulate(sizes)
        batches = [todo[end - size : end] for size, end in zip(sizes, ends, strict=True)]
        steps = _worker_steps(steps)
        jobs = (
            delayed(_run_batch)(
                steps,
                paths[rows],
                [identities[row] for row in rows],
                cache,
                self.on_error,
                output.batch_rows(rows),
            )
            for rows in batches
        )
        failures = []
        with progress_bar(
            total=len(paths),
            initial=len(paths) - len(todo),
            desc=type(self).__name__,
            unit="clip",
            show=True if self.verbose > 0 else None,
        ) as bar:
            # A generator, to update the progress bar as batches finish, where the backend
            # offers one (joblib's multiprocessing backend does not).
            generator = get_active_backend()[0].supports_return_generator
            results = Parallel(n_jobs=self.n_jobs, return_as="generator" if generator else "list")(
                jobs
            )
            for rows, (values, batch_failures) in zip(batches, results, strict=True):
                output.receive(rows, values)
                failures += [(rows[index], path, reason) for index, path, reason in batch_failures]
                bar.update(len(rows))
                if failures:
                    bar.set_postfix(failures=len(failures))
        return failures

    def _last_step_names_its_features(self):
        """True, or an AttributeError naming the last step when it has no feature names.

        ``get_feature_names_out`` (and so ``set_output``) exists only then:
        scikit-learn's pandas output (``set_config(transform_output=
        "pandas")``) leaves the output of a transformer without it as it is,
        so that a spectrogram's 3-D array comes back as an array (it would
        otherwise fail after the whole extraction, asking for column names).
        """
        try:
            name, last = self.steps[-1]
        except (TypeError, ValueError, IndexError, KeyError):
            return True  # steps that fit and transform refuse, naming what is wrong
        if not hasattr(last, "get_feature_names_out"):
            raise AttributeError(
                f"the last step {name!r} ({type(last).__name__}) has no get_feature_names_out."
            )
        return True

    def set_output(self, *, transform=None):
        """scikit-learn's ``set_output`` where the last step names its features.

        Where it does not (a spectrogram's 3-D output), the setting is
        accepted and the output stays an array
        (:class:`~skfma.base.ArrayOutputMixin`), so that a ``Pipeline``
        holding this step can ``set_output``.

        Parameters
        ----------
        transform : {"default", "pandas", "polars"} or None, default=None

        Returns
        -------
        self : AudioFeatures
        """
        if hasattr(self, "get_feature_names_out"):
            return super().set_output(transform=transform)
        return ArrayOutputMixin.set_output(self, transform=transform)

    @available_if(_last_step_names_its_features)
    def get_feature_names_out(self, input_features=None):
        """Output column names: the last step's, for a 2-D output.

        They are those of the steps as they are set now (fitted copies, as
        :meth:`transform` runs them), so that they match ``transform``'s
        output after ``set_params`` too. Only where the last step has
        ``get_feature_names_out``.

        Parameters
        ----------
        input_features : None
            Ignored (the input is paths).

        Returns
        -------
        feature_names_out : ndarray of str
        """
        check_is_fitted(self, "output_shape_")
        # Remembered with the steps' parameters: pandas output asks for them after every
        # transform, which then need not run the steps on silence again.
        key = _settings_hash(self.steps)
        known = getattr(self, "_feature_names", None)
        if known is None or known[0] != key:
            steps = [(step_name, clone(step)) for step_name, step in self.steps]
            self._probe(steps)
            known = self._feature_names = (key, steps[-1][1].get_feature_names_out())
        return known[1].copy()

    _parameter_checks = {
        "steps": lambda name, steps: _check_steps(steps),
        "n_jobs": value_check(check_n_jobs),
        "batch_size": partial(check_int, allow_none=True),
        "memory": lambda name, memory: _memory_folder(memory),
        "on_error": partial(check_choice, choices=ON_ERROR),
        "verbose": partial(check_int, minimum=0),
    }

    def _check_params(self):
        validate_parameters(self)
        # Unique, without "__", and none named as a parameter of this transformer.
        self._validate_names([name for name, _ in self.steps])
        if self.memory is not None:
            for name, step in self.steps:
                if get_tags(step).non_deterministic:
                    raise ParameterError(
                        f"memory cannot cache step {name!r}: {step!r} draws other outputs at "
                        "every fit (random weights without a random_state), so cached rows would "
                        "come from another draw than the rest; set its random_state, or "
                        "memory=None."
                    )

    def _memory_folder(self):
        return _memory_folder(self.memory)

    def _probe(self, steps):
        """Fit ``steps`` on one clip of silence; the shape and dtype of a row of their output.

        The last step's output on silence is remembered with the steps'
        parameters: fitting the same steps again (``transform`` after ``fit``)
        skips that step's transform, which for a CNN is the costly one.

        Returns
        -------
        shape : tuple of int
        dtype : numpy.dtype
        """
        key = _settings_hash(steps)
        known = getattr(self, "_probed", None)
        loader = steps[0][1]
        Xt = np.zeros((1, loader.fit([os.devnull]).n_samples_out), dtype=np.float32)
        with config_context(transform_output="default"):  # arrays between the steps, always
            for index, (_, step) in enumerate(steps[1:], start=2):
                if index == len(steps) and known is not None and known[0] == key:
                    step.fit(Xt)
                    return known[1:]
                Xt = step.fit_transform(Xt)
        Xt = np.asarray(Xt)
        self._probed = (key, Xt.shape[1:], Xt.dtype)
        return Xt.shape[1:], Xt.dtype

    def __getstate__(self):
        """The state to pickle, without what the probe remembered in this process.

        Unpickled in another process, the first ``transform`` runs the steps
        on silence again before its workers start: the first run of
        librosa's numba functions then compiles them (and fills numba's
        cache) once, in the parent, where workers compiling them at once
        could crash on a fresh install.
        """
        state = super().__getstate__()
        state.pop("_probed", None)
        state.pop("_feature_names", None)
        return state

    def __sklearn_tags__(self):
        return paths_input_tags(super().__sklearn_tags__())


def _check_steps(steps):
    """Raise a ParameterError unless ``steps`` is an AudioLoader then stateless transformers."""
    if not isinstance(steps, list | tuple) or not steps:
        raise ParameterError(f"steps must be a non-empty list of (name, estimator); got {steps!r}.")
    try:
        names, estimators = zip(*steps, strict=True)
    except (TypeError, ValueError):
        raise ParameterError(
            f"steps must be a list of (name, estimator) pairs; got {steps!r}."
        ) from None
    if not isinstance(estimators[0], AudioLoader):
        raise ParameterError(
            f"the first step must be an AudioLoader (it decodes the paths); got {names[0]!r} "
            f"({type(estimators[0]).__name__})."
        )
    for name, step in zip(names[1:], estimators[1:], strict=True):
        if isinstance(step, AudioLoader) or not hasattr(step, "transform"):
            raise ParameterError(
                f"step {name!r} ({type(step).__name__}) must be a transformer of the "
                "previous step's output."
            )
    for name, step in zip(names, estimators, strict=True):
        if get_tags(step).requires_fit:
            raise ParameterError(
                f"step {name!r} ({type(step).__name__}) learns from the data in fit; "
                "AudioFeatures runs only stateless steps, clip by clip. Put it after "
                "AudioFeatures in a Pipeline."
            )
    _check_sample_rates(names, estimators)


def _check_sample_rates(names, estimators):
    """Raise a ParameterError where a step's ``sr`` is not the rate the loader decodes at.

    A step's ``sr`` is the rate of the audio it was given, which
    AudioFeatures knows: the loader's. Another rate would read the audio
    faster or slower (22,050 Hz read as musicnn's 16,000: 1.38 times the
    pitch and tempo), with no error. (A rate that is not a number is the
    loader's own error, or the step's.)
    """
    rate = estimators[0].get_params().get("sr")
    if not is_finite_number(rate):
        return
    for name, step in zip(names[1:], estimators[1:], strict=True):
        step_rate = step.get_params(deep=False).get("sr") if hasattr(step, "get_params") else None
        if is_finite_number(step_rate) and step_rate != rate:
            raise ParameterError(
                f"step {name!r} ({type(step).__name__}) has sr={step_rate!r}, but the "
                f"AudioLoader {names[0]!r} decodes at sr={rate!r}: the step would read the "
                "audio at the wrong speed. Give both the same rate."
            )


def _memory_folder(memory):
    """The cache folder ``memory`` names (a path or a joblib.Memory), or None for no cache."""
    if memory is None:
        return None
    if isinstance(memory, Memory):
        return memory.location
    if isinstance(memory, str | os.PathLike):
        return expand_path("memory", memory)
    raise ParameterError(f"memory must be None, a folder or a joblib.Memory; got {memory!r}.")


def make_audio_features(*steps, **kwargs):
    """An :class:`AudioFeatures` whose steps are named after their classes, as ``make_pipeline``.

    Parameters
    ----------
    *steps : estimators
        An ``AudioLoader``, then stateless transformers.
    **kwargs
        ``n_jobs``, ``batch_size``, ``memory``, ``on_error``, ``verbose``.

    Returns
    -------
    features : AudioFeatures

    Examples
    --------
    >>> from skfma import AudioLoader, MelSpectrogram, make_audio_features
    >>> make_audio_features(AudioLoader(), MelSpectrogram()).named_steps.keys()
    dict_keys(['audioloader', 'melspectrogram'])
    """
    names = [type(step).__name__.lower() for step in steps]
    counts = {name: names.count(name) for name in names}
    seen = dict.fromkeys(names, 0)
    named = []
    for name, step in zip(names, steps, strict=True):
        seen[name] += 1
        named.append((f"{name}-{seen[name]}" if counts[name] > 1 else name, step))
    return AudioFeatures(named, **kwargs)


def guided_batch_sizes(n_clips, n_workers, *, largest=DEFAULT_BATCH_SIZE):
    """Sizes of the batches of ``n_clips`` clips shared by ``n_workers``: shrinking to 1.

    Each batch takes :data:`SHARE_OF_WHAT_IS_LEFT` of the clips still
    unassigned per worker (at most ``largest``, at least 1), as in guided
    self-scheduling: the first batches amortise a task's overhead, the last
    hold a clip each, so that no worker is left with a long batch while the
    others are idle (with equal batches, the last one of a worker could keep
    one core busy alone for up to a batch's time).

    Parameters
    ----------
    n_clips : int
        Clips to compute.
    n_workers : int
        Workers computing them.
    largest : int, default=DEFAULT_BATCH_SIZE
        Most clips in a batch.

    Returns
    -------
    sizes : list of int
        Batch sizes in order, summing to ``n_clips``.

    Examples
    --------
    >>> guided_batch_sizes(40, 2)
    [10, 8, 6, 4, 3, 3, 2, 1, 1, 1, 1]
    """
    sizes = []
    left = n_clips
    while left:
        size = min(largest, left, max(1, math.ceil(SHARE_OF_WHAT_IS_LEFT * left / n_workers)))
        sizes.append(size)
        left -= size
    return sizes


def _settings_hash(steps):
    """A hash of the steps' names, classes and parameters: what their output depends on.

    Functions and classes of the user's code count by their code (and a lambda, which
    cannot be pickled by name, can be hashed).
    """
    return stable_hash([(name, describe(step)) for name, step in steps])


def _worker_steps(steps):
    """The fitted steps as the workers run them: the loader's settings, then the others.

    Steps with ``n_jobs`` run single-process inside a worker (no nested parallelism).
    """
    loader = steps[0][1]
    settings = (loader.sr, loader.n_samples_out, loader.crop, loader.pad_mode)
    others = []
    for name, step in steps[1:]:
        if "n_jobs" in step.get_params(deep=False):
            step.set_params(n_jobs=None)
        others.append((name, step))
    return settings, others


def _run_batch(steps, paths, identities, cache, on_error, rows):
    """Run the steps on a batch of files, one file at a time; store each clip's output.

    One file at a time: a worker holds one decoded clip, not a batch of them,
    and each clip's output is cached as soon as it is computed, so that an
    interruption loses at most the clip in progress.

    Parameters
    ----------
    steps : tuple
        ``(loader settings, fitted later steps)`` from :func:`_worker_steps`.
    paths, identities : sequence
        The batch's files and their :func:`~skfma.pipeline._cache.file_identity`.
    cache : ClipCache or None
    on_error : {"raise", "warn"}
    rows : ReturnedRows or SharedRows
        Where the batch's rows go (:meth:`Output.batch_rows
        <skfma.pipeline._outputs.Output.batch_rows>`).

    Returns
    -------
    values : ndarray, shape (len(paths), ...), or None
        What ``rows.finish()`` gives back for the parent's ``Output.receive``:
        one row per file, zeros in the rows of failed files, or None where
        the rows were written in place.
    failures : list of (int, str, str)
        ``(index in the batch, path, reason)``.
    """
    settings, others = steps
    rows.open()
    failures = []
    for index, (path, identity) in enumerate(zip(paths, identities, strict=True)):
        waveform = load_window(path, *settings)
        if isinstance(waveform, AudioDecodeError):
            if on_error == "raise":
                raise waveform
            failures.append((index, path, waveform.reason))
            rows.write(index, 0)
            continue
        Xt = waveform[None]
        with config_context(transform_output="default"):  # arrays between the steps, always
            for _, step in others:
                Xt = step.transform(Xt)
        row = rows.write(index, np.asarray(Xt)[0])
        if cache is not None and identity is not None:
            cache.store(identity, row)
    values = rows.finish()
    release_free_heap()
    return values, failures


def _fill_from_cache(out, cache, identities):
    """Copy every cached clip into ``out``; return the rows still to compute."""
    if cache is None:
        return list(range(len(identities)))
    todo = []
    for row, identity in enumerate(identities):
        stored = None if identity is None else cache.load(identity, out.shape[1:], out.dtype)
        if stored is None:
            todo.append(row)
        else:
            out[row] = stored
    return todo
