"""MusicnnFeatures and predict_musicnn_tags: the pretrained musicnn models, offline, in torch."""

import functools
import math
import warnings
from importlib import resources

import numpy as np
import torch
import torch.nn.functional as F

from ..audio import resample
from ..base import WaveformTransformer, validate_parameters
from ..exceptions import ParameterError
from ..functional import mel_filterbank, mel_power
from ..nn import MusicnnModule, MusicnnVGGModule
from ..utils import (
    check_array_like,
    check_choice,
    check_positive,
    check_sample_rate,
    names_its_errors,
    validate_arguments,
    value_check,
)
from ..utils._device import check_device, indexed_device

__all__ = ["MUSICNN_LAYERS", "MUSICNN_TAGS", "MusicnnFeatures", "predict_musicnn_tags"]

#: musicnn's front end: 16 kHz, 512-sample FFT, hop 256, 96 mel bands, 187-frame (3 s) windows.
SR = 16000
N_FFT = 512
HOP_LENGTH = 256
N_MELS = 96
WINDOW_FRAMES = 187
#: Samples that give exactly one window of centred frames: 1 + n // HOP_LENGTH == WINDOW_FRAMES.
WINDOW_SAMPLES = (WINDOW_FRAMES - 1) * HOP_LENGTH
#: The largest finite float16: musicnn rounds the mel power to float16.
FLOAT16_MAX = 65504.0

_MTT_TAGS = (
    "guitar", "classical", "slow", "techno", "strings", "drums", "electronic", "rock", "fast",
    "piano", "ambient", "beat", "violin", "vocal", "synth", "female", "indian", "opera", "male",
    "singing", "vocals", "no vocals", "harpsichord", "loud", "quiet", "flute", "woman",
    "male vocal", "no vocal", "pop", "soft", "sitar", "solo", "man", "classic", "choir", "voice",
    "new age", "dance", "male voice", "female vocal", "beats", "harp", "cello", "no voice",
    "weird", "country", "metal", "female voice", "choral",
)  # fmt: skip
_MSD_TAGS = (
    "rock", "pop", "alternative", "indie", "electronic", "female vocalists", "dance", "00s",
    "alternative rock", "jazz", "beautiful", "metal", "chillout", "male vocalists",
    "classic rock", "soul", "indie rock", "Mellow", "electronica", "80s", "folk", "90s", "chill",
    "instrumental", "punk", "oldies", "blues", "hard rock", "ambient", "acoustic",
    "experimental", "female vocalist", "guitar", "Hip-Hop", "70s", "party", "country",
    "easy listening", "sexy", "catchy", "funk", "electro", "heavy metal", "Progressive rock",
    "60s", "rnb", "indie pop", "sad", "House", "happy",
)  # fmt: skip

#: The 50 tags of each model, in the order of its outputs (musicnn's ``configuration.py``).
MUSICNN_TAGS = {
    "MTT_musicnn": _MTT_TAGS,
    "MSD_musicnn": _MSD_TAGS,
    "MTT_vgg": _MTT_TAGS,
    "MSD_vgg": _MSD_TAGS,
}

#: The layers of each model -> their width (columns per pooling statistic).
MUSICNN_LAYERS = {
    "MTT_musicnn": {"taggram": 50, "penultimate": 200, "mean_pool": 753, "max_pool": 753},
    "MSD_musicnn": {"taggram": 50, "penultimate": 200, "mean_pool": 753, "max_pool": 753},
    "MTT_vgg": {"taggram": 50, "pool5": 256},
    "MSD_vgg": {"taggram": 50, "pool5": 256},
}

#: The statistics of each ``pooling`` over a clip's windows.
POOLINGS = {"mean": ("mean",), "max": ("max",), "mean+std": ("mean", "std")}


def _architecture(model):
    """``MusicnnModule`` or ``MusicnnVGGModule``: the class of a model name."""
    return MusicnnVGGModule if model.endswith("_vgg") else MusicnnModule


