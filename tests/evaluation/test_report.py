"""Evaluation reports: every number equals scikit-learn's metric on the same predictions."""

import warnings

import numpy as np
import pandas as pd
import pytest
from sklearn.base import BaseEstimator, ClassifierMixin, TransformerMixin
from sklearn.cluster import KMeans
from sklearn.datasets import make_classification, make_multilabel_classification
from sklearn.dummy import DummyClassifier
from sklearn.exceptions import NotFittedError, UndefinedMetricWarning
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.metrics import (
    accuracy_score,
    average_precision_score,
    balanced_accuracy_score,
    confusion_matrix,
    f1_score,
    precision_recall_fscore_support,
    roc_auc_score,
    top_k_accuracy_score,
)
from sklearn.model_selection import GridSearchCV
from sklearn.multiclass import OneVsRestClassifier
from sklearn.multioutput import MultiOutputClassifier
from sklearn.neighbors import KNeighborsClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVC, LinearSVC
from sklearn.utils import Bunch

from skfma.evaluation import evaluate_classifier, evaluate_tagger, report_to_markdown
from skfma.exceptions import ParameterError
from skfma.models import DNNClassifier

GENRES = np.array(["Rock", "Pop", "Folk", "Hip-Hop", "Electronic"])
TAGS = ["rock", "guitar", "live", "vocal"]


@pytest.fixture(scope="module")
def genres():
    """300 clips of 8 features, five genres (string labels), split 150 / 150."""
    X, codes = make_classification(
        n_samples=300,
        n_features=8,
        n_informative=6,
        n_classes=5,
        n_clusters_per_class=1,
        class_sep=0.8,
        random_state=0,
    )
    y = GENRES[codes]
    return (X[:150], y[:150]), (X[150:], y[150:])


@pytest.fixture(scope="module")
def tags():
    """200 clips of 10 features with 4 tags, split 100 / 100."""
    X, Y = make_multilabel_classification(n_samples=200, n_features=10, n_classes=4, random_state=0)
    return (X[:100], Y[:100]), (X[100:], Y[100:])


class ScoresAsInput(ClassifierMixin, BaseEstimator):
    """A classifier whose input is its own class scores, so that top-k is known by hand."""

    def fit(self, X, y):
        self.classes_ = np.unique(y)
        return self

    def predict_proba(self, X):
        return np.asarray(X, dtype=np.float64)

    def predict(self, X):
        return self.classes_[np.argmax(X, axis=1)]


class PredictOnly(ClassifierMixin, BaseEstimator):
    """A classifier without scores: the majority label."""

    def fit(self, X, y):
        self.classes_, counts = np.unique(y, return_counts=True)
        self.majority_ = self.classes_[np.argmax(counts)]
        return self

    def predict(self, X):
        return np.full(len(X), self.majority_)


class CountingTransformer(TransformerMixin, BaseEstimator):
    """Passes X through, counting its transform calls."""

    def fit(self, X, y=None):
        self.n_transforms_ = 0
        return self

    def transform(self, X):
        self.n_transforms_ += 1
        return X


def scores_of(tagger, X):
    """Each clip's probability of each tag, from a list of per-tag (n, 2) arrays."""
    return np.stack([proba[:, 1] for proba in tagger.predict_proba(X)], axis=1)


# ------------------------------------------------------------------------- classifiers


