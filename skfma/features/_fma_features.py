"""FMAFeatures: the 518 handcrafted features of the FMA dataset, exact and fast."""

from functools import partial

import numpy as np
import pandas as pd
from joblib import Parallel, delayed, effective_n_jobs
from sklearn.utils.validation import check_is_fitted
from threadpoolctl import threadpool_limits

from .._memory import release_free_heap
from ..base import WaveformTransformer, validate_parameters
from ..exceptions import ParameterError
from ..utils import (
    check_int,
    check_n_jobs,
    check_positive,
    check_sample_rate,
    names_its_errors,
    validate_arguments,
    value_check,
)
from ._fma_dsp import CQT_FEATURES, FEATURE_SIZES, clip_features, cqt_filter_cutoff
from ._pooling import STATISTICS, temporal_statistics

__all__ = ["FMAFeatures", "fma_feature_index", "FMA_FEATURE_GROUPS"]

#: The feature groups, in the order of the released ``features.csv`` (sorted).
FMA_FEATURE_GROUPS = tuple(sorted(FEATURE_SIZES))


def _check_features(features):
    """The selected groups as a sorted tuple; raise ParameterError naming ``features``."""
    if features is None:
        return FMA_FEATURE_GROUPS
    names = [features] if isinstance(features, str) else features
    try:
        names = list(names)
    except TypeError:
        raise ParameterError(
            f"features must be None, a group name or a list of group names; got {features!r}."
        ) from None
    unknown = [name for name in names if name not in FEATURE_SIZES]
    if unknown or not names:
        raise ParameterError(
            f"features must name at least one of {', '.join(FMA_FEATURE_GROUPS)}; got {features!r}."
        )
    return tuple(sorted(set(names)))


@validate_arguments({"features": value_check(_check_features)})
def fma_feature_index(features=None):
    """The columns of the released FMA ``features.csv`` as a pandas MultiIndex.

    Levels ``("feature", "statistics", "number")``, sorted as in the released
    file, for example ``("chroma_cens", "kurtosis", "01")``. Use it to put
    :class:`FMAFeatures` output beside the released features (read with
    ``pd.read_csv("features.csv", index_col=0, header=[0, 1, 2])``).

    Parameters
    ----------
    features : str, list of str or None, default=None
        Feature groups to keep (see :class:`FMAFeatures`); ``None`` keeps all 11.

    Returns
    -------
    index : pandas.MultiIndex of length 7 * (number of rows of the groups)
        518 entries for all groups.

    Examples
    --------
    >>> from skfma.features import fma_feature_index
    >>> index = fma_feature_index()
    >>> len(index), index[0]
    (518, ('chroma_cens', 'kurtosis', '01'))
    >>> len(fma_feature_index(["mfcc", "zcr"]))
    147
    """
    tuples = [
        (name, statistic, f"{number:02d}")
        for name in features
        for statistic in sorted(STATISTICS)
        for number in range(1, FEATURE_SIZES[name] + 1)
    ]
    return pd.MultiIndex.from_tuples(tuples, names=["feature", "statistics", "number"])


def _batch_features(X, sr, groups):
    """Features of a batch of clips, ``(n_clips, n_columns)`` float64, single-threaded."""
    with threadpool_limits(limits=1):
        per_clip = [clip_features(clip, sr, set(groups)) for clip in X]
        # Group by group, statistics in alphabetical order: the released column order.
        pooled = np.concatenate(
            [
                temporal_statistics(
                    np.stack([rows[name] for rows in per_clip]), statistics=sorted(STATISTICS)
                )
                for name in groups
            ],
            axis=1,
        )
    del per_clip
    release_free_heap()
    return pooled