def _tf1_names(model):
    """``(torch prefix, TF1 variable scope, kind)`` of every layer of ``model``."""
    names = [("input_bn", "batch_normalization", "bn")]
    if model.endswith("_vgg"):
        for i in range(5):
            names += [(f"blocks.{i}.conv", f"{i + 1}CNN", "conv")]
            names += [(f"blocks.{i}.bn", f"batch_normalization_{i + 1}", "bn")]
        return names + [("output", "dense", "dense")]
    prefixes = ["timbral.0", "timbral.1", "temporal.0", "temporal.1", "temporal.2"]
    prefixes += ["midend.0", "midend.1", "midend.2"]
    for i, prefix in enumerate(prefixes):
        names += [(f"{prefix}.conv", f"conv2d_{i}" if i else "conv2d", "conv")]
        names += [(f"{prefix}.bn", f"batch_normalization_{i + 1}", "bn")]
    return names + [
        ("pool_bn", "batch_normalization_9", "bn"),
        ("dense", "dense", "dense"),
        ("dense_bn", "batch_normalization_10", "bn"),
        ("output", "dense_1", "dense"),
    ]


def state_dict_from_tf1(arrays, model):
    """Map the variables of a musicnn TF1 checkpoint onto the torch module's state dict.

    TF convolution kernels are ``(height, width, in, out)`` (height: time,
    width: frequency) and become torch's ``(out, in, height, width)``; the
    mid-end convolutions, whose kernels span the whole feature axis, become
    1-D ``(out, in, time)``; dense kernels ``(in, out)`` are transposed;
    batch normalisation's ``gamma``, ``beta``, ``moving_mean`` and
    ``moving_variance`` become ``weight``, ``bias``, ``running_mean`` and
    ``running_var``. The optimizer's slots (``.../Adam``) are not used.

    Parameters
    ----------
    arrays : dict of str to ndarray
        The checkpoint's variables, as :func:`read_tf1_checkpoint` gives them.
    model : {"MTT_musicnn", "MSD_musicnn", "MTT_vgg", "MSD_vgg"}

    Returns
    -------
    state : dict of str to ndarray of float32
        Every parameter and buffer of the module except ``num_batches_tracked``.
    """
    state = {}
    for prefix, scope, kind in _tf1_names(model):
        if kind == "bn":
            for tf_name, torch_name in (
                ("gamma", "weight"),
                ("beta", "bias"),
                ("moving_mean", "running_mean"),
                ("moving_variance", "running_var"),
            ):
                state[f"{prefix}.{torch_name}"] = arrays[f"{scope}/{tf_name}"]
            continue
        kernel = arrays[f"{scope}/kernel"]
        if kind == "dense":
            kernel = kernel.T
        elif prefix.startswith("midend"):
            kernel = kernel[:, :, 0, :].transpose(2, 1, 0)
        else:
            kernel = kernel.transpose(3, 2, 0, 1)
        state[f"{prefix}.weight"] = kernel
        state[f"{prefix}.bias"] = arrays[f"{scope}/bias"]
    return {name: np.ascontiguousarray(value, dtype=np.float32) for name, value in state.items()}


def tf1_variable_names(model):
    """The checkpoint variables :func:`state_dict_from_tf1` reads for ``model``."""
    names = []
    for _, scope, kind in _tf1_names(model):
        fields = ("gamma", "beta", "moving_mean", "moving_variance") if kind == "bn" else None
        names += [f"{scope}/{field}" for field in fields or ("kernel", "bias")]
    return names


@functools.cache
def _pretrained_network(model, device):
    """The frozen network of ``model`` with its shipped weights, in eval mode on ``device``."""
    network = _architecture(model)()
    path = resources.files(__package__) / "musicnn_weights" / f"{model}.npz"
    with resources.as_file(path) as file, np.load(file, allow_pickle=False) as weights:
        arrays = {name: torch.from_numpy(weights[name]) for name in weights.files}
    state = network.state_dict()
    expected = {name for name in state if not name.endswith("num_batches_tracked")}
    if set(arrays) != expected:
        raise ValueError(f"{path}: its arrays do not match {type(network).__name__}'s parameters")
    network.load_state_dict({**state, **arrays})
    return network.requires_grad_(False).eval().to(device)


@functools.cache
def _front_end_buffers(device):
    """The Hann window and the 96-band Slaney mel filterbank (sparse CSR on a CPU)."""
    window = torch.hann_window(N_FFT, device=device)
    filterbank = mel_filterbank(sr=SR, n_fft=N_FFT, n_mels=N_MELS).to(device)
    if device.type == "cpu":
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", "Sparse CSR tensor support is in beta", UserWarning)
            filterbank = filterbank.to_sparse_csr()
    return window, filterbank