def test_classifier_report_equals_sklearn(genres):
    (X_train, y_train), (X, y) = genres
    clf = LogisticRegression(max_iter=1000).fit(X_train, y_train)
    report = evaluate_classifier(clf, X, y)
    y_pred, proba = clf.predict(X), clf.predict_proba(X)
    labels = clf.classes_

    summary = report.summary
    assert list(summary.index) == [
        "accuracy",
        "balanced_accuracy",
        "top_1_accuracy",
        "top_3_accuracy",
        "precision_macro",
        "recall_macro",
        "f1_macro",
        "f1_weighted",
        "n_clips",
        "n_classes",
        "inference_seconds_per_clip",
    ]
    assert summary["accuracy"] == accuracy_score(y, y_pred)
    assert summary["balanced_accuracy"] == balanced_accuracy_score(y, y_pred)
    for k in (1, 3):
        expected = top_k_accuracy_score(y, proba, k=k, labels=labels)
        assert summary[f"top_{k}_accuracy"] == pytest.approx(expected, abs=1e-12)
    assert summary["f1_macro"] == pytest.approx(f1_score(y, y_pred, average="macro"), abs=1e-12)
    assert summary["f1_weighted"] == pytest.approx(
        f1_score(y, y_pred, average="weighted"), abs=1e-12
    )
    assert summary["n_clips"] == 150 and isinstance(summary["n_clips"], int)
    assert summary["n_classes"] == 5
    assert 0 < summary["inference_seconds_per_clip"] < np.inf
    assert summary["inference_seconds_per_clip"] == report.timings["predict"] / 150
    assert set(report.timings) == {"predict", "predict_proba"}

    per_class = report.per_class
    assert per_class.index.tolist() == labels.tolist() == sorted(GENRES.tolist())
    assert per_class.columns.tolist() == ["precision", "recall", "f1", "accuracy", "support"]
    precision, recall, f1, support = precision_recall_fscore_support(y, y_pred, labels=labels)
    np.testing.assert_array_equal(per_class["precision"], precision)
    np.testing.assert_array_equal(per_class["recall"], recall)
    np.testing.assert_array_equal(per_class["f1"], f1)
    np.testing.assert_array_equal(per_class["support"], support)
    assert per_class["support"].dtype == np.int64

    counts = confusion_matrix(y, y_pred, labels=labels)
    np.testing.assert_array_equal(report.confusion_counts, counts)
    np.testing.assert_allclose(report.confusion, counts / counts.sum(axis=1, keepdims=True))
    np.testing.assert_allclose(report.confusion.sum(axis=1), 1.0)
    # A class's accuracy is its recall: the diagonal of the row-normalised matrix.
    np.testing.assert_allclose(per_class["accuracy"], np.diag(report.confusion))
    np.testing.assert_allclose(per_class["accuracy"], recall)
    assert report.confusion.index.name == "true"
    assert report.confusion.columns.name == "predicted"
    assert report.confusion.index.tolist() == report.confusion.columns.tolist() == labels.tolist()

    np.testing.assert_array_equal(report.y_pred, y_pred)
    np.testing.assert_array_equal(report.y_true, y)
    np.testing.assert_array_equal(report.y_score, proba)
    assert report.response_method == "predict_proba"
    assert report.skipped == {}


def test_top_k_by_hand_and_unseen_labels_count_as_misses():
    clf = ScoresAsInput().fit(np.zeros((3, 3)), ["a", "b", "c"])
    scores = np.array(
        [
            [0.6, 0.3, 0.1],  # a: top 1
            [0.5, 0.4, 0.1],  # b: top 2
            [0.5, 0.3, 0.2],  # c: top 3
            [0.2, 0.7, 0.1],  # a: top 2
            [0.1, 0.1, 0.8],  # d, never seen: a miss
        ]
    )
    y = np.array(["a", "b", "c", "a", "d"])
    report = evaluate_classifier(clf, scores, y, top_k=(1, 2, 3), zero_division=0.0)
    assert report.summary["top_1_accuracy"] == pytest.approx(1 / 5)
    assert report.summary["top_2_accuracy"] == pytest.approx(3 / 5)
    assert report.summary["top_3_accuracy"] == pytest.approx(4 / 5)
    assert report.summary["n_classes"] == 3
    # The unseen label gets its row and column, after the classes.
    assert report.labels.tolist() == ["a", "b", "c", "d"]
    assert report.confusion.loc["d"].tolist() == [0.0, 0.0, 1.0, 0.0]
    assert report.confusion["d"].sum() == 0
    assert report.per_class.loc["d", "support"] == 1


def test_decision_function_when_no_probabilities(genres):
    (X_train, y_train), (X, y) = genres
    svc = SVC().fit(X_train, y_train)
    assert not hasattr(svc, "predict_proba")
    report = evaluate_classifier(svc, X, y, top_k=(1, 2, 3))
    scores = svc.decision_function(X)
    assert report.response_method == "decision_function"
    np.testing.assert_array_equal(report.y_score, scores)
    for k in (1, 2, 3):
        expected = top_k_accuracy_score(y, scores, k=k, labels=svc.classes_)
        assert report.summary[f"top_{k}_accuracy"] == pytest.approx(expected, abs=1e-12)


@pytest.mark.parametrize("n_classes", [3, 4])
@pytest.mark.parametrize("in_pipeline", [False, True])
def test_one_vs_one_decision_values_are_not_read_as_class_scores(n_classes, in_pipeline):
    """With 3 classes, ovo's 3 pairwise columns have the shape of one score per class."""
    X, y = make_classification(
        n_samples=120, n_features=6, n_informative=4, n_classes=n_classes, random_state=0
    )
    svc = SVC(decision_function_shape="ovo")
    clf = (make_pipeline(StandardScaler(), svc) if in_pipeline else svc).fit(X[:60], y[:60])
    report = evaluate_classifier(clf, X[60:], y[60:], top_k=(1, 2))
    assert np.isnan(report.summary["top_1_accuracy"]) and np.isnan(report.summary["top_2_accuracy"])
    assert "ovo" in report.skipped["top_1_accuracy"]
    assert report.summary["accuracy"] == accuracy_score(y[60:], clf.predict(X[60:]))


