"""The benchmark's pipelines: the built-in ones, the user's, and how names resolve."""

import numpy as np
import pytest
from sklearn.dummy import DummyClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skfma.benchmark import BenchmarkPipeline, _pipelines, list_pipelines, register_pipeline
from skfma.benchmark._pipelines import resolve_pipelines
from skfma.exceptions import ParameterError


@pytest.fixture(autouse=True)
def no_registrations_left(monkeypatch):
    """Each test's registrations are forgotten after it."""
    monkeypatch.setattr(_pipelines, "_REGISTERED", {})


def test_the_fma_papers_baseline_table_is_built_in():
    names = list_pipelines().index
    for group in ("mfcc", "contrast", "chroma", "mfcc+contrast", "all"):
        for classifier in ("lr", "knn", "svm", "mlp"):
            assert f"fma-{group}-{classifier}" in names


@pytest.mark.parametrize(
    ("group", "width"),
    [("mfcc", 140), ("contrast", 49), ("chroma", 84), ("mfcc+contrast", 189), ("all", 518)],
)
def test_each_fma_group_selects_its_columns_of_the_518(group, width):
    estimator = resolve_pipelines([f"fma-{group}-lr"])[f"fma-{group}-lr"].make_estimator()
    X = np.random.default_rng(0).normal(size=(6, 518))
    assert estimator[:-1].fit_transform(X).shape == (6, width)


def test_nets_are_opt_in_and_the_default_runs_the_others():
    table = list_pipelines()
    nets = {"kostrzewa-cnn", "unet-encoder", "choi-crnn"}
    assert set(table.index[table["opt_in"]]) == nets
    default = resolve_pipelines(None)
    assert not nets & set(default) and len(default) == len(table) - len(nets)
    assert set(resolve_pipelines("all")) == set(table.index)
    assert list(resolve_pipelines(["kostrzewa-cnn", "fma-all-lr"])) == [
        "kostrzewa-cnn",
        "fma-all-lr",
    ]


def test_musicnn_pipelines_use_both_models_and_the_518():
    table = list_pipelines()
    assert table.loc["musicnn+fma-lr", "features"] == "musicnn-msd + musicnn-mtt + fma"
    assert table.loc["musicnn-msd-svm", "tuned"] and not table.loc["musicnn-msd-lr", "tuned"]


def test_published_figures_are_those_of_the_reports():
    table = list_pipelines()
    assert table.loc["fma-all-dnn", "published"] == 0.495
    assert table.loc["kostrzewa-cnn", "published"] == 0.3975
    assert table.loc["unet-encoder", "published"] == 0.4271
    assert np.isnan(table.loc["fma-all-lr", "published"])


def test_a_registered_pipeline_is_listed_and_resolved():
    spec = register_pipeline(
        "my-dummy", DummyClassifier(), features="fma", description="always the most frequent"
    )
    assert spec.features == ("fma",)
    assert list_pipelines().loc["my-dummy", "description"] == "always the most frequent"
    assert resolve_pipelines(["my-dummy"]) == {"my-dummy": spec}
    assert "my-dummy" in resolve_pipelines("default")


def test_a_name_is_not_registered_twice_unless_replaced():
    register_pipeline("mine", DummyClassifier(), features="fma")
    with pytest.raises(ParameterError, match="'mine' exists already"):
        register_pipeline("mine", DummyClassifier(), features="fma")
    with pytest.raises(ParameterError, match="'fma-all-lr' exists already"):
        register_pipeline("fma-all-lr", DummyClassifier(), features="fma")
    other = register_pipeline(
        "mine", DummyClassifier(strategy="prior"), features="fma", replace=True
    )
    assert resolve_pipelines(["mine"])["mine"] is other


@pytest.mark.parametrize("name", ["", "a/b", "../x", ".hidden", 3, "two words"])
def test_a_name_that_cannot_name_a_file_is_refused(name):
    with pytest.raises(ParameterError, match="name must be a non-empty string"):
        register_pipeline(name, DummyClassifier(), features="fma")


@pytest.mark.parametrize("name", ["default", "all"])
def test_the_names_of_selections_are_refused(name):
    """Such a pipeline would join every default run, and never run alone."""
    with pytest.raises(ParameterError, match=f"cannot be '{name}', which pipelines"):
        register_pipeline(name, DummyClassifier(), features="fma")
    with pytest.raises(ParameterError, match=f"cannot be '{name}'"):
        resolve_pipelines({name: BenchmarkPipeline(DummyClassifier(), "fma")})


def test_device_counts_only_for_estimators_that_take_one():
    assert resolve_pipelines(["kostrzewa-cnn"])["kostrzewa-cnn"].takes_device
    assert not resolve_pipelines(["fma-all-lr"])["fma-all-lr"].takes_device


@pytest.mark.parametrize(
    ("settings", "match"),
    [
        ({"features": "chroma"}, "features must name at least one feature set"),
        ({"features": ()}, "features must name at least one feature set"),
        ({"features": "fma", "estimator": "svm"}, "estimator must be an unfitted"),
        ({"features": "fma", "published": 0.5}, r"published must be None or \(accuracy"),
        ({"features": "fma", "published": (float("nan"), "x")}, "published must be"),
        ({"features": "fma", "smoke_params": [1]}, "smoke_params must be a dict"),
    ],
)
def test_bad_settings_are_named(settings, match):
    settings = {"estimator": DummyClassifier(), **settings}
    with pytest.raises(ParameterError, match=match):
        BenchmarkPipeline(**settings)


@pytest.mark.parametrize(
    ("pipelines", "match"),
    [
        (["nonsense"], "unknown benchmark pipeline 'nonsense'.*fma-all-lr"),
        ([], "pipelines must be None, a name"),
        ([3], "pipelines must be None, a name"),
        ({}, "empty dict"),
        ({"x": DummyClassifier()}, r"pipelines\['x'\] must be a BenchmarkPipeline"),
    ],
)
def test_bad_pipeline_choices_are_named(pipelines, match):
    with pytest.raises(ParameterError, match=match):
        resolve_pipelines(pipelines)


def test_a_dict_runs_exactly_the_pipelines_it_names():
    spec = BenchmarkPipeline(DummyClassifier(), "fma")
    assert resolve_pipelines({"mine": spec, "fma-all-lr": None}) == {
        "mine": spec,
        "fma-all-lr": resolve_pipelines(["fma-all-lr"])["fma-all-lr"],
    }


def test_make_estimator_clones_and_applies_smoke_settings_and_device():
    spec = resolve_pipelines(["kostrzewa-cnn"])["kostrzewa-cnn"]
    first, second = spec.make_estimator(), spec.make_estimator(smoke=True, device="meta")
    assert first is not spec.estimator and first is not second
    assert first[-1].max_epochs == 30 and second[-1].max_epochs == 1
    assert second[-1].device == "meta" and spec.estimator[-1].device != "meta"
    knn = resolve_pipelines(["fma-all-knn"])["fma-all-knn"]
    assert knn.make_estimator(smoke=True)[-1].n_neighbors == 5
    plain = BenchmarkPipeline(make_pipeline(StandardScaler(), DummyClassifier()), "fma")
    assert plain.make_estimator(device="cuda").get_params()["dummyclassifier__strategy"] == "prior"
