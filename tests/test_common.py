"""scikit-learn's common checks on every public estimator, found by walking the public API.

A new public estimator is checked as soon as it is exported: with its default
parameters, unless ``INSTANCES`` gives smaller test settings (as
imbalanced-learn's common tests do). Expected failures are listed with the
reason they cannot pass on any machine.
"""

import importlib
import inspect
import pkgutil

import numpy as np
import pytest
from sklearn.base import BaseEstimator, clone
from sklearn.utils import get_tags
from sklearn.utils.estimator_checks import (
    check_estimator_cloneable,
    check_estimator_repr,
    check_get_params_invariance,
    check_no_attributes_set_in_init,
    check_parameters_default_constructible,
    check_set_params,
    parametrize_with_checks,
)

import skfma
from skfma import (
    MFCC,
    AudioFeatures,
    AudioLoader,
    ChoiCRNN,
    DNNClassifier,
    FMAFeatures,
    KostrzewaCNN,
    MelSpectrogram,
    MusicnnFeatures,
    NeuralClassifier,
    PretrainedCNNFeatures,
    Spectrogram,
    SpectrogramScaler,
    TemporalStatistics,
    UNetEncoderCNN,
    ZhangResNet,
)
from skfma.base import declared_checks
from skfma.exceptions import ParameterError
from skfma.features import Resize
from skfma.model_selection import BayesianSearchCV, HyperbandSearchCV
from skfma.nn import DNNModule
from skfma.utils import is_int


def public_estimator_classes():
    """Every scikit-learn estimator class in the ``__all__`` of skfma and its public subpackages."""
    packages = [skfma] + [
        importlib.import_module(f"skfma.{info.name}")
        for info in pkgutil.iter_modules(skfma.__path__)
        # skfma.base holds base classes that subclasses complete (WaveformTransformer has no
        # _check_params of its own), as sklearn.base's mixins: they are checked through them.
        if not info.name.startswith("_") and info.name != "base"
    ]
    public = (getattr(package, name) for package in packages for name in package.__all__)
    classes = {obj for obj in public if inspect.isclass(obj) and issubclass(obj, BaseEstimator)}
    return sorted(classes, key=lambda cls: cls.__name__)


#: Tiny networks trained long enough to learn sklearn's small test problems (a few hundred
#: 2-D samples): the checks exercise the real classes, only smaller.
FAST = {"lr": 1e-2, "max_epochs": 15, "batch_size": 16, "random_state": 0}

#: Test settings of the estimators whose defaults are too slow (or need an argument); the
#: others are checked with their defaults.
INSTANCES = {
    AudioFeatures: [AudioFeatures([("load", AudioLoader()), ("mel", MelSpectrogram())])],
    # Small signal settings keep the checks (random inputs of a few samples) fast.
    Spectrogram: [
        Spectrogram(n_fft=16, hop_length=4),
        Spectrogram(n_fft=16, hop_length=4, power=2.0, db=True),
    ],
    MelSpectrogram: [MelSpectrogram(sr=1000, n_fft=64, hop_length=16, n_mels=8)],
    MFCC: [MFCC(sr=1000, n_fft=64, hop_length=16, n_mels=8, n_mfcc=4)],
    # The checks' tiny "waveforms" (a few samples) go through the whole recipe, CQT included.
    FMAFeatures: [FMAFeatures(features=["zcr", "rmse", "spectral_centroid"]), FMAFeatures()],
    # 2-D input is pooled as one bin per clip.
    TemporalStatistics: [TemporalStatistics(), TemporalStatistics(statistics=("median", "max"))],
    PretrainedCNNFeatures: [PretrainedCNNFeatures(backbone="resnet18", weights=None)],
    # The smallest model: every check's rows are padded to one 3 s window.
    MusicnnFeatures: [MusicnnFeatures(model="MTT_vgg", layer="taggram")],
    NeuralClassifier: [
        NeuralClassifier(module=DNNModule, module__hidden_layer_sizes=(16,), **FAST)
    ],
    DNNClassifier: [DNNClassifier(module__hidden_layer_sizes=(16,), **FAST)],
    KostrzewaCNN: [KostrzewaCNN(module__filters=(4, 8), module__kernel_size=3, **FAST)],
    UNetEncoderCNN: [UNetEncoderCNN(module__filters=(4, 8), segment_length=None, **FAST)],
    ChoiCRNN: [
        ChoiCRNN(
            module__filters=(4, 8),
            module__pool_sizes=((2, 2),) * 2,
            module__gru_units=8,
            **FAST,
        )
    ],
    # sklearn's 2-D samples read as short waveforms: a 16-sample STFT and 8 maps. "both", as
    # an STFT magnitude alone cannot tell x from -x, which sklearn's toy problems need.
    ZhangResNet: [
        ZhangResNet(
            module__input="both",
            module__n_fft=16,
            module__filters=8,
            module__dense_units=(8, 8),
            **FAST,
        )
    ],
    # Two configurations, two folds; error_score="raise" so that a check's bad input
    # raises the net's own error, as sklearn's checks expect, instead of NaN scores.
    HyperbandSearchCV: [
        HyperbandSearchCV(
            DNNClassifier(module__hidden_layer_sizes=(16,), **FAST),
            {"lr": [1e-2, 3e-2]},
            reduction_factor=4,
            n_trials=2,
            cv=2,
            random_state=0,
            error_score="raise",
        )
    ],
    BayesianSearchCV: [
        BayesianSearchCV(
            DNNClassifier(module__hidden_layer_sizes=(16,), **FAST),
            {"lr": [1e-2, 3e-2]},
            n_trials=2,
            n_startup_trials=1,
            cv=2,
            random_state=0,
            error_score="raise",
        )
    ],
}