def test_response_method_is_chosen(genres):
    (X_train, y_train), (X, y) = genres
    clf = LogisticRegression(max_iter=1000).fit(X_train, y_train)
    report = evaluate_classifier(clf, X, y, response_method="decision_function")
    assert report.response_method == "decision_function"
    expected = top_k_accuracy_score(y, clf.decision_function(X), k=3, labels=clf.classes_)
    assert report.summary["top_3_accuracy"] == pytest.approx(expected, abs=1e-12)
    with pytest.raises(ParameterError, match="response_method='predict_proba'.*SVC"):
        evaluate_classifier(SVC().fit(X_train, y_train), X, y, response_method="predict_proba")


@pytest.mark.parametrize("make", [LogisticRegression, SVC], ids=["proba", "decision"])
def test_binary_string_labels(make):
    X, codes = make_classification(n_samples=120, n_features=5, random_state=1)
    y = np.array(["loud", "quiet"])[codes]
    clf = make().fit(X[:60], y[:60])
    with warnings.catch_warnings():
        warnings.simplefilter("error", UndefinedMetricWarning)  # k >= n_classes: none
        report = evaluate_classifier(clf, X[60:], y[60:])
    # Top-1 is the prediction (the larger score), whatever the scores' range.
    assert report.summary["top_1_accuracy"] == report.summary["accuracy"]
    assert report.summary["top_3_accuracy"] == 1.0
    scores = report.y_score[:, 1] if report.y_score.ndim == 2 else report.y_score
    expected = top_k_accuracy_score(y[60:], scores, k=1, labels=clf.classes_)
    assert report.summary["top_1_accuracy"] == pytest.approx(expected)
    assert report.per_class.index.tolist() == ["loud", "quiet"]


def test_no_scores_gives_nan_top_k_with_the_reason(genres):
    (X_train, y_train), (X, y) = genres
    clf = PredictOnly().fit(X_train, y_train)
    with pytest.warns(UserWarning, match="PredictOnly has no predict_proba or decision_function"):
        report = evaluate_classifier(clf, X, y, zero_division=0.0)
    assert np.isnan(report.summary["top_1_accuracy"])
    assert np.isnan(report.summary["top_3_accuracy"])
    assert set(report.skipped) == {"top_1_accuracy", "top_3_accuracy"}
    assert report.y_score is None and report.response_method is None
    assert report.summary["accuracy"] == accuracy_score(y, clf.predict(X))


def test_no_top_k_skips_the_scoring_pass(genres):
    (X_train, y_train), (X, y) = genres
    clf = LogisticRegression(max_iter=1000).fit(X_train, y_train)
    report = evaluate_classifier(clf, X, y, top_k=())
    assert not any(name.startswith("top_") for name in report.summary.index)
    assert report.y_score is None and set(report.timings) == {"predict"}
    report = evaluate_classifier(clf, X, y, top_k=2)
    assert "top_2_accuracy" in report.summary.index


def test_pipeline_and_search(genres):
    (X_train, y_train), (X, y) = genres
    pipe = make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000)).fit(X_train, y_train)
    report = evaluate_classifier(pipe, X, y)
    assert report.summary["accuracy"] == accuracy_score(y, pipe.predict(X))
    search = GridSearchCV(pipe, {"logisticregression__C": [0.1, 1.0]}, cv=2)
    report = evaluate_classifier(search.fit(X_train, y_train), X, y)
    assert report.summary["accuracy"] == accuracy_score(y, search.predict(X))


@pytest.mark.parametrize("search", [False, True], ids=["pipeline", "search"])
def test_pipeline_front_steps_run_once(genres, search):
    (X_train, y_train), (X, y) = genres
    pipe = make_pipeline(CountingTransformer(), LogisticRegression(max_iter=1000))
    model = GridSearchCV(pipe, {"logisticregression__C": [1.0]}, cv=2) if search else pipe
    model.fit(X_train, y_train)
    counter = getattr(model, "best_estimator_", model)[0]
    before = counter.n_transforms_
    report = evaluate_classifier(model, X, y)
    assert counter.n_transforms_ == before + 1  # for predict and predict_proba both
    np.testing.assert_array_equal(report.y_pred, model.predict(X))
    np.testing.assert_array_equal(report.y_score, model.predict_proba(X))
    timings = report.timings
    assert list(timings) == ["transform", "predict", "predict_proba"]
    seconds = (timings["transform"] + timings["predict"]) / 150
    assert report.summary["inference_seconds_per_clip"] == seconds