class FMAFeatures(WaveformTransformer):
    """The 518 handcrafted features of the FMA dataset, from waveforms.

    Computes, for every clip, the features of the FMA reference ``features.py``
    (Defferrard et al., ISMIR 2017) with librosa, hop 512 everywhere: zero
    crossing rate; from the magnitude CQT (84 bins, 12 per octave, estimated
    tuning) chroma_cqt, chroma_cens and the tonnetz of chroma_cens; from the
    magnitude STFT (``n_fft=2048``) chroma_stft, rmse, spectral centroid,
    bandwidth, contrast (6 bands) and rolloff, and 20 MFCCs of the log-mel
    spectrogram. Each of the 74 frame-level rows is summarised over time by its
    mean, standard deviation, skewness, kurtosis (Fisher), median, minimum and
    maximum: 518 values per clip, in the column order of the released
    ``features.csv``.

    The numbers are those of the recipe's plain librosa calls (see Notes), but
    each clip's STFT and CQT are computed once and reused, tuning is estimated
    only on the bins that can change it, filterbanks are cached, and the
    statistics are pooled for a whole batch at once: about 3 to 4 times faster
    on one core, and ``n_jobs`` worker processes scale it further.

    Parameters
    ----------
    sr : float, default=44100
        Sampling rate of the input waveforms in Hz: after
        :class:`~skfma.audio.AudioLoader`, the loader's ``sr``. The default is
        the rate of the released ``features.csv``, which the FMA computed at
        each clip's native rate, 44.1 kHz for almost all: features computed
        at another rate differ from it (at 22,050 Hz, on a real fma_small
        clip, by 19% for the median feature and over 100% for a tenth of
        them), so a model trained on the released features only carries
        over to features computed at 44,100 Hz. Chroma and CQT features need
        ``sr`` above about 8.7 kHz.
    features : str, list of str or None, default=None
        Feature groups to compute, any of ``"chroma_cens"``, ``"chroma_cqt"``,
        ``"chroma_stft"``, ``"mfcc"``, ``"rmse"``, ``"spectral_bandwidth"``,
        ``"spectral_centroid"``, ``"spectral_contrast"``, ``"spectral_rolloff"``,
        ``"tonnetz"``, ``"zcr"``; ``None`` computes all 11 (518 columns). The
        output columns always follow the released order, whatever the order
        given. Only what the chosen groups need is computed (no CQT without a
        chroma_cqt, chroma_cens or tonnetz group).
    batch_size : int, default=8
        Clips per task. Each task's frame-level features are pooled together
        and its freed memory returned to the system.
    n_jobs : int or None, default=None
        Number of joblib worker processes; ``-1`` uses every core. Each worker
        computes single-threaded. Runs under any joblib backend
        (``joblib.parallel_config``).
    verbose : int, default=0
        joblib's progress messages.

    Attributes
    ----------
    n_features_in_ : int
        Samples per clip seen in ``fit``.

    See Also
    --------
    fma_feature_index : the released columns as a pandas MultiIndex.
    TemporalStatistics : the same statistics over any spectrogram-like feature.

    Notes
    -----
    The recipe, as librosa 0.11 calls, for a clip ``x`` at ``sr``::

        zcr = zero_crossing_rate(x, frame_length=2048, hop_length=512)
        cqt = abs(cqt(x, sr=sr, hop_length=512, bins_per_octave=12, n_bins=84, tuning=None))
        chroma_cqt(C=cqt, n_chroma=12, n_octaves=7, bins_per_octave=12)
        chroma_cens(C=cqt, n_chroma=12, n_octaves=7, bins_per_octave=12)
        tonnetz(chroma=<the chroma_cens>)
        stft = abs(stft(x, n_fft=2048, hop_length=512))
        chroma_stft(S=stft**2, n_chroma=12); rms(S=stft)
        spectral_centroid(S=stft); spectral_bandwidth(S=stft)
        spectral_contrast(S=stft, n_bands=6); spectral_rolloff(S=stft)
        mfcc(S=power_to_db(melspectrogram(sr=sr, S=stft**2)), n_mfcc=20)

    Three details of the reference are kept on purpose:

    - ``bins_per_octave=12`` in chroma_cqt and chroma_cens: the reference
      relied on librosa < 0.8, where it defaulted to ``n_chroma``; librosa 0.8
      changed the default to 36, which would fold this 12-bin-per-octave CQT
      as if it had 36 bins per octave.
    - chroma_stft and the spectral_* features are called without ``sr`` in the
      reference, so their frequency axis assumes librosa's default 22050 Hz
      whatever the clip's rate (at 44.1 kHz the centroid, bandwidth and rolloff
      are half the true frequencies). The MFCCs and the CQT use ``sr``.
    - The statistics are those of numpy and scipy (population standard
      deviation, biased skewness and Fisher kurtosis), computed in float64.

    Where the reference's skewness or kurtosis is undefined (a constant row,
    such as the zero crossing rate of silence, gives NaN in scipy), the output
    is 0: the output is always finite for finite input.

    Every frame-level feature is computed with the reference's floating-point
    operations, so that its discrete steps (the tuning estimate, chroma_cens'
    quantisation, the rolloff bin) agree exactly; only the spectral centroid
    and bandwidth are computed differently, within float32 round-off.

    Examples
    --------
    >>> import numpy as np
    >>> from skfma import FMAFeatures
    >>> X = np.random.default_rng(0).uniform(-0.5, 0.5, (2, 22050)).astype(np.float32)
    >>> fma = FMAFeatures(sr=22050).fit(X)
    >>> fma.transform(X).shape
    (2, 518)
    >>> fma.get_feature_names_out()[:2].tolist()
    ['chroma_cens_kurtosis_01', 'chroma_cens_kurtosis_02']
    >>> FMAFeatures(sr=22050, features=["mfcc", "zcr"]).fit_transform(X).shape
    (2, 147)
    """

    def __init__(self, *, sr=44100, features=None, batch_size=8, n_jobs=None, verbose=0):
        self.sr = sr
        self.features = features
        self.batch_size = batch_size
        self.n_jobs = n_jobs
        self.verbose = verbose

    @names_its_errors
    def transform(self, X):
        """Compute the features of every clip.

        Parameters
        ----------
        X : array-like of shape (n_clips, n_samples)
            Mono waveforms at ``sr`` Hz, float32 (as :class:`~skfma.audio.AudioLoader`
            gives them) or float64; other dtypes are converted to float32.

        Returns
        -------
        features : ndarray of float64, shape (n_clips, n_columns)
            518 columns for all groups, named by ``get_feature_names_out``; always
            finite.
        """
        X = self._validate_waveforms(X)
        groups = _check_features(self.features)
        first = []
        if effective_n_jobs(self.n_jobs) > 1 and len(X) > 1:
            # The first clip here, before the workers start: librosa's numba functions
            # compile (and fill numba's cache) once, where two workers compiling them at
            # once crashed with a segmentation fault on a fresh install.
            first, X = [_batch_features(X[:1], self.sr, groups)], X[1:]
        starts = range(0, X.shape[0], self.batch_size)
        batches = Parallel(n_jobs=self.n_jobs, verbose=self.verbose)(
            delayed(_batch_features)(X[start : start + self.batch_size], self.sr, groups)
            for start in starts
        )
        return np.concatenate(first + batches)

    def get_feature_names_out(self, input_features=None):
        """Output column names, ``"{feature}_{statistics}_{number}"``.

        For example ``"chroma_cens_kurtosis_01"``, the flattened columns of
        :func:`fma_feature_index`.

        Parameters
        ----------
        input_features : array-like of str or None, default=None
            Ignored except for its length, which must be ``n_features_in_``
            (the output names do not depend on the input's).

        Returns
        -------
        feature_names_out : ndarray of str, shape (n_columns,)
        """
        check_is_fitted(self, "n_features_in_")
        if input_features is not None and len(input_features) != self.n_features_in_:
            raise ValueError(
                f"input_features has {len(input_features)} names but X has "
                f"{self.n_features_in_} samples per clip."
            )
        index = fma_feature_index(self.features)
        return np.asarray(["_".join(column) for column in index], dtype=object)

    _parameter_checks = {
        "features": value_check(_check_features),
        "sr": check_sample_rate,
        "batch_size": partial(check_positive, integer=True),
        "n_jobs": value_check(check_n_jobs),
        "verbose": partial(check_int, minimum=0),
    }

    def _check_params(self):
        """Validate the parameters, then the sample rate against the CQT's filters."""
        validate_parameters(self)
        if CQT_FEATURES.intersection(_check_features(self.features)):
            # The tuning estimate can raise every CQT filter by up to half a bin.
            cutoff = cqt_filter_cutoff(float(self.sr), 0.5)
            if cutoff > self.sr / 2:
                raise ParameterError(
                    f"sr={self.sr} is too low for the CQT of chroma_cqt, chroma_cens and "
                    f"tonnetz: its filters reach {cutoff:.0f} Hz, above sr / 2."
                )