def instances():
    """The instances under test: ``INSTANCES``' or the defaults of every public estimator."""
    return [
        estimator
        for cls in public_estimator_classes()
        for estimator in (INSTANCES[cls] if cls in INSTANCES else [cls()])
    ]


def takes_2d_numbers(estimator):
    return get_tags(estimator).input_tags.two_d_array


SKORCH_INIT = (
    "skorch's NeuralNet.__init__ sets history_, initialized_ and virtual_params_, which "
    "skorch needs before the net is initialised"
)
BATCH_ROUNDOFF = (
    "float32 matrix products, convolutions and GRUs (MKL, oneDNN) accumulate in an order that "
    "depends on the batch shape, on the row's place in it and on the CPU's instruction set: "
    "the same clip's probabilities differ by 1-3 float32 ulps between batch layouts, and the "
    "check demands rtol=1e-7, below one ulp (6e-8) for p >= 0.5. No fixed batch layout is "
    "bitwise invariant on every CPU (a row's result depends on its place in the batch). "
    "test_neural_predictions_do_not_depend_on_the_batch_layout checks the same invariances "
    "at a float32 tolerance"
)
NEURAL_EXPECTED_FAILED_CHECKS = {
    "check_no_attributes_set_in_init": SKORCH_INIT,
    "check_methods_sample_order_invariance": BATCH_ROUNDOFF,
}


WINDOW_ROUNDOFF = (
    "musicnn's float32 convolutions (oneDNN) run batches of 3 s windows taken across clips: a "
    "window's features change in the last bits with the batch it lands in (up to about 1e-6 "
    "absolute), above what the checks allow; tests/transfer/test_musicnn.py::"
    "test_batch_layout_does_not_change_the_features checks it at a float32 tolerance"
)
PRETRAINED_EXPECTED_FAILED_CHECKS = {
    "check_methods_sample_order_invariance": WINDOW_ROUNDOFF,
    "check_methods_subset_invariance": WINDOW_ROUNDOFF,
}


def expected_failed_checks(estimator):
    if isinstance(estimator, NeuralClassifier):
        return NEURAL_EXPECTED_FAILED_CHECKS
    if isinstance(getattr(estimator, "estimator", None), NeuralClassifier):
        # A search's best net predicts: the same round-off (the other checks pass).
        return {"check_methods_sample_order_invariance": BATCH_ROUNDOFF}
    if isinstance(estimator, MusicnnFeatures):
        return PRETRAINED_EXPECTED_FAILED_CHECKS
    return {}


@parametrize_with_checks(
    [e for e in instances() if takes_2d_numbers(e)],
    expected_failed_checks=expected_failed_checks,
)
def test_sklearn_compatible(estimator, check):
    check(estimator)


#: sklearn's checks that need no data, for the estimators whose input is not 2-D numbers (paths,
#: spectrograms), for which ``parametrize_with_checks`` yields (almost) no checks; their own tests
#: cover fit, transform, pickling and pipelines.
API_CHECKS = [
    check_estimator_cloneable,
    check_estimator_repr,
    check_no_attributes_set_in_init,
    check_parameters_default_constructible,
    check_get_params_invariance,
    check_set_params,
]


@pytest.mark.parametrize("estimator", [e for e in instances() if not takes_2d_numbers(e)], ids=repr)
@pytest.mark.parametrize("check", API_CHECKS, ids=lambda check: check.__name__)
def test_sklearn_api(estimator, check):
    check(type(estimator).__name__, estimator)