def test_a_one_step_pipeline_has_no_transform(genres):
    (X_train, y_train), (X, y) = genres
    pipe = make_pipeline(LogisticRegression(max_iter=1000)).fit(X_train, y_train)
    report = evaluate_classifier(pipe, X, y)
    assert set(report.timings) == {"predict", "predict_proba"}
    np.testing.assert_array_equal(report.y_pred, pipe.predict(X))


def test_class_accuracy_is_the_recall_of_a_label_never_true(genres):
    (X_train, y_train), (X, y) = genres
    clf = LogisticRegression(max_iter=1000).fit(X_train, y_train)
    for zero_division in (1.0, np.nan):
        report = evaluate_classifier(
            clf, X, y, labels=[*clf.classes_, "Jazz"], zero_division=zero_division
        )
        per_class = report.per_class
        np.testing.assert_array_equal(per_class["accuracy"], per_class["recall"])
        assert per_class.loc["Jazz", "support"] == 0
        np.testing.assert_array_equal(per_class.loc["Jazz", "accuracy"], zero_division)
        assert report.confusion.loc["Jazz"].sum() == 0


def test_labels_choose_the_tables(genres):
    (X_train, y_train), (X, y) = genres
    clf = LogisticRegression(max_iter=1000).fit(X_train, y_train)
    report = evaluate_classifier(clf, X, y, labels=["Pop", "Rock"])
    assert report.per_class.index.tolist() == ["Pop", "Rock"]
    assert report.confusion.shape == (2, 2)
    # Each row over all its label's clips, those predicted as other labels included: the
    # diagonal is still the class accuracy.
    counts = confusion_matrix(y, clf.predict(X), labels=["Pop", "Rock"])
    support = [(y == label).sum() for label in ["Pop", "Rock"]]
    np.testing.assert_allclose(report.confusion, counts / np.array(support)[:, None])
    np.testing.assert_allclose(np.diag(report.confusion), report.per_class["accuracy"])
    expected = f1_score(y, clf.predict(X), labels=["Pop", "Rock"], average="macro")
    assert report.summary["f1_macro"] == pytest.approx(expected, abs=1e-12)
    with pytest.raises(ParameterError, match="labels must not repeat"):
        evaluate_classifier(clf, X, y, labels=["Pop", "Pop"])
    with pytest.raises(ParameterError, match="labels must be a non-empty"):
        evaluate_classifier(clf, X, y, labels=[])


def test_classifier_input_errors(genres):
    (X_train, y_train), (X, y) = genres
    clf = LogisticRegression(max_iter=1000).fit(X_train, y_train)
    with pytest.raises(NotFittedError):
        evaluate_classifier(LogisticRegression(), X, y)
    with pytest.raises(NotFittedError):
        evaluate_classifier(make_pipeline(StandardScaler(), LogisticRegression()), X, y)
    with pytest.raises(ValueError, match="use evaluate_tagger"):
        evaluate_classifier(clf, X, np.eye(150, 3, dtype=int))
    with pytest.raises(ValueError, match="X has 150 clips but y has 149 rows"):
        evaluate_classifier(clf, X, y[:-1])
    with pytest.raises(ValueError, match="class labels"):
        evaluate_classifier(clf, X, np.linspace(0, 1, 150))
    with pytest.raises(ParameterError, match="estimator must be a fitted classifier"):
        evaluate_classifier(StandardScaler().fit(X), X, y)
    for fitted in (LinearRegression().fit(X, np.arange(150)), KMeans(3, n_init=1).fit(X)):
        name = type(fitted).__name__
        with pytest.raises(
            ParameterError, match=rf"^evaluate_classifier: estimator must be a classifier.*{name}"
        ):
            evaluate_classifier(fitted, X, y)
    for missing in (None, np.nan, pd.NA):  # NA: a TypeError from comparing it
        with pytest.raises(ValueError, match=r"missing labels \(None, NaN or NA\)"):
            evaluate_classifier(clf, X, np.array([missing, *y[1:]], dtype=object))
    with pytest.raises(ValueError, match="missing labels"):
        evaluate_classifier(clf, X, pd.Series([pd.NA, *y[1:]], dtype="string"))


