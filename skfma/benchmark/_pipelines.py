"""The benchmark's pipelines: what each one is, the built-in ones, and the user's."""

import dataclasses
import functools
import math

from sklearn.base import clone

from ..exceptions import ParameterError
from ..pipeline import FEATURE_SETS
from ..utils import check_bool, check_int, validate_arguments
from ._published import PUBLISHED

__all__ = ["BenchmarkPipeline", "list_pipelines", "register_pipeline", "resolve_pipelines"]

#: The FMA paper's feature groups (its baseline table's rows) -> the columns of the 518.
FMA_PAPER_GROUPS = {
    "mfcc": ("mfcc",),
    "contrast": ("spectral_contrast",),
    "chroma": ("chroma_cens",),
    "mfcc+contrast": ("mfcc", "spectral_contrast"),
    "all": None,
}

#: The names of selections of pipelines, which no pipeline may take.
SELECTIONS = {"default": "every pipeline that is not opt-in", "all": "every pipeline"}


@dataclasses.dataclass(frozen=True)
class BenchmarkPipeline:
    """One entry of the benchmark: a classifier on one or more feature sets.

    Parameters
    ----------
    estimator : classifier
        An unfitted scikit-learn classifier (usually a ``Pipeline``) that
        takes the feature sets' arrays: one set's array as it is (a 3-D
        spectrogram array for the nets), several sets' 2-D arrays side by
        side in the order of ``features``. It is cloned for every run.
    features : tuple of str
        Keys of :data:`skfma.pipeline.FEATURE_SETS`, extracted once per run
        and shared by every pipeline that uses them.
    param_grid : dict, list of dict or None, default=None
        Tuned on the validation split (each setting fitted on the training
        split, the best by validation accuracy refitted on it), as
        :class:`~sklearn.model_selection.GridSearchCV` takes it; ``None``
        fits ``estimator`` as it is.
    published : tuple of (float, str) or None, default=None
        A published test accuracy of the same method, and where it comes
        from, shown beside the run's figure.
    smoke_params : dict, default={}
        ``set_params`` of a smoke run (tiny data): fewer epochs, fewer
        neighbours.
    min_training_clips : int, default=0
        The fewest training clips ``estimator`` can be fitted on (the FMA
        paper's k-NN: its 200 neighbours). On fewer, the run skips the
        pipeline with that reason (a smoke run, with ``smoke_params``,
        does not).
    opt_in : bool, default=False
        Run only when named (the nets: hours on a CPU).
    description : str, default=""
        One line for ``skfma benchmark --list``.
    """

    estimator: object
    features: tuple
    param_grid: object = None
    published: tuple | None = None
    smoke_params: dict = dataclasses.field(default_factory=dict)
    min_training_clips: int = 0
    opt_in: bool = False
    description: str = ""

    def __post_init__(self):
        object.__setattr__(self, "features", _check_feature_sets("features", self.features))
        _check_classifier("estimator", self.estimator)
        if self.published is not None and not (
            isinstance(self.published, tuple)
            and len(self.published) == 2
            and isinstance(self.published[0], int | float)
            and math.isfinite(self.published[0])
            and isinstance(self.published[1], str)
        ):
            raise ParameterError(
                "published must be None or (accuracy, source), such as (0.495, 'report 001'); "
                f"got {self.published!r}."
            )
        if not isinstance(self.smoke_params, dict):
            raise ParameterError(f"smoke_params must be a dict; got {self.smoke_params!r}.")
        check_int("min_training_clips", self.min_training_clips, minimum=0)

    def make_estimator(self, *, smoke=False, device=None):
        """A fresh clone of the estimator, set for a smoke run and a device.

        Parameters
        ----------
        smoke : bool, default=False
            Apply ``smoke_params``.
        device : str or None, default=None
            Set every ``device`` parameter of the estimator (the nets') to it.

        Returns
        -------
        estimator : classifier
        """
        estimator = clone(self.estimator)
        if smoke and self.smoke_params:
            estimator.set_params(**self.smoke_params)
        if device is not None:
            estimator.set_params(**dict.fromkeys(_device_params(estimator), device))
        return estimator

    @property
    def takes_device(self):
        """Whether the estimator has a ``device`` parameter (its own or a step's)."""
        return bool(_device_params(self.estimator))


def _device_params(estimator):
    """The names of the ``device`` parameters of ``estimator`` and its steps."""
    return [
        name
        for name in estimator.get_params(deep=True)
        if name == "device" or name.endswith("__device")
    ]


def _fma_columns(groups):
    from sklearn.compose import ColumnTransformer

    from ..features import fma_feature_index

    if groups is None:
        return "passthrough"
    features = fma_feature_index().get_level_values("feature")
    columns = [index for index, name in enumerate(features) if name in groups]
    return ColumnTransformer([("columns", "passthrough", columns)])


