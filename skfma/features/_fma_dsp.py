"""The maths of FMAFeatures: the FMA reference recipe, computed once per clip and fast.

Every function reproduces one librosa 0.11 call of the FMA reference ``features.py``
with the same floating-point operations, so that the results are bit for bit the
same (with single-threaded BLAS, as the workers run; a multi-threaded matrix
product may round differently) and the discrete decisions (the tuning estimate,
chroma_cens' quantisation, spectral_rolloff's bin) agree. The one exception is
spectral centroid and bandwidth, weighed in float64 instead of librosa's float32
(a few 1e-9 relative). Less work is done:

- the clip's STFT is computed once and serves the CQT's tuning estimate too
  (``librosa.cqt(tuning=None)`` computes the very same STFT again);
- tuning estimation (``piptrack``) looks only at the bins it keeps
  (150 Hz to 4 kHz) and interpolates only at the peaks it finds;
- the CQT filter bases, the chroma and mel filterbanks are cached per sampling
  rate and tuning (tuning is quantised to 0.01 bin, so there are few);
- the chroma features share one CQT-to-chroma fold, spectral centroid and
  bandwidth share one normalisation, spectral contrast sorts only the bands
  that need it, and the zero-crossing rate counts crossings once for all frames.
"""

import functools
import math

import librosa
import numpy as np
import scipy.ndimage

__all__ = ["clip_features", "cqt_filter_cutoff", "FEATURE_SIZES", "CQT_FEATURES", "STFT_FEATURES"]

#: Rows of every feature group of the FMA reference, by name.
FEATURE_SIZES = {
    "chroma_stft": 12,
    "chroma_cqt": 12,
    "chroma_cens": 12,
    "tonnetz": 6,
    "mfcc": 20,
    "rmse": 1,
    "zcr": 1,
    "spectral_centroid": 1,
    "spectral_bandwidth": 1,
    "spectral_contrast": 7,
    "spectral_rolloff": 1,
}
#: Groups that need the CQT, and the STFT (the CQT's tuning estimate needs it too).
CQT_FEATURES = frozenset({"chroma_cqt", "chroma_cens", "tonnetz"})
STFT_FEATURES = frozenset(FEATURE_SIZES) - {"zcr"}

N_FFT = 2048
HOP_LENGTH = 512
N_CHROMA = 12
CQT_BINS = 84
BINS_PER_OCTAVE = 12
#: The reference calls chroma_stft and the spectral_* features without ``sr``,
#: so librosa's default rate sets their frequency axis, whatever the clip's rate.
DEFAULT_SR = 22050


def clip_features(y, sr, groups):
    """The reference's frame-level features of one clip.

    Parameters
    ----------
    y : ndarray of float32 or float64, shape (n_samples,)
        Mono waveform.
    sr : float
        Its sampling rate in Hz.
    groups : collection of str
        Which feature groups (keys of ``FEATURE_SIZES``).

    Returns
    -------
    features : dict of str to ndarray, shape (FEATURE_SIZES[name], 1 + n_samples // 512)
    """
    out = {}
    if "zcr" in groups:
        out["zcr"] = zero_crossing_rate(y)
    if not groups & STFT_FEATURES:
        return out
    stft = np.abs(short_time_fourier(y, n_fft=N_FFT, hop_length=HOP_LENGTH))
    if groups & CQT_FEATURES:
        tuning = estimate_tuning(stft, sr=sr)
        cqt = np.abs(constant_q(y, sr, tuning))
        out.update(_cqt_features(cqt, groups))
    if groups & {"chroma_stft", "mfcc"}:
        power = stft**2
        if "chroma_stft" in groups:
            out["chroma_stft"] = chroma_stft(power)
        if "mfcc" in groups:
            out["mfcc"] = mfcc(power, sr)
        del power
    if "rmse" in groups:
        out["rmse"] = librosa.feature.rms(S=stft)
    if groups & {"spectral_centroid", "spectral_bandwidth"}:
        centroid, bandwidth = spectral_centroid_bandwidth(stft)
        out["spectral_centroid"] = centroid
        out["spectral_bandwidth"] = bandwidth
    if "spectral_contrast" in groups:
        out["spectral_contrast"] = spectral_contrast(stft)
    if "spectral_rolloff" in groups:
        out["spectral_rolloff"] = spectral_rolloff(stft)
    return out