def log_mel_windows(waveforms):
    """musicnn's input: log-compressed mel patches of 187 frames, cut without overlap.

    ``librosa.feature.melspectrogram(sr=16000, n_fft=512, hop_length=256,
    n_mels=96, pad_mode="reflect")`` (Slaney mel, power 2), rounded to float16
    as musicnn does (saturating at 65504 rather than overflowing), then
    ``log10(10000 * x + 1)`` in float32, cut into the clip's
    ``(1 + n_samples // 256) // 187`` whole windows (the frames after the last
    whole window are dropped, as in musicnn).

    Parameters
    ----------
    waveforms : Tensor of float32, shape (n_clips, n_samples)
        16 kHz waveforms of at least 47,616 samples (one window).

    Returns
    -------
    patches : Tensor of float32, shape (n_clips, n_windows, 96, 187)
    """
    window, filterbank = _front_end_buffers(waveforms.device)
    padded = F.pad(waveforms[:, None], (N_FFT // 2, N_FFT // 2), mode="reflect")[:, 0]
    # Frames of the padded signal, whose first and last are centred in the padding.
    mel = mel_power(
        padded, n_fft=N_FFT, hop_length=HOP_LENGTH, window=window, filterbank=filterbank
    )[:, :, 1:-1]
    n_windows = mel.shape[2] // WINDOW_FRAMES
    mel = mel[:, :, : n_windows * WINDOW_FRAMES]
    mel = mel.clamp(max=FLOAT16_MAX).to(torch.float16).to(torch.float32)
    log_mel = torch.log10(mel.mul_(10000.0).add_(1.0))
    n_clips = waveforms.shape[0]
    return log_mel.view(n_clips, N_MELS, n_windows, WINDOW_FRAMES).transpose(1, 2)


def _check_layer_names(layers):
    """MusicnnFeatures' ``layer``: a name, or a non-empty list of distinct names."""
    if isinstance(layers, str):
        return
    if not isinstance(layers, (list, tuple)) or not layers:
        raise ParameterError(
            f"layer must be a layer name or a non-empty list of them; got {layers!r}."
        )
    if not all(isinstance(layer, str) for layer in layers):
        bad = next(layer for layer in layers if not isinstance(layer, str))
        raise ParameterError(f"layer names must be strings; got {bad!r}.")
    if len(set(layers)) != len(layers):
        raise ParameterError(f"layer names a layer twice: {list(layers)!r}.")


class MusicnnFeatures(WaveformTransformer):
    """Embeddings and tag probabilities of the pretrained musicnn models, from waveforms.

    The four models of the ``musicnn`` package (Pons and Serra, 2019),
    trained for 50-tag music auto-tagging and converted to torch: their
    weights ship with skfma, so nothing is downloaded. Each clip goes through
    musicnn's own front end (a 96-band log-mel of 16 kHz audio, see
    :func:`log_mel_windows`), is cut into non-overlapping 3 s windows (187
    frames), and each window goes through the network; the chosen layer's
    activations are pooled over the clip's windows.

    ===============  ==========================  =========================  ============
    model            trained on                  published ROC-AUC, PR-AUC  layers
    ===============  ==========================  =========================  ============
    ``MTT_musicnn``  MagnaTagATune (19k clips)   0.9067, 0.3831             ``taggram``,
    ``MSD_musicnn``  Million Song Dataset (200k  0.8802, 0.2891             ``penultimate``,
                     clips, last.fm tags)                                   ``mean_pool``,
                                                                            ``max_pool``
    ``MTT_vgg``      MagnaTagATune               0.9030, 0.3823             ``taggram``,
    ``MSD_vgg``      Million Song Dataset        0.8768, 0.2819             ``pool5``
    ===============  ==========================  =========================  ============

    Layer widths: ``taggram`` 50 (the tag probabilities, named in
    :data:`MUSICNN_TAGS`), ``penultimate`` 200, ``mean_pool`` and ``max_pool``
    753 (the front- and mid-end features averaged or maximised over a window's
    frames), ``pool5`` 256; ``pooling="mean+std"`` doubles them.

    Parameters
    ----------
    model : {"MSD_musicnn", "MTT_musicnn", "MSD_vgg", "MTT_vgg"}, default="MSD_musicnn"
        The pretrained network.
    layer : str or list of str, default="penultimate"
        The layer whose activations are returned, one of ``model``'s layers
        in the table above (:data:`MUSICNN_LAYERS`), or several of them
        (e.g. ``["penultimate", "mean_pool"]``), computed in one pass through
        the network and concatenated in the order given, each pooled as
        ``pooling`` says. To search ``model`` and ``layer`` together, give
        ``GridSearchCV`` a list of grids, one for the musicnn models and one
        for the vgg ones.
    pooling : {"mean", "max", "mean+std"}, default="mean"
        How a clip's windows are pooled: mean, maximum, or the mean followed
        by the (population) standard deviation.
    sr : float, default=16000
        Sampling rate of the input in Hz. The models work at 16 kHz; other
        rates are resampled to 16 kHz with soxr (high quality), e.g. to share
        one :class:`~skfma.audio.AudioLoader` with other features in a
        ``FeatureUnion``. Loading at 16 kHz (``AudioLoader(sr=16000)``) saves
        that work. The reference resampled with librosa's ``kaiser_best``;
        another resampler moves the tag probabilities slightly (up to about
        0.08 on real music).
    batch_size : int or None, default=None
        Windows (3 s each) per forward pass, taken across clips. ``None``
        picks 10 (one 30 s clip) on a CPU and 256 on a GPU. On a CPU the
        front end works through a pass window by window in cache-sized
        blocks, so a pass of 10 windows is about 5-10% faster than passes
        of one (``benchmarks/bench_musicnn.py --batch-size``).
    device : str or torch.device, default="cpu"
        Where the network runs, e.g. ``"cuda"``. The output is a NumPy array.
    precision : {"float32", "bfloat16"}, default="float32"
        Arithmetic of the network's convolutions: bfloat16 operands (8
        significant bits, so each is rounded by up to 2**-9 of its value)
        with float32 sums, about twice as fast on a CPU with AVX-512 BF16 or
        AMX; the dense layers, batch norms and poolings stay float32. On the
        reference clips the top 5 tags are unchanged, the taggram moves by
        at most 0.03 and an embedding by at most 5% of its norm (see Notes).
        Where the CPU lacks bfloat16 instructions it is emulated and slower.

    Attributes
    ----------
    n_features_in_ : int
        Samples per clip seen in ``fit``.

    See Also
    --------
    predict_musicnn_tags : each clip's top tags.
    skfma.nn.MusicnnModule, skfma.nn.MusicnnVGGModule : the networks.
    PretrainedCNNFeatures : ImageNet CNN features of spectrograms.

    Notes
    -----
    The transformer is stateless: ``fit`` only validates the parameters, and
    ``transform`` works unfitted. A clip shorter than one window (47,616
    samples at 16 kHz, 2.98 s) is padded with zeros (silence) to one window
    instead of failing as musicnn does; the frames after a clip's last whole
    window are dropped, as musicnn drops them. A 30 s clip gives 10 windows.

    The weights are musicnn's (ISC licence, Music Technology Group,
    Universitat Pompeu Fabra), converted from the TF1 checkpoints of the
    ``musicnn==0.1.0`` wheel by ``tools/convert_musicnn.py``. The
    MagnaTagATune audio they were trained on is CC BY-NC-SA, and the Million
    Song Dataset's audio is not openly licensed. On reference clips the
    taggrams match musicnn's within 1e-5, with the same top tags.

    On a CPU, inference lowers the convolutions to large matrix products
    (the front end's tall and wide filters run slowly as convolutions) and
    applies each ReLU and batch norm after the pooling (exact, batch norm
    being a monotonic map per channel); in float32 the features match the
    layer-by-layer network within float32 round-off (``1e-6`` relative).
    With ``precision="bfloat16"`` each layer's input and weights are
    rounded to 8 significant bits (a relative error up to ``2**-9``); the
    errors of some ten rounded layers add up to about 1% of an embedding's
    norm (at most 4.5% measured, on the vgg models' ``pool5`` with
    ``pooling="max"``; 3% with the mean) and up to about 0.03 on tag
    probabilities: enough to reorder tags whose probabilities lie
    closer than that. ``benchmarks/bench_musicnn.py`` measures both.

    References
    ----------
    .. [1] J. Pons, X. Serra, "musicnn: Pre-trained convolutional neural
       networks for music audio tagging", ISMIR 2019 late-breaking demo.

    Examples
    --------
    >>> import numpy as np
    >>> from skfma.transfer import MusicnnFeatures
    >>> X = np.random.default_rng(0).uniform(-0.1, 0.1, (2, 16000)).astype(np.float32)
    >>> features = MusicnnFeatures(model="MTT_musicnn", layer="taggram").fit_transform(X)
    >>> features.shape
    (2, 50)
    >>> MusicnnFeatures(model="MTT_vgg", layer="pool5", pooling="mean+std").fit_transform(X).shape
    (2, 512)
    """

    def __init__(
        self,
        *,
        model="MSD_musicnn",
        layer="penultimate",
        pooling="mean",
        sr=SR,
        batch_size=None,
        device="cpu",
        precision="float32",
    ):
        self.model = model
        self.layer = layer
        self.pooling = pooling
        self.sr = sr
        self.batch_size = batch_size
        self.device = device
        self.precision = precision

    @names_its_errors
    def transform(self, X):
        """Compute every clip's pooled activations.

        Parameters
        ----------
        X : array-like of shape (n_clips, n_samples)
            Mono waveforms at ``sr`` Hz (float32 or float64).

        Returns
        -------
        features : ndarray of float32, shape (n_clips, n_features_out)
            One row per clip, in order; columns named by
            ``get_feature_names_out``.
        """
        X = self._validate_waveforms(X)
        layers = self._layers()
        device = indexed_device(self.device)
        network = _pretrained_network(self.model, device)
        batch_size = self.batch_size or (10 if device.type == "cpu" else 256)
        n_samples = math.ceil(X.shape[1] * SR / self.sr) if self.sr != SR else X.shape[1]
        windows_per_clip = max(1, (1 + n_samples // HOP_LENGTH) // WINDOW_FRAMES)
        clips_per_batch = max(1, batch_size // windows_per_clip)
        out = np.empty((X.shape[0], len(self.get_feature_names_out())), dtype=np.float32)
        with torch.inference_mode():
            for start in range(0, X.shape[0], clips_per_batch):
                clips = self._to_16k(X[start : start + clips_per_batch])
                patches = log_mel_windows(clips.to(device)).flatten(0, 1)
                batches = [
                    network.extract(
                        patches[first : first + batch_size], layers, precision=self.precision
                    )
                    for first in range(0, patches.shape[0], batch_size)
                ]
                out[start : start + clips_per_batch] = torch.cat(
                    [
                        _pool(
                            torch.cat(per_layer).unflatten(0, (clips.shape[0], -1)),
                            self.pooling,
                        )
                        for per_layer in zip(*batches, strict=True)
                    ],
                    dim=1,
                ).cpu()
        return out

    def _to_16k(self, waveforms):
        """Rows as a float32 tensor at 16 kHz, zero-padded to one window if shorter."""
        waveforms = np.asarray(waveforms, dtype=np.float32)
        if self.sr != SR:
            waveforms = resample(waveforms.T, self.sr, SR, mono=False)
        clips = torch.from_numpy(np.ascontiguousarray(waveforms))
        if clips.shape[1] < WINDOW_SAMPLES:
            clips = F.pad(clips, (0, WINDOW_SAMPLES - clips.shape[1]))
        return clips

    def get_feature_names_out(self, input_features=None):
        """Output column names, ``"{model}_{layer}_{statistic}_{unit}"``.

        Units are numbered from 0, except the taggram's, which are the tag
        names (``"MSD_musicnn_taggram_mean_rock"``); statistics are ``mean``,
        ``max`` or ``mean`` then ``std``; several layers follow each other in
        the order of ``layer``.

        Parameters
        ----------
        input_features : None
            Ignored (waveform samples have no names).

        Returns
        -------
        feature_names_out : ndarray of str objects, shape (n_features_out,)
        """
        self._check_params()
        return np.asarray(
            [
                f"{self.model}_{layer}_{statistic}_{unit}"
                for layer in self._layers()
                for statistic in POOLINGS[self.pooling]
                for unit in (
                    MUSICNN_TAGS[self.model]
                    if layer == "taggram"
                    else range(MUSICNN_LAYERS[self.model][layer])
                )
            ],
            dtype=object,
        )

    def _layers(self):
        """``layer`` as a tuple of layer names."""
        return (self.layer,) if isinstance(self.layer, str) else tuple(self.layer)

    _parameter_checks = {
        "model": functools.partial(check_choice, choices=tuple(MUSICNN_LAYERS)),
        "layer": lambda name, layer: _check_layer_names(layer),
        "pooling": functools.partial(check_choice, choices=tuple(POOLINGS)),
        "sr": check_sample_rate,
        "batch_size": functools.partial(check_positive, integer=True, allow_none=True),
        "device": value_check(check_device),
        "precision": functools.partial(check_choice, choices=MusicnnModule.precisions),
    }

    def _check_params(self):
        validate_parameters(self)
        for layer in self._layers():  # the model's own layers
            check_choice(
                f"layer (of model={self.model!r})", layer, tuple(MUSICNN_LAYERS[self.model])
            )

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.transformer_tags.preserves_dtype = ["float32"]
        return tags


def _pool(activations, pooling):
    """Pool ``(n_clips, n_windows, width)`` over windows -> ``(n_clips, n_statistics * width)``."""
    if pooling == "max":
        return activations.amax(dim=1)
    mean = activations.mean(dim=1)
    if pooling == "mean":
        return mean
    return torch.cat([mean, activations.std(dim=1, correction=0)], dim=1)


@validate_arguments(
    {
        "X": check_array_like,
        **{
            name: check
            for name, check in MusicnnFeatures._parameter_checks.items()
            if name in ("model", "sr", "batch_size", "device", "precision")
        },
        "top_k": functools.partial(check_positive, integer=True),
    }
)
def predict_musicnn_tags(
    X,
    *,
    model="MSD_musicnn",
    top_k=10,
    sr=SR,
    batch_size=None,
    device="cpu",
    precision="float32",
):
    """Each clip's top tags from a pretrained musicnn model, with their probabilities.

    A clip's probability for a tag is the model's output averaged over the
    clip's 3 s windows, as musicnn's own tagger reports it; no training is
    needed.

    Parameters
    ----------
    X : array-like of shape (n_clips, n_samples)
        Mono waveforms at ``sr`` Hz, e.g. from ``AudioLoader(sr=16000)`` or
        ``load_audio(path, sr=16000)[None]``.
    model : {"MSD_musicnn", "MTT_musicnn", "MSD_vgg", "MTT_vgg"}, default="MSD_musicnn"
        The tagger: MSD models give last.fm tags (genres, eras, moods), MTT
        models MagnaTagATune's (instruments, voice, genres); the tags are
        listed in :data:`MUSICNN_TAGS`.
    top_k : int, default=10
        Tags kept per clip (all 50 at most).
    sr : float, default=16000
        Sampling rate of ``X`` in Hz; other rates are resampled (see
        :class:`MusicnnFeatures`).
    batch_size : int or None, default=None
        Windows per forward pass, see :class:`MusicnnFeatures`.
    device : str or torch.device, default="cpu"
        Where the network runs.
    precision : {"float32", "bfloat16"}, default="float32"
        Arithmetic of the convolutions, see :class:`MusicnnFeatures`:
        bfloat16 is about twice as fast on a CPU, and may swap tags whose
        probabilities differ by less than about 0.01.

    Returns
    -------
    tags : list of list of (str, float)
        For each clip, in the order of ``X``, its ``top_k`` tags from the most
        probable down, with their probabilities in [0, 1].

    See Also
    --------
    MusicnnFeatures : the same network's embeddings.
    skfma.models.predict_tags : the top tags of a tagger trained with skfma.

    Examples
    --------
    >>> import numpy as np
    >>> from skfma.transfer import predict_musicnn_tags
    >>> X = np.random.default_rng(0).uniform(-0.1, 0.1, (2, 48000)).astype(np.float32)
    >>> tags = predict_musicnn_tags(X, model="MTT_musicnn", top_k=3)
    >>> len(tags), len(tags[0]), all(0 <= p <= 1 for _, p in tags[0])
    (2, 3, True)
    """
    if top_k > len(MUSICNN_TAGS[model]):
        raise ParameterError(
            f"top_k must be at most the {len(MUSICNN_TAGS[model])} tags of {model}; got {top_k}."
        )
    extractor = MusicnnFeatures(
        model=model,
        layer="taggram",
        pooling="mean",
        sr=sr,
        batch_size=batch_size,
        device=device,
        precision=precision,
    )
    probabilities = extractor.fit_transform(X)
    names = MUSICNN_TAGS[model]
    order = np.argsort(-probabilities, axis=1, kind="stable")[:, :top_k]
    return [
        [(names[tag], float(row[tag])) for tag in tags]
        for tags, row in zip(order, probabilities, strict=True)
    ]