def test_labels_of_mixed_types_are_named(genres):
    (X_train, y_train), (X, y) = genres
    clf = LogisticRegression(max_iter=1000).fit(X_train, y_train)
    mixed = np.array([1, *y[1:]], dtype=object)
    for y_mixed in (mixed, pd.Series(mixed), mixed.tolist()):  # NumPy makes a list's 1 a "1"
        with pytest.raises(ValueError, match="^y must be labels of one type.*int, str"):
            evaluate_classifier(clf, X, y_mixed)
    for labels in (["Pop", None], np.array(["Pop", 1], dtype=object), ["Pop", 7]):
        with pytest.raises(ParameterError, match="^evaluate_classifier: labels must be labels of"):
            evaluate_classifier(clf, X, y, labels=labels)


def test_a_one_class_classifier_ranks_its_class_first():
    X, y = np.zeros((6, 2)), np.array(["Rock"] * 6)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # sklearn: a single label in y
        report = evaluate_classifier(DummyClassifier().fit(X, y), X, y, top_k=(1, 2))
    assert report.summary["top_1_accuracy"] == report.summary["top_2_accuracy"] == 1.0


@pytest.mark.parametrize("top_k", [0, "3", (1, 1), None, 2.0])
def test_bad_top_k_is_named(genres, top_k):
    (X_train, y_train), (X, y) = genres
    clf = LogisticRegression(max_iter=1000).fit(X_train, y_train)
    with pytest.raises(ParameterError, match="^evaluate_classifier: top_k"):
        evaluate_classifier(clf, X, y, top_k=top_k)


@pytest.mark.parametrize(
    ("params", "name"),
    [
        ({"labels": ["Jazz"]}, "labels"),
        ({"zero_division": "bad"}, "zero_division"),
        ({"zero_division": 2.0}, "zero_division"),
        ({"zero_division": None}, "zero_division"),
    ],
)
def test_bad_labels_and_zero_division_are_named(genres, params, name):
    (X_train, y_train), (X, y) = genres
    clf = LogisticRegression(max_iter=1000).fit(X_train, y_train)
    with pytest.raises(ParameterError, match=rf"^evaluate_classifier: {name} must"):
        evaluate_classifier(clf, X, y, **params)


def test_bad_response_method_is_named(genres):
    (X_train, y_train), (X, y) = genres
    clf = LogisticRegression(max_iter=1000).fit(X_train, y_train)
    with pytest.raises(ParameterError, match="response_method must be one of"):
        evaluate_classifier(clf, X, y, response_method="proba")


# ------------------------------------------------------------------------------- nets


@pytest.fixture(scope="module")
def nets():
    """A tiny skfma classifier (string labels) and tagger (a DataFrame of tags), and data."""
    rng = np.random.default_rng(0)
    X = rng.standard_normal((60, 6)).astype(np.float32)
    y = np.where(X[:, 0] > 0, "loud", "quiet")
    Y = pd.DataFrame({"bright": X[:, 0] > 0, "fast": X[:, 1] > 0}, dtype=int)
    settings = {"module__hidden_layer_sizes": (8,), "lr": 1e-2, "max_epochs": 2, "random_state": 0}
    return X, y, Y, DNNClassifier(**settings).fit(X, y), DNNClassifier(**settings).fit(X, Y)


def test_skfma_net_classifier(nets):
    X, y, _, classifier, _ = nets
    report = evaluate_classifier(classifier, X, y)
    assert report.summary["accuracy"] == accuracy_score(y, classifier.predict(X))
    np.testing.assert_allclose(report.y_score, classifier.predict_proba(X))
    assert report.per_class.index.tolist() == ["loud", "quiet"]


def test_skfma_tagger_is_refused_by_evaluate_classifier(nets):
    X, _, Y, _, tagger = nets
    with pytest.raises(ValueError, match="multilabel_=True.*use evaluate_tagger"):
        evaluate_classifier(tagger, X, Y.iloc[:, 0])


def test_skfma_net_tagger_names_its_tags(nets):
    X, _, Y, _, tagger = nets
    report = evaluate_tagger(tagger, X, Y.to_numpy())  # names from the fitted tag_names_
    assert report.per_tag.index.tolist() == ["bright", "fast"]
    proba = tagger.predict_proba(X)
    for tag, name in enumerate(["bright", "fast"]):
        expected = roc_auc_score(Y.iloc[:, tag], proba[:, tag])
        assert report.per_tag.loc[name, "roc_auc"] == pytest.approx(expected)