#: Probabilities of clips predicted in different batch layouts agree within this much. A
#: probability comes from logits summed over at most a few hundred float32 products per layer
#: in these tiny nets; reordering a sum of n terms moves it by at most about n * 6e-8 of the
#: terms' magnitude, a few 1e-6 here, against differences of order 1 for a clip swapped with
#: another one.
LAYOUT_ATOL = 1e-5


@pytest.mark.parametrize(
    "estimator",
    [e for e in instances() if isinstance(e, NeuralClassifier)],
    ids=lambda estimator: type(estimator).__name__,
)
def test_neural_predictions_do_not_depend_on_the_batch_layout(estimator):
    """sklearn's sample-order and subset invariance checks, at float32's tolerance."""
    rng = np.random.default_rng(0)
    X = rng.standard_normal((45, 6)).astype(np.float32)
    y = (X[:, 0] + X[:, 1] > 0).astype(int)
    net = clone(estimator).set_params(max_epochs=2).fit(X, y)
    proba = net.predict_proba(X)
    order = rng.permutation(len(X))
    np.testing.assert_allclose(net.predict_proba(X[order]), proba[order], rtol=0, atol=LAYOUT_ATOL)
    for subset in (slice(0, 1), slice(3, 20), slice(17, 45)):
        np.testing.assert_allclose(
            net.predict_proba(X[subset]), proba[subset], rtol=0, atol=LAYOUT_ATOL
        )
    assert not np.allclose(proba[order], proba, rtol=0, atol=LAYOUT_ATOL)


def test_every_public_estimator_is_under_test():
    """Discovery finds what the README lists, so the walk itself is not silently broken."""
    names = {cls.__name__ for cls in public_estimator_classes()}
    assert names >= {cls.__name__ for cls in INSTANCES} | {"AudioLoader"}


def test_skorch_init_still_sets_attributes():
    """The deterministic expected failure still fails, so the table carries no stale entry."""
    with pytest.raises(AssertionError):
        check_no_attributes_set_in_init("DNNClassifier", DNNClassifier())


#: One invalid parameter per public estimator, and the parameter the message must name.
INVALID = {
    AudioFeatures: ({"batch_size": 0}, "batch_size"),
    AudioLoader: ({"sr": 0}, "sr"),
    Spectrogram: ({"n_fft": 0}, "n_fft"),
    MelSpectrogram: ({"fmin": -1.0}, "fmin"),
    MFCC: ({"n_mfcc": 0}, "n_mfcc"),
    FMAFeatures: ({"features": ("nope",)}, "features"),
    TemporalStatistics: ({"statistics": ("nope",)}, "statistics"),
    PretrainedCNNFeatures: ({"backbone": "nope"}, "backbone"),
    MusicnnFeatures: ({"model": "nope"}, "model"),
    Resize: ({"shape": (0, 5)}, "shape"),
    SpectrogramScaler: ({"per_bin": "yes"}, "per_bin"),
    NeuralClassifier: ({"segment_hop": 0}, "segment_hop"),
    DNNClassifier: ({"module__hidden_layer_sizes": (0,)}, "hidden_layer_sizes"),
    KostrzewaCNN: ({"module__filters": (0,)}, "filters"),
    UNetEncoderCNN: ({"segment_length": -2}, "segment_length"),
    ChoiCRNN: ({"module__gru_units": 0}, "gru_units"),
    ZhangResNet: ({"segment_aggregate": "median"}, "segment_aggregate"),
    HyperbandSearchCV: ({"reduction_factor": 1}, "reduction_factor"),
    BayesianSearchCV: ({"sampler": "nope"}, "sampler"),
}


#: Estimators given 3-D spectrograms by the tests below.
SPECTROGRAM_INPUT = (PretrainedCNNFeatures, TemporalStatistics, Resize, SpectrogramScaler)


def _fit_input(estimator, tmp_path):
    """Small valid input of the kind the estimator takes: paths, spectrograms or waveforms."""
    rng = np.random.default_rng(0)
    if isinstance(estimator, AudioLoader | AudioFeatures):
        return [str(tmp_path / "missing.wav")], None
    if isinstance(estimator, SPECTROGRAM_INPUT):
        return rng.standard_normal((4, 8, 16)).astype(np.float32), None
    if isinstance(estimator, NeuralClassifier):
        return rng.standard_normal((4, 8, 64)).astype(np.float32), np.array([0, 1, 0, 1])
    return rng.standard_normal((4, 2048)).astype(np.float32), None