@functools.lru_cache(maxsize=16)
def _window(name, n_fft):
    return librosa.filters.get_window(name, n_fft, fftbins=True)


def short_time_fourier(y, *, n_fft, hop_length, window="hann", block=256):
    """``librosa.stft(y, n_fft=n_fft, hop_length=hop_length, window=window)``, bit for bit.

    The same arithmetic (frames of the zero-padded signal times the float64
    window, a float64 real FFT, rounded to complex64 for float32 input), on
    contiguous blocks of frames.

    Returns
    -------
    D : ndarray of complex, shape (1 + n_fft // 2, 1 + n_samples // hop_length)
        Fortran-ordered, as librosa's.
    """
    padded = np.pad(y, n_fft // 2)
    frames = np.lib.stride_tricks.sliding_window_view(padded, n_fft)[::hop_length]
    weights = _window(window, n_fft)
    out = np.empty((len(frames), 1 + n_fft // 2), dtype=librosa.util.dtype_r2c(y.dtype))
    fft = librosa.get_fftlib()
    for start in range(0, len(frames), block):
        out[start : start + block] = fft.rfft(weights * frames[start : start + block], axis=-1)
    return out.T


def zero_crossing_rate(y):
    """``librosa.feature.zero_crossing_rate(y, frame_length=2048, hop_length=512)``.

    Counts the sign changes of the edge-padded signal once, then sums them per
    frame with a cumulative sum (exact integer counts).
    """
    half = N_FFT // 2
    padded = np.pad(y, half, mode="edge")
    # librosa treats |y| <= 1e-10 as zero (non-negative); the threshold is float64.
    negative = np.less(padded, np.float64(-1e-10))
    crossings = np.concatenate([[0], np.cumsum(negative[1:] != negative[:-1])])
    starts = np.arange(1 + (len(padded) - N_FFT) // HOP_LENGTH) * HOP_LENGTH
    # A frame's crossings are between its samples 0-1, ..., 2046-2047.
    counts = crossings[starts + N_FFT - 1] - crossings[starts]
    return (counts / N_FFT)[None, :]


def estimate_tuning(S, *, sr, n_fft=N_FFT):
    """``librosa.estimate_tuning(S=S, sr=sr, bins_per_octave=12)``, restricted to where it looks.

    ``piptrack`` keeps peaks between 150 Hz and 4 kHz only, so the local-maximum
    search runs on those bins (plus one neighbour each side) and the parabolic
    interpolation only at the peaks; the arithmetic reproduces librosa's (its
    numba stencil promotes to float64) so that the estimate is identical.

    Parameters
    ----------
    S : ndarray, shape (1 + n_fft // 2, n_frames)
        Magnitude (or power) spectrogram.
    sr : float
        Sampling rate assumed for its frequency axis.

    Returns
    -------
    tuning : float
        In fractions of a bin, a multiple of 0.01 in [-0.5, 0.5).
    """
    freqs = librosa.fft_frequencies(sr=sr, n_fft=n_fft)
    keep = np.flatnonzero((150.0 <= freqs) & (freqs < min(4000.0, sr / 2)))
    lo, hi = keep[0], keep[-1] + 1
    ref = 0.1 * np.max(S, axis=-2)
    window = S[lo - 1 : hi + 1]
    gated = window * (window > ref)
    peaks = (gated[1:-1] > gated[:-2]) & (gated[1:-1] >= gated[2:])
    rows, cols = np.nonzero(peaks)
    if rows.size == 0:
        return 0.0
    below, centre, above = window[rows, cols], window[rows + 1, cols], window[rows + 2, cols]
    a = (above + below).astype(np.float64) - 2 * centre.astype(np.float64)
    b = (above - below).astype(np.float64) / 2
    shift = np.zeros_like(a)
    interpolate = np.abs(b) < np.abs(a)
    shift[interpolate] = -b[interpolate] / a[interpolate]
    shift = shift.astype(S.dtype)
    avg = (above - below) / 2.0
    mags = centre + 0.5 * avg * shift
    pitches = ((rows + lo + shift) * float(sr) / n_fft).astype(S.dtype)
    positive = pitches > 0
    threshold = np.median(mags[positive]) if positive.any() else 0.0
    selected = pitches[(mags >= threshold) & positive]
    if selected.size == 0:
        return 0.0
    return float(librosa.pitch_tuning(selected, resolution=0.01, bins_per_octave=N_CHROMA))


def _relative_bandwidth(freqs):
    """librosa's per-bin relative bandwidth (``filters._relative_bandwidth``)."""
    bpo = np.empty_like(freqs)
    logf = np.log2(freqs)
    bpo[0] = 1 / (logf[1] - logf[0])
    bpo[-1] = 1 / (logf[-1] - logf[-2])
    bpo[1:-1] = 2 / (logf[2:] - logf[:-2])
    return (2.0 ** (2 / bpo) - 1) / (2.0 ** (2 / bpo) + 1)


def _cqt_filters(sr, tuning):
    """Centre frequencies (Hz), relative bandwidths and highest reach (Hz) of the CQT filters."""
    fmin = librosa.note_to_hz("C1") * 2.0 ** (tuning / BINS_PER_OCTAVE)
    freqs = librosa.interval_frequencies(
        n_bins=CQT_BINS, fmin=fmin, intervals="equal", bins_per_octave=BINS_PER_OCTAVE
    )
    alpha = _relative_bandwidth(freqs)
    cutoff = librosa.filters.wavelet_lengths(freqs=freqs, sr=sr, gamma=0, alpha=alpha)[1]
    return freqs, alpha, cutoff


def cqt_filter_cutoff(sr, tuning):
    """Highest frequency the CQT filters reach (must stay below ``sr / 2``)."""
    return _cqt_filters(sr, tuning)[2]


@functools.lru_cache(maxsize=512)
def _cqt_plan(sr, tuning, dtype):
    """Everything of ``librosa.cqt`` that depends only on ``sr`` and ``tuning``.

    Returns the early-downsampling count, one ``(fft_basis, n_fft)`` per octave
    (top octave first) and the length normalisation of the output rows.
    """
    freqs, alpha, cutoff = _cqt_filters(sr, tuning)
    n_octaves = math.ceil(CQT_BINS / BINS_PER_OCTAVE)
    two_factors = (HOP_LENGTH & -HOP_LENGTH).bit_length() - 1
    early = min(
        max(0, int(np.ceil(np.log2(sr / 2.0 / cutoff)) - 1) - 1),
        max(0, two_factors - n_octaves + 1),
    )
    sr_early = sr / float(2**early)
    octaves = []
    my_sr, my_hop = sr_early, HOP_LENGTH // 2**early
    for i in range(n_octaves):
        sl = slice(-BINS_PER_OCTAVE * (i + 1), -BINS_PER_OCTAVE * i if i else None)
        basis, basis_lengths = librosa.filters.wavelet(
            freqs=freqs[sl],
            sr=my_sr,
            filter_scale=1,
            norm=1,
            pad_fft=True,
            gamma=0,
            alpha=alpha[sl],
        )
        n_fft = basis.shape[1]
        basis *= basis_lengths[:, None] / float(n_fft)
        fft_basis = librosa.get_fftlib().fft(basis, n=n_fft, axis=1)[:, : n_fft // 2 + 1]
        fft_basis = librosa.util.sparsify_rows(fft_basis, quantile=0.01, dtype=dtype)
        fft_basis[:] *= np.sqrt(sr_early / my_sr)
        octaves.append((fft_basis, n_fft, my_hop))
        # Each octave down halves the rate; hop 512 = 2**9 stays even through all 7
        # octaves even after 3 early halvings, so librosa always halves too.
        my_hop //= 2
        my_sr /= 2.0
    scale_lengths = librosa.filters.wavelet_lengths(freqs=freqs, sr=sr_early, gamma=0, alpha=alpha)[
        0
    ]
    return early, tuple(octaves), np.sqrt(scale_lengths)[:, None]


def constant_q(y, sr, tuning):
    """``librosa.cqt(y, sr=sr, hop_length=512, n_bins=84, bins_per_octave=12, tuning=tuning)``.

    The same operations as librosa's recursive down-sampling CQT, with the
    filter bases taken from a cache.

    Returns
    -------
    C : ndarray of complex, shape (84, 1 + n_samples // 512)
    """
    dtype = librosa.util.dtype_r2c(y.dtype)
    early, octaves, norms = _cqt_plan(float(sr), float(tuning), np.dtype(dtype))
    if early:
        y = librosa.resample(y, orig_sr=2**early, target_sr=1, res_type="soxr_hq", scale=True)
    responses = []
    for index, (fft_basis, n_fft, hop) in enumerate(octaves):
        if index:
            y = librosa.resample(y, orig_sr=2, target_sr=1, res_type="soxr_hq", scale=True)
        spectrum = short_time_fourier(y, n_fft=n_fft, hop_length=hop, window="ones")
        responses.append(fft_basis.dot(spectrum))
    n_frames = min(r.shape[-1] for r in responses)
    C = np.empty((CQT_BINS, n_frames), dtype=dtype, order="F")
    for index, response in enumerate(responses):
        C[CQT_BINS - BINS_PER_OCTAVE * (index + 1) : CQT_BINS - BINS_PER_OCTAVE * index] = response[
            :, :n_frames
        ]
    C /= norms
    return C


@functools.lru_cache(maxsize=1)
def _cq_to_chroma():
    # 12 CQT bins per octave, as in librosa < 0.8 where the FMA features were made
    # (librosa >= 0.8 defaults chroma_cqt to bins_per_octave=36, which would fold
    # this 12-bin-per-octave CQT as if it had 36).
    return librosa.filters.cq_to_chroma(
        CQT_BINS, bins_per_octave=BINS_PER_OCTAVE, n_chroma=N_CHROMA
    )


def _cqt_features(cqt, groups):
    """chroma_cqt, chroma_cens and tonnetz from one CQT magnitude, as librosa computes them."""
    out = {}
    raw = np.einsum("cf,...ft->...ct", _cq_to_chroma(), cqt, optimize=True)
    raw[raw < 0.0] = 0.0
    if "chroma_cqt" in groups:
        out["chroma_cqt"] = librosa.util.normalize(raw, norm=np.inf, axis=-2)
    if groups & {"chroma_cens", "tonnetz"}:
        chroma = librosa.util.normalize(raw, norm=1, axis=-2)
        quantised = np.zeros_like(chroma)
        for step in (0.4, 0.2, 0.1, 0.05):
            quantised += (chroma > step) * 0.25
        window = librosa.filters.get_window("hann", 41 + 2, fftbins=False)
        window /= np.sum(window)
        smooth = scipy.ndimage.convolve(quantised, window[None, :], mode="constant")
        cens = librosa.util.normalize(smooth, norm=2, axis=-2)
        if "chroma_cens" in groups:
            out["chroma_cens"] = cens
        if "tonnetz" in groups:
            out["tonnetz"] = librosa.feature.tonnetz(chroma=cens)
    return out


@functools.lru_cache(maxsize=512)
def _chroma_filterbank(tuning):
    return librosa.filters.chroma(sr=DEFAULT_SR, n_fft=N_FFT, tuning=tuning, n_chroma=N_CHROMA)


def chroma_stft(power):
    """``librosa.feature.chroma_stft(S=power, n_chroma=12)`` (librosa's default ``sr``)."""
    tuning = estimate_tuning(power, sr=DEFAULT_SR)
    raw = np.einsum("cf,...ft->...ct", _chroma_filterbank(tuning), power, optimize=True)
    return librosa.util.normalize(raw, norm=np.inf, axis=-2)


@functools.lru_cache(maxsize=16)
def _mel_filterbank(sr):
    return librosa.filters.mel(sr=sr, n_fft=N_FFT)


def mfcc(power, sr):
    """``librosa.feature.mfcc(S=power_to_db(melspectrogram(sr=sr, S=power)), n_mfcc=20)``."""
    mel = np.einsum("...ft,mf->...mt", power, _mel_filterbank(float(sr)), optimize=True)
    log_mel = librosa.power_to_db(mel)
    return librosa.get_fftlib().dct(log_mel, axis=-2, type=2, norm="ortho")[:20]


def spectral_centroid_bandwidth(S):
    """``spectral_centroid(S=S)`` and ``spectral_bandwidth(S=S)`` (librosa's default ``sr``).

    Both weigh the frequencies by the L1-normalised spectrum; the bandwidth is
    the weighted standard deviation around the centroid, computed here from the
    first two weighted moments in float64.
    """
    freqs = librosa.fft_frequencies(sr=DEFAULT_SR, n_fft=N_FFT)
    total = np.sum(S, axis=0, dtype=np.float64)
    total[total < np.finfo(S.dtype).tiny] = 1.0
    moments = np.stack([freqs, freqs**2]) @ S.astype(np.float64)
    centroid = moments[0] / total
    variance = moments[1] / total - centroid**2
    bandwidth = np.sqrt(np.maximum(variance, 0.0))
    return centroid[None, :], bandwidth[None, :]


def spectral_contrast(S, *, n_bands=6, fmin=200.0, quantile=0.02):
    """``librosa.feature.spectral_contrast(S=S, n_bands=6)`` (librosa's default ``sr``).

    Each band's valley and peak are the means of its lowest and highest
    ``quantile`` fraction of bins: one bin (the minimum and maximum) in the low
    bands (no sort needed), a handful in the high ones, summed in librosa's
    order so that the result is identical.
    """
    freqs = librosa.fft_frequencies(sr=DEFAULT_SR, n_fft=N_FFT)
    octa = np.zeros(n_bands + 2)
    octa[1:] = fmin * (2.0 ** np.arange(0, n_bands + 1))
    frames = _frames_major(S)
    valley = np.zeros((n_bands + 1, S.shape[1]))
    peak = np.zeros_like(valley)
    for k, (f_low, f_high) in enumerate(zip(octa[:-1], octa[1:], strict=True)):
        band = np.logical_and(freqs >= f_low, freqs <= f_high)
        idx = np.flatnonzero(band)
        if k > 0:
            band[idx[0] - 1] = True
        if k == n_bands:
            band[idx[-1] + 1 :] = True
        columns = np.flatnonzero(band)
        if k < n_bands:
            columns = columns[:-1]
        count = max(int(np.rint(quantile * np.sum(band))), 1)
        sub = frames[:, columns[0] : columns[-1] + 1]
        if count == 1:
            valley[k] = sub.min(axis=1)
            peak[k] = sub.max(axis=1)
            continue
        ordered = np.sort(sub, axis=1)
        valley[k] = _sequential_mean(ordered[:, :count])
        peak[k] = _sequential_mean(ordered[:, -count:])
    return librosa.power_to_db(peak) - librosa.power_to_db(valley)


def _frames_major(S):
    """``S.T`` as a C-contiguous ``(n_frames, n_bins)`` array (a view for librosa's STFT)."""
    return np.ascontiguousarray(S.T)


def _sequential_mean(values):
    """Row means summed left to right in the input dtype, as numpy reduces a middle axis."""
    total = values[:, 0].copy()
    for j in range(1, values.shape[1]):
        total += values[:, j]
    return total / values.shape[1]


def spectral_rolloff(S, *, roll_percent=0.85):
    """``librosa.feature.spectral_rolloff(S=S)`` (librosa's default ``sr``): the first bin
    whose cumulative energy reaches 85 % of the frame's total."""
    freqs = librosa.fft_frequencies(sr=DEFAULT_SR, n_fft=N_FFT)
    total = np.cumsum(_frames_major(S), axis=1)
    reached = total >= roll_percent * total[:, -1:]
    return freqs[np.argmax(reached, axis=1)][None, :]