def test_tagger_dataframe_columns_are_matched_by_name(nets):
    """Y's columns in another order used to pair one tag's truth with another's scores."""
    X, _, Y, _, tagger = nets
    expected = evaluate_tagger(tagger, X, Y).per_tag
    reordered = evaluate_tagger(tagger, X, Y[["fast", "bright"]]).per_tag
    pd.testing.assert_frame_equal(reordered, expected)
    assert expected.loc["fast", "n_positive"] == Y["fast"].sum()
    with pytest.raises(ParameterError, match=r"Y's columns \['bright', 'slow'\] are not the tags"):
        evaluate_tagger(tagger, X, Y.rename(columns={"fast": "slow"}))
    # tag_names name Y's columns as given, and follow them.
    named = evaluate_tagger(tagger, X, Y[["fast", "bright"]], tag_names=["FAST", "BRIGHT"])
    assert named.per_tag.loc["FAST", "n_positive"] == Y["fast"].sum()
    assert named.per_tag.loc["BRIGHT", "n_positive"] == Y["bright"].sum()


@pytest.mark.parametrize(
    "convert",
    [
        lambda Y: Y.astype("Int64"),
        lambda Y: Y.astype("boolean"),
        lambda Y: Y.astype({"bright": bool}),  # a bool column beside an int one
    ],
)
def test_tagger_takes_the_indicator_dataframes_a_net_fits_on(nets, convert):
    X, _, Y, _, tagger = nets
    expected = evaluate_tagger(tagger, X, Y).per_tag
    pd.testing.assert_frame_equal(evaluate_tagger(tagger, X, convert(Y)).per_tag, expected)
    missing = Y.astype("Int64")
    missing.iloc[0, 0] = pd.NA
    with pytest.raises(ValueError, match="Y must be a 0/1"):
        evaluate_tagger(tagger, X, missing)


class UnsortedClasses(LogisticRegression):
    """A classifier whose ``classes_`` (and score columns) are not sorted, as skorch allows."""

    def fit(self, X, y):
        super().fit(X, y)
        self.order_ = np.arange(len(self.classes_))[::-1]
        self.classes_ = self.classes_[self.order_]
        return self

    def predict_proba(self, X):
        self.classes_ = self.classes_[self.order_]  # sorted for sklearn's own method
        try:
            return super().predict_proba(X)[:, self.order_]
        finally:
            self.classes_ = self.classes_[self.order_]

    def predict(self, X):
        return self.classes_[self.predict_proba(X).argmax(axis=1)]


@pytest.mark.parametrize("n_classes", [2, 5])
def test_top_k_of_a_classifier_whose_classes_are_not_sorted(genres, n_classes):
    (X_train, y_train), (X, y) = genres
    keep_train, keep = np.isin(y_train, GENRES[:n_classes]), np.isin(y, GENRES[:n_classes])
    sorted_clf = LogisticRegression(max_iter=1000).fit(X_train[keep_train], y_train[keep_train])
    unsorted = UnsortedClasses(max_iter=1000).fit(X_train[keep_train], y_train[keep_train])
    assert list(unsorted.classes_) != sorted(unsorted.classes_)
    expected = evaluate_classifier(sorted_clf, X[keep], y[keep]).summary
    summary = evaluate_classifier(unsorted, X[keep], y[keep]).summary
    for k in ("top_1_accuracy", "top_3_accuracy"):
        assert summary[k] == pytest.approx(expected[k])


class NaNScores(LogisticRegression):
    """A diverged model: NaN probabilities for some clips."""

    def predict_proba(self, X):
        proba = super().predict_proba(X)
        proba[:3] = np.nan
        return proba


def test_nan_scores_are_named(genres, tags):
    (X_train, y_train), (X, y) = genres
    report = evaluate_classifier(NaNScores(max_iter=1000).fit(X_train, y_train), X, y)
    assert np.isnan(report.summary["top_3_accuracy"])
    assert report.skipped["top_3_accuracy"] == (
        f"predict_proba gave NaN or infinite scores for 3 of {len(y)} clips."
    )
    (X_train, Y_train), (X, Y) = tags
    tagger = OneVsRestClassifier(NaNScores(max_iter=1000)).fit(X_train, Y_train)
    with pytest.raises(ValueError, match=r"OneVsRestClassifier.predict_proba gave NaN .* for 3 of"):
        evaluate_tagger(tagger, X, Y)


# ----------------------------------------------------------------------------- taggers