@pytest.mark.parametrize("cls", public_estimator_classes(), ids=lambda cls: cls.__name__)
def test_parameter_errors_name_the_estimator_and_the_parameter(cls, tmp_path):
    assert cls in INVALID, f"add an invalid parameter of {cls.__name__} to INVALID"
    params, name = INVALID[cls]
    estimator = clone((INSTANCES[cls] if cls in INSTANCES else [cls()])[0]).set_params(**params)
    X, y = _fit_input(estimator, tmp_path)
    with pytest.raises(ParameterError, match=rf"^{cls.__name__}: .*\b{name}\b"):
        estimator.fit(X, y)


@pytest.mark.parametrize("cls", public_estimator_classes(), ids=lambda cls: cls.__name__)
def test_every_parameter_has_a_declared_check(cls):
    """Each parameter's check is in the class's table (``_parameter_checks``), checked in one
    place (``skfma.base.validate_parameters``); a skorch net's ``module__*`` and other prefixed
    parameters by a prefix entry."""
    estimator = INSTANCES[cls][0] if cls in INSTANCES else cls()
    table = declared_checks(cls)
    prefixes = tuple(name[:-1] for name in table if name.endswith("*"))
    params = estimator.get_params(deep=False)
    undeclared = [name for name in params if name not in table and not name.startswith(prefixes)]
    assert undeclared == []
    assert set(table) - set(params) <= {name for name in table if name.endswith("*")}


class _Invalid:
    """A value no parameter takes: not a number, string, path, callable, class or sequence."""

    def __repr__(self):
        return "<invalid>"


def _every_parameter():
    """``(class, parameter)`` of every parameter (``get_params(deep=False)``) of every estimator."""
    for cls in public_estimator_classes():
        estimator = INSTANCES[cls][0] if cls in INSTANCES else cls()
        for name in estimator.get_params(deep=False):
            yield cls, name


@pytest.mark.parametrize(
    ("cls", "name"), list(_every_parameter()), ids=lambda x: getattr(x, "__name__", x)
)
def test_an_invalid_value_of_every_parameter_is_named(cls, name, tmp_path):
    """Each parameter refuses a value of no accepted type, naming the estimator and itself.

    Checked when fitting, before any work (a module's parameters by the module, named by
    their own name).
    """
    estimator = clone(INSTANCES[cls][0] if cls in INSTANCES else cls())
    estimator.set_params(**{name: _Invalid()})
    X, y = _fit_input(estimator, tmp_path)
    parameter = name.removeprefix("module__")  # the module names its own parameters
    with pytest.raises(ParameterError, match=rf"^{cls.__name__}: .*\b{parameter}\b"):
        estimator.fit(X, y)


def _numeric_parameters():
    """``(class, parameter)`` of every number-valued parameter of every public estimator.

    ``random_state`` is left out: scikit-learn's ``check_random_state`` validates it.
    """
    for cls in public_estimator_classes():
        estimator = INSTANCES[cls][0] if cls in INSTANCES else cls()
        for name, value in estimator.get_params(deep=False).items():
            if (is_int(value) or isinstance(value, float)) and name != "random_state":
                yield cls, name


@pytest.mark.parametrize("value", [np.nan, np.inf, -np.inf], ids=str)
@pytest.mark.parametrize(
    ("cls", "name"), list(_numeric_parameters()), ids=lambda x: getattr(x, "__name__", x)
)
def test_non_finite_numbers_are_refused_naming_the_parameter(cls, name, value, tmp_path):
    estimator = clone(INSTANCES[cls][0] if cls in INSTANCES else cls())
    estimator.set_params(**{name: value})
    X, y = _fit_input(estimator, tmp_path)
    parameter = name.rsplit("__", 1)[-1]  # a module's parameter is named by the module
    with pytest.raises(ParameterError, match=rf"^{cls.__name__}: .*\b{parameter}\b"):
        estimator.fit(X, y)


def test_upper_bounds_of_counts_that_would_run_forever_or_be_cut_silently():
    from skfma.nn import SpecAugment
    from skfma.transfer import predict_musicnn_tags

    X = np.zeros((4, 8, 16), np.float32)
    with pytest.raises(ParameterError, match="augment_copies must be at most 100"):
        KostrzewaCNN(augment=SpecAugment(), augment_copies=10**6).fit(X, [0, 1, 0, 1])
    with pytest.raises(ParameterError, match="top_k must be at most the 50 tags of MSD_musicnn"):
        predict_musicnn_tags(np.zeros((1, 16000), np.float32), top_k=100)