def _classic(name):
    """The FMA paper's classifiers, as its baselines notebook sets them."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.neighbors import KNeighborsClassifier
    from sklearn.neural_network import MLPClassifier
    from sklearn.svm import SVC

    return {
        "lr": LogisticRegression(max_iter=1000),
        "knn": KNeighborsClassifier(n_neighbors=200),
        "svm": SVC(kernel="rbf"),
        "mlp": MLPClassifier(hidden_layer_sizes=(100,), max_iter=2000, random_state=0),
    }[name]


_CLASSIFIER_NAMES = {"lr": "logistic regression", "knn": "k-NN", "svm": "RBF SVM", "mlp": "MLP"}
#: C of the RBF SVMs tuned on the validation split.
SVM_GRID = {"svc__C": [0.1, 1.0, 10.0, 100.0]}


@functools.cache
def _builtins():
    """The built-in pipelines, name -> :class:`BenchmarkPipeline` (imports torch, once)."""
    from sklearn.pipeline import Pipeline, make_pipeline
    from sklearn.preprocessing import StandardScaler

    from ..features import Resize, SpectrogramScaler
    from ..models import ChoiCRNN, DNNClassifier, KostrzewaCNN, UNetEncoderCNN

    pipelines = {}
    for group, columns in FMA_PAPER_GROUPS.items():
        for short, long in _CLASSIFIER_NAMES.items():
            classifier = _classic(short)
            steps = [("columns", _fma_columns(columns)), ("scale", StandardScaler())]
            steps.append((short, classifier))
            pipelines[f"fma-{group}-{short}"] = BenchmarkPipeline(
                Pipeline(steps),
                ("fma",),
                smoke_params={"knn__n_neighbors": 5} if short == "knn" else {},
                min_training_clips=classifier.get_params().get("n_neighbors", 0),
                description=f"FMA paper baseline: {group} features of the 518, {long}",
            )
    pipelines["fma-all-dnn"] = BenchmarkPipeline(
        make_pipeline(StandardScaler(), DNNClassifier(random_state=0)),
        ("fma",),
        published=PUBLISHED["fma-all-dnn"],
        smoke_params={"dnnclassifier__max_epochs": 2},
        description="report 001's MLP (512, 256) on the 518 features",
    )
    musicnn = {"musicnn-msd": ("musicnn-msd",), "musicnn-mtt": ("musicnn-mtt",)}
    musicnn["musicnn-msd+mtt"] = ("musicnn-msd", "musicnn-mtt")
    musicnn["musicnn+fma"] = ("musicnn-msd", "musicnn-mtt", "fma")
    for name, features in musicnn.items():
        what = " + ".join(features)
        pipelines[f"{name}-lr"] = BenchmarkPipeline(
            make_pipeline(StandardScaler(), _classic("lr")),
            features,
            description=f"{what}, logistic regression",
        )
        pipelines[f"{name}-svm"] = BenchmarkPipeline(
            make_pipeline(StandardScaler(), _classic("svm")),
            features,
            param_grid=SVM_GRID,
            description=f"{what}, RBF SVM, C tuned on the validation split",
        )
    nets = {
        "kostrzewa-cnn": (
            make_pipeline(Resize(shape=(128, 128)), SpectrogramScaler(), KostrzewaCNN()),
            "kostrzewacnn",
            "report 001's CNN on 128 x 128 log-mels",
        ),
        "unet-encoder": (
            make_pipeline(SpectrogramScaler(), UNetEncoderCNN()),
            "unetencodercnn",
            "report 002's UNet encoder on 128-frame tiles",
        ),
        "choi-crnn": (
            make_pipeline(SpectrogramScaler(), ChoiCRNN()),
            "choicrnn",
            "Choi's CRNN (report 003's tagger) as a genre classifier",
        ),
    }
    for name, (estimator, step, description) in nets.items():
        pipelines[name] = BenchmarkPipeline(
            estimator,
            ("logmel",),
            published=PUBLISHED.get(name),
            smoke_params={f"{step}__max_epochs": 1},
            opt_in=True,
            description=f"{description} (opt-in: hours on a CPU)",
        )
    return pipelines


_REGISTERED = {}


def _check_feature_sets(name, value):
    """The names of feature sets of ``FEATURE_SETS``, a str as a one-item tuple."""
    features = (value,) if isinstance(value, str) else value
    try:
        features = tuple(features)
    except TypeError:
        features = ()
    unknown = [feature for feature in features if feature not in FEATURE_SETS]
    if not features or unknown:
        raise ParameterError(
            f"{name} must name at least one feature set of {', '.join(FEATURE_SETS)}; "
            f"got {value!r}."
        )
    return features


def _check_classifier(name, value):
    if not all(hasattr(value, method) for method in ("fit", "predict", "get_params")):
        raise ParameterError(
            f"{name} must be an unfitted scikit-learn classifier (fit, predict, get_params); "
            f"got {value!r}."
        )
    return value


def _check_name(name, value):
    allowed = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_+.")
    if not isinstance(value, str) or not value or not set(value) <= allowed or value[0] == ".":
        raise ParameterError(
            f"a benchmark pipeline's {name} must be a non-empty string of letters, digits and "
            f"'-_+.' (it names a file of results), not starting with '.'; got {value!r}."
        )
    if value in SELECTIONS:
        raise ParameterError(
            f"a benchmark pipeline's {name} cannot be {value!r}, which pipelines (--pipelines) "
            f"reads as {SELECTIONS[value]}."
        )
    return value


@validate_arguments(
    {
        "name": _check_name,
        "estimator": _check_classifier,
        "features": _check_feature_sets,
        "replace": check_bool,
    }
)
def register_pipeline(name, estimator, *, features, replace=False, **settings):
    """Add a pipeline to those :func:`~skfma.benchmark.run_benchmark` knows by name.

    Parameters
    ----------
    name : str
        Its name in the table and on the command line; letters, digits and
        ``-_+.`` only.
    estimator : classifier
        See :class:`BenchmarkPipeline`.
    features : str or tuple of str
        Keys of :data:`skfma.pipeline.FEATURE_SETS`.
    replace : bool, default=False
        Replace a pipeline of the same name (built-in or registered).
    **settings
        ``param_grid``, ``published``, ``smoke_params``, ``opt_in``,
        ``description``: see :class:`BenchmarkPipeline`.

    Returns
    -------
    pipeline : BenchmarkPipeline

    Examples
    --------
    >>> from sklearn.ensemble import RandomForestClassifier
    >>> from skfma.benchmark import register_pipeline
    >>> register_pipeline("fma-forest", RandomForestClassifier(), features="fma")
    ... # doctest: +ELLIPSIS
    BenchmarkPipeline(estimator=RandomForestClassifier(), features=('fma',), ...)
    """
    if not replace and name in all_pipelines():
        raise ParameterError(
            f"a benchmark pipeline named {name!r} exists already: pass replace=True to "
            "replace it, or choose another name."
        )
    pipeline = BenchmarkPipeline(estimator, features, **settings)
    _REGISTERED[name] = pipeline
    return pipeline


def all_pipelines():
    """Every pipeline known by name: the built-in ones, then the registered ones."""
    return {**_builtins(), **_REGISTERED}


def resolve_pipelines(pipelines):
    """The pipelines to run, name -> :class:`BenchmarkPipeline`.

    Parameters
    ----------
    pipelines : None, str, list of str, or dict
        ``None`` or ``"default"``: every known pipeline that is not opt-in;
        ``"all"``: every one; names (``"default"`` and ``"all"`` among them);
        or a dict of name -> :class:`BenchmarkPipeline` (or name -> ``None``
        for a known one), run beside nothing else.
    """
    known = all_pipelines()
    if isinstance(pipelines, dict):
        chosen = {}
        for name, pipeline in pipelines.items():
            if pipeline is None:
                chosen.update(resolve_pipelines([name]))
            elif isinstance(pipeline, BenchmarkPipeline):
                chosen[_check_name("name", name)] = pipeline
            else:
                raise ParameterError(
                    f"pipelines[{name!r}] must be a BenchmarkPipeline or None (a known one); "
                    f"got {pipeline!r}."
                )
        if not chosen:
            raise ParameterError("pipelines is an empty dict: name at least one pipeline.")
        return chosen
    names = ["default"] if pipelines is None else pipelines
    names = [names] if isinstance(names, str) else names
    try:
        names = list(names)
    except TypeError:
        names = None
    if not names or not all(isinstance(name, str) for name in names):
        raise ParameterError(
            f"pipelines must be None, a name, a list of names or a dict; got {pipelines!r}."
        )
    chosen = {}
    for name in names:
        if name in SELECTIONS:
            chosen.update(
                {key: spec for key, spec in known.items() if name == "all" or not spec.opt_in}
            )
        elif name in known:
            chosen[name] = known[name]
        else:
            raise ParameterError(
                f"unknown benchmark pipeline {name!r} (pipelines); known: "
                f"{', '.join(known)}, or 'default' / 'all' (skfma benchmark --list)."
            )
    return chosen


def list_pipelines():
    """The pipelines known by name, as a table.

    Returns
    -------
    table : pandas.DataFrame
        Indexed by name: ``features``, ``tuned`` (a grid on the validation
        split), ``opt_in``, ``published`` (accuracy, or NaN) and
        ``description``.
    """
    import pandas as pd

    rows = {
        name: {
            "features": " + ".join(spec.features),
            "tuned": spec.param_grid is not None,
            "opt_in": spec.opt_in,
            "published": spec.published[0] if spec.published else float("nan"),
            "description": spec.description,
        }
        for name, spec in all_pipelines().items()
    }
    return pd.DataFrame.from_dict(rows, orient="index").rename_axis("pipeline")