def test_tagger_report_equals_sklearn(tags):
    (X_train, Y_train), (X, Y) = tags
    tagger = MultiOutputClassifier(LogisticRegression(max_iter=1000)).fit(X_train, Y_train)
    report = evaluate_tagger(tagger, X, Y, tag_names=TAGS)
    scores = scores_of(tagger, X)
    np.testing.assert_allclose(report.y_score, scores)
    assert report.response_method == "predict_proba"

    per_tag = report.per_tag
    assert per_tag.index.tolist() == TAGS and per_tag.index.name == "tag"
    np.testing.assert_allclose(per_tag["roc_auc"], roc_auc_score(Y, scores, average=None))
    np.testing.assert_allclose(per_tag["pr_auc"], average_precision_score(Y, scores, average=None))
    np.testing.assert_array_equal(per_tag["n_positive"], Y.sum(axis=0))

    summary = report.summary
    for name, metric in (("roc_auc", roc_auc_score), ("pr_auc", average_precision_score)):
        for average in ("macro", "micro"):
            expected = metric(Y, scores, average=average)
            assert summary[f"{name}_{average}"] == pytest.approx(expected, rel=1e-12)
    assert (summary["n_clips"], summary["n_tags"], summary["n_tags_scored"]) == (100, 4, 4)
    assert summary["inference_seconds_per_clip"] == report.timings["predict_proba"] / 100
    assert report.skipped == {}


def test_tagger_with_decision_function(tags):
    (X_train, Y_train), (X, Y) = tags
    tagger = OneVsRestClassifier(LinearSVC()).fit(X_train, Y_train)
    report = evaluate_tagger(tagger, X, Y)
    assert report.response_method == "decision_function"
    scores = tagger.decision_function(X)
    np.testing.assert_allclose(report.per_tag["roc_auc"], roc_auc_score(Y, scores, average=None))
    assert report.per_tag.index.tolist() == [0, 1, 2, 3]


def test_tags_with_one_class_are_nan_and_named(tags):
    (X_train, Y_train), (X, Y) = tags
    tagger = MultiOutputClassifier(LogisticRegression(max_iter=1000)).fit(X_train, Y_train)
    Y = Y.copy()
    Y[:, 2] = 0  # no clip is "live"
    Y[:, 3] = 1  # every clip is "vocal"
    with pytest.warns(UserWarning, match=r"2 of 4 tags .*\['live', 'vocal'\]"):
        report = evaluate_tagger(tagger, X, Y, tag_names=TAGS)
    assert report.per_tag.loc[["live", "vocal"]].drop(columns="n_positive").isna().all().all()
    assert set(report.skipped) == {"live", "vocal"}
    scores = scores_of(tagger, X)
    expected = roc_auc_score(Y[:, :2], scores[:, :2], average="macro")
    assert report.summary["roc_auc_macro"] == pytest.approx(expected)
    assert report.summary["n_tags_scored"] == 2
    # Micro averages pool every (clip, tag) pair.
    assert report.summary["roc_auc_micro"] == pytest.approx(
        roc_auc_score(Y, scores, average="micro")
    )


def test_tag_names_from_dataframe_columns_or_indices(tags):
    (X_train, Y_train), (X, Y) = tags
    tagger = KNeighborsClassifier().fit(X_train, Y_train)
    report = evaluate_tagger(tagger, X, pd.DataFrame(Y, columns=TAGS))
    assert report.per_tag.index.tolist() == TAGS
    assert evaluate_tagger(tagger, X, Y).per_tag.index.tolist() == [0, 1, 2, 3]
    with pytest.raises(ParameterError, match="^evaluate_tagger: tag_names must name the 4 tags"):
        evaluate_tagger(tagger, X, Y, tag_names=TAGS[:3])


def test_tag_never_seen_in_training_scores_zero(tags):
    (X_train, Y_train), (X, Y) = tags
    Y_train = Y_train.copy()
    Y_train[:, 1] = 0
    tagger = KNeighborsClassifier().fit(X_train, Y_train)  # tag 1: classes_ [0] only
    report = evaluate_tagger(tagger, X, Y)
    np.testing.assert_array_equal(report.y_score[:, 1], 0.0)
    assert report.per_tag.loc[1, "roc_auc"] == 0.5


def test_tagger_input_errors(tags):
    (X_train, Y_train), (X, Y) = tags
    tagger = KNeighborsClassifier().fit(X_train, Y_train)
    with pytest.raises(ValueError, match="use evaluate_classifier"):
        evaluate_tagger(tagger, X, Y[:, 0])
    with pytest.raises(ValueError, match="0/1"):
        evaluate_tagger(tagger, X, Y * 2)
    with pytest.raises(ValueError, match="X has 100 clips but Y has 99 rows"):
        evaluate_tagger(tagger, X, Y[:-1])
    with pytest.raises(ValueError, match="X and Y are empty"):
        evaluate_tagger(tagger, X[:0], Y[:0])
    with pytest.raises(NotFittedError):
        evaluate_tagger(KNeighborsClassifier(), X, Y)
    only = PredictOnly().fit(X_train, Y_train[:, 0])
    with pytest.raises(ValueError, match="no predict_proba or decision_function"):
        evaluate_tagger(only, X, Y)
    with pytest.raises(ValueError, match=r"shape \(100, 2\).*\(100, 4\)"):
        evaluate_tagger(LogisticRegression().fit(X_train, Y_train[:, 0]), X, Y)
    with pytest.raises(ParameterError, match="^evaluate_tagger: tag_names must not repeat"):
        evaluate_tagger(tagger, X, Y, tag_names=["a", "a", "b", "c"])


# ---------------------------------------------------------------------------- markdown


def test_markdown_of_a_classifier_report(genres):
    (X_train, y_train), (X, y) = genres
    clf = LogisticRegression(max_iter=1000).fit(X_train, y_train)
    report = evaluate_classifier(clf, X, y)
    text = report_to_markdown(report, float_format="{:.2f}")
    sections = text.split("### ")[1:]
    assert [section.splitlines()[0] for section in sections] == [
        "Summary",
        "Per class",
        "Confusion matrix (row-normalised: rows true labels, columns predicted)",
    ]
    summary, per_class, confusion = (section.strip().splitlines()[2:] for section in sections)
    assert len(summary) == 2 + len(report.summary)
    assert f"| accuracy | {report.summary['accuracy']:.2f} |" in summary
    assert "| n_clips | 150 |" in summary
    assert len(per_class) == 2 + 5 and per_class[0].startswith("| class | precision |")
    rock = report.per_class.loc["Rock"]
    assert f"| Rock | {rock['precision']:.2f} | {rock['recall']:.2f} |" in per_class[-1]
    assert per_class[-1].endswith(f"| {report.per_class.loc['Rock', 'support']} |")
    assert confusion[0] == "| true \\ predicted | " + " | ".join(report.labels) + " |"


def test_markdown_of_a_tagger_report_and_escapes(tags):
    (X_train, Y_train), (X, Y) = tags
    tagger = KNeighborsClassifier().fit(X_train, Y_train)
    report = evaluate_tagger(tagger, X, Y, tag_names=["a|b", "c", "d", "e"])
    text = report_to_markdown(report)
    assert "### Per tag" in text and "Confusion" not in text
    assert "| a\\|b |" in text


def test_markdown_of_any_table():
    table = pd.DataFrame(
        {"accuracy": [0.5, np.nan], "clips": [8, 10]},
        index=pd.Index(["a|b", "c\nd"], name="run"),
    )
    assert report_to_markdown(table, float_format="{:.2f}").splitlines() == [
        "| run | accuracy | clips |",
        "| --- | --- | --- |",
        "| a\\|b | 0.50 | 8 |",
        "| c d | nan | 10 |",  # a newline would end the row
    ]
    # Headers too (a genre such as "Hip\nHop" heads a confusion matrix's column), and every
    # level's name of the index.
    table = pd.DataFrame(
        [[1, 2]],
        columns=["Hip\nHop", "a|b"],
        index=pd.MultiIndex.from_tuples([("x", 1)], names=["run", "seed"]),
    )
    assert report_to_markdown(table).splitlines()[0] == "| run, seed | Hip Hop | a\\|b |"


def test_markdown_bad_arguments(tags):
    with pytest.raises(ParameterError, match="report must be the Bunch"):
        report_to_markdown({"summary": None})
    (X_train, Y_train), (X, Y) = tags
    report = evaluate_tagger(KNeighborsClassifier().fit(X_train, Y_train), X, Y)
    for float_format in ("{:.3q}", "%.3f", ""):  # the last two wrote no value, silently
        with pytest.raises(ParameterError, match="float_format"):
            report_to_markdown(report, float_format=float_format)
    partials = {
        "per_class, confusion, confusion_counts": Bunch(summary=report.summary),
        "summary": Bunch(summary=5, per_tag=report.per_tag),
    }
    for missing, partial in partials.items():
        with pytest.raises(ParameterError, match=f"lacks its table\\(s\\) {missing},"):
            report_to_markdown(partial)
