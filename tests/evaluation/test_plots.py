"""Report figures, checked by rendering them (Agg) and reading their artists back."""

import copy
import sys

import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import make_classification, make_multilabel_classification
from sklearn.exceptions import NotFittedError
from sklearn.linear_model import LogisticRegression
from sklearn.neighbors import KNeighborsClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from skorch.dataset import ValidSplit

from skfma.evaluation import (
    ConfusionMatrixDisplay,
    PerClassDisplay,
    TrainingHistoryDisplay,
    evaluate_classifier,
    evaluate_tagger,
    training_history,
)
from skfma.exceptions import ParameterError
from skfma.models import DNNClassifier

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.image import imread  # noqa: E402

GENRES = np.array(["Rock", "Pop", "Folk", "Hip-Hop"])


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


@pytest.fixture(scope="module")
def classifier():
    """A classifier fitted on 100 clips of four genres (string labels), and 100 test clips."""
    X, codes = make_classification(
        n_samples=200, n_features=6, n_informative=4, n_classes=4, random_state=0
    )
    y = GENRES[codes]
    return LogisticRegression(max_iter=1000).fit(X[:100], y[:100]), X[100:], y[100:]


@pytest.fixture(scope="module")
def report(classifier):
    """The classifier's report on its test clips."""
    return evaluate_classifier(*classifier)


@pytest.fixture(scope="module")
def tagger():
    """A tagger, and 60 test clips whose third tag none carries (NaN scores)."""
    X, Y = make_multilabel_classification(n_samples=120, n_classes=3, random_state=0)
    Y_test = Y[60:].copy()
    Y_test[:, 2] = 0
    return KNeighborsClassifier().fit(X[:60], Y[:60]), X[60:], Y_test


@pytest.fixture(scope="module")
def tag_report(tagger):
    """The tagger's report on its test clips."""
    with pytest.warns(UserWarning, match="only one class"):
        return evaluate_tagger(*tagger, tag_names=["rock", "jazz", "live"])


@pytest.fixture(scope="module")
def net():
    """A tiny skfma net fitted 3 epochs with a validation split: losses and valid_acc."""
    rng = np.random.default_rng(0)
    X = rng.standard_normal((60, 6)).astype(np.float32)
    y = np.where(X[:, 0] > 0, "loud", "quiet")
    return DNNClassifier(
        module__hidden_layer_sizes=(8,),
        lr=1e-2,
        max_epochs=3,
        batch_size=16,
        train_split=ValidSplit(4, stratified=True),
        random_state=0,
    ).fit(X, y)


def check_png(figure, path):
    """Save the figure; the PNG is non-empty and not a blank page."""
    figure.savefig(path, dpi=50)
    data = path.read_bytes()
    assert data.startswith(b"\x89PNG\r\n\x1a\n") and len(data) > 1000
    assert imread(path).std() > 0


def tick_texts(labels):
    return [label.get_text() for label in labels]


# ----------------------------------------------------------------------- confusion


def test_confusion_matrix_draws_the_normalised_matrix(report, tmp_path):
    display = ConfusionMatrixDisplay.from_report(report)
    display.figure_.canvas.draw()
    np.testing.assert_array_equal(display.im_.get_array(), report.confusion.to_numpy())
    labels = report.labels.tolist()
    assert tick_texts(display.ax_.get_xticklabels()) == labels
    assert tick_texts(display.ax_.get_yticklabels()) == labels
    assert display.ax_.get_xlabel() == "Predicted label"
    assert display.ax_.get_ylabel() == "True label"
    texts = [[text.get_text() for text in row] for row in display.text_]
    assert texts == [[f"{value:.2f}" for value in row] for row in report.confusion.to_numpy()]
    check_png(display.figure_, tmp_path / "confusion.png")


def test_confusion_matrix_counts_on_a_given_axes(report):
    figure, ax = plt.subplots()
    display = ConfusionMatrixDisplay.from_report(report, normalize=False, ax=ax, colorbar=False)
    figure.canvas.draw()
    assert display.ax_ is ax and display.figure_ is figure
    np.testing.assert_array_equal(display.im_.get_array(), report.confusion_counts.to_numpy())
    assert display.text_[0, 0].get_text() == str(report.confusion_counts.iloc[0, 0])


def test_confusion_matrix_needs_a_classifier_report(tag_report):
    with pytest.raises(ParameterError, match="needs a classifier's report"):
        ConfusionMatrixDisplay.from_report(tag_report)
    with pytest.raises(ParameterError, match="report must be the Bunch"):
        ConfusionMatrixDisplay.from_report(np.eye(3))


@pytest.mark.parametrize("table", ["confusion", "confusion_counts", "per_class", "summary"])
@pytest.mark.parametrize("normalize", [True, False])
def test_a_table_removed_from_a_report_is_named_when_plotted(report, table, normalize):
    damaged = copy.copy(report)
    del damaged[table]
    with pytest.raises(ParameterError, match=f"lacks its table\\(s\\) {table}"):
        ConfusionMatrixDisplay.from_report(damaged, normalize=normalize)
    with pytest.raises(ParameterError, match=f"lacks its table\\(s\\) {table}"):
        PerClassDisplay.from_report(damaged)


def test_a_table_replaced_in_a_tagger_report_is_named(tag_report):
    damaged = copy.copy(tag_report)
    damaged.per_tag = None
    with pytest.raises(ParameterError, match=r"\(from evaluate_tagger\) lacks .* per_tag"):
        PerClassDisplay.from_report(damaged)


# ----------------------------------------------------------------------- per class


def test_per_class_bars(report, tmp_path):
    display = PerClassDisplay.from_report(report)
    display.figure_.canvas.draw()
    assert isinstance(display, PerClassDisplay)
    f1 = report.per_class["f1"]
    assert len(display.bars_) == len(display.ax_.patches) == len(report.labels)
    np.testing.assert_allclose([bar.get_width() for bar in display.bars_], f1)
    # The first class at the top: the y axis is inverted.
    assert display.ax_.yaxis_inverted()
    centres = [bar.get_y() + bar.get_height() / 2 for bar in display.bars_]
    np.testing.assert_allclose(centres, range(len(f1)))
    assert tick_texts(display.ax_.get_yticklabels()) == report.labels.tolist()
    assert display.ax_.get_xlabel() == "f1"
    assert display.ax_.get_ylabel() == "class"
    assert display.ax_.get_xlim() == (0, 1.1)
    assert display.mean_line_.get_xdata()[0] == pytest.approx(f1.mean())
    assert display.ax_.get_legend().get_texts()[0].get_text() == f"mean = {f1.mean():.3g}"
    check_png(display.figure_, tmp_path / "per_class.png")


def test_per_class_from_estimator_routes_labels_and_tags():
    """A column of labels was sent to evaluate_tagger, which refused it as tags."""
    X, y = make_classification(n_samples=60, n_classes=3, n_informative=4, random_state=0)
    classifier = LogisticRegression().fit(X, y)
    as_rows = PerClassDisplay.from_estimator(classifier, X, y)
    as_column = PerClassDisplay.from_estimator(classifier, X, y[:, None])
    assert as_column.ax_.get_ylabel() == "class" and len(as_column.bars_) == 3
    assert [bar.get_width() for bar in as_column.bars_] == [
        bar.get_width() for bar in as_rows.bars_
    ]
    X, Y = make_multilabel_classification(n_samples=60, n_classes=3, random_state=0)
    tagger = KNeighborsClassifier().fit(X, Y)
    assert PerClassDisplay.from_estimator(tagger, X, Y).ax_.get_ylabel() == "tag"


def test_per_class_sorted_support_on_a_given_axes(report):
    figure, ax = plt.subplots()
    display = PerClassDisplay.from_report(
        report, metric="support", ax=ax, sort=True, show_mean=False
    )
    figure.canvas.draw()
    assert display.ax_ is ax and display.mean_line_ is None
    expected = report.per_class["support"].sort_values(ascending=False, kind="stable")
    assert [bar.get_width() for bar in display.bars_] == expected.tolist()
    assert tick_texts(ax.get_yticklabels()) == expected.index.tolist()
    assert ax.get_xlim()[1] >= expected.max()


def test_per_tag_bars_default_to_roc_auc_and_show_nan(tag_report, tmp_path):
    display = PerClassDisplay.from_report(tag_report)
    display.figure_.canvas.draw()
    assert display.ax_.get_xlabel() == "roc_auc"
    assert display.ax_.get_ylabel() == "tag"
    widths = [bar.get_width() for bar in display.bars_]
    np.testing.assert_array_equal(widths, tag_report.per_tag["roc_auc"])
    assert np.isnan(widths[2])
    labels = [text.get_text() for text in display.ax_.texts]
    assert labels.count("n/a") == 1
    (na,) = [text for text in display.ax_.texts if text.get_text() == "n/a"]
    assert na.xy == (0, 2)  # at the third tag's place
    check_png(display.figure_, tmp_path / "per_tag.png")


def test_per_class_display_from_values():
    values = pd.Series([0.5, 0.75], index=pd.Index(["a", "b"], name="genre"))
    display = PerClassDisplay(values, metric="recall").plot()
    assert [bar.get_width() for bar in display.bars_] == [0.5, 0.75]
    assert display.ax_.get_ylabel() == "genre"


def test_per_class_bad_metric_lists_the_columns(report):
    with pytest.raises(ParameterError, match="metric must be one of 'precision', 'recall'"):
        PerClassDisplay.from_report(report, metric="roc_auc")
    with pytest.raises(ParameterError, match=r"metric must be one of .*got \['f1'\]"):
        PerClassDisplay.from_report(report, metric=["f1"])
    with pytest.raises(ParameterError, match="report must be the Bunch"):
        PerClassDisplay.from_report(report.per_class)


# ----------------------------------------------------------------- learning curves


def test_learning_curves_of_a_net(net, tmp_path):
    display = TrainingHistoryDisplay.from_estimator(net)
    display.figure_.canvas.draw()
    assert isinstance(display, TrainingHistoryDisplay)
    assert list(display.lines_) == ["train_loss", "valid_loss", "valid_acc"]
    for name, line in display.lines_.items():
        np.testing.assert_allclose(line.get_ydata(), net.history_[:, name])
        np.testing.assert_array_equal(line.get_xdata(), [1, 2, 3])
    loss_ax, score_ax = display.axes_
    assert display.lines_["valid_acc"].axes is score_ax
    assert display.lines_["valid_loss"].axes is loss_ax
    assert (loss_ax.get_xlabel(), loss_ax.get_ylabel()) == ("epoch", "loss")
    assert (score_ax.get_xlabel(), score_ax.get_ylabel()) == ("epoch", "score")
    legend = [text.get_text() for text in loss_ax.get_legend().get_texts()]
    assert legend == ["train_loss", "valid_loss"]
    check_png(display.figure_, tmp_path / "curves.png")


def test_learning_curves_of_a_pipeline_without_validation(net):
    X = np.random.default_rng(1).standard_normal((40, 6)).astype(np.float32)
    y = np.where(X[:, 0] > 0, "loud", "quiet")
    plain = DNNClassifier(module__hidden_layer_sizes=(8,), max_epochs=2, random_state=0)
    pipe = make_pipeline(StandardScaler(), plain).fit(X, y)
    display = TrainingHistoryDisplay.from_estimator(pipe)
    assert list(display.lines_) == ["train_loss"] and len(display.axes_) == 1


def test_learning_curves_skip_epochs_without_a_value():
    history = [
        {"epoch": 1, "train_loss": 1.0, "valid_loss": 1.1, "valid_acc": 0.4, "dur": 0.2},
        {"epoch": 2, "train_loss": 0.8, "dur": 0.2, "valid_loss_best": False},
        {"epoch": 3, "train_loss": 0.7, "valid_loss": 0.9, "valid_acc": 0.6, "train_f1": 0.5},
    ]
    figure, axes = plt.subplots(1, 2)
    display = TrainingHistoryDisplay.from_history(history, axes=axes)
    figure.canvas.draw()
    assert display.figure_ is figure
    assert display.lines_["train_loss"].get_xdata().tolist() == [1, 2, 3]
    assert display.lines_["valid_loss"].get_xdata().tolist() == [1, 3]
    assert display.lines_["valid_loss"].get_ydata().tolist() == [1.1, 0.9]
    assert display.lines_["valid_acc"].get_ydata().tolist() == [0.4, 0.6]
    assert display.lines_["train_f1"].get_xdata().tolist() == [3]
    assert "dur" not in display.lines_
    # Text a callback logged is no score, though its name is a score's.
    table = pd.DataFrame({"train_loss": [1.0, 0.5], "valid_acc": [0.5, 0.6], "valid_note": "x"})
    assert list(TrainingHistoryDisplay.from_history(table).lines_) == ["train_loss", "valid_acc"]
    # Only the chosen scores, or none at all.
    display = TrainingHistoryDisplay.from_history(history, scores=["valid_acc"])
    assert list(display.lines_) == ["train_loss", "valid_loss", "valid_acc"]
    display = TrainingHistoryDisplay.from_history(history, scores=())
    assert len(display.axes_) == 1
    # A history of scores only draws one panel, on a single Axes.
    _, ax = plt.subplots()
    display = TrainingHistoryDisplay.from_history([{"epoch": 1, "valid_acc": 0.5}], axes=ax)
    assert display.axes_.tolist() == [ax] and display.lines_["valid_acc"].axes is ax
    assert ax.get_ylabel() == "score"


def test_learning_curves_errors(net):
    with pytest.raises(NotFittedError, match="no training history"):
        TrainingHistoryDisplay.from_estimator(DNNClassifier())
    with pytest.raises(ValueError, match="empty history"):
        TrainingHistoryDisplay.from_history([])
    with pytest.raises(TypeError, match="must be a skorch net"):
        TrainingHistoryDisplay.from_estimator(LogisticRegression())
    with pytest.raises(ValueError, match="no train_loss, valid_loss or scores"):
        TrainingHistoryDisplay.from_history([{"epoch": 1, "dur": 0.1}])
    with pytest.raises(ParameterError, match=r"scores must name columns.*\['valid_f1'\]"):
        TrainingHistoryDisplay.from_estimator(net, scores=["valid_f1"])
    _, ax = plt.subplots()
    with pytest.raises(ParameterError, match=r"axes must hold 2 Axes \(loss and scores\); got 1"):
        TrainingHistoryDisplay.from_estimator(net, axes=[ax])
    with pytest.raises(ParameterError, match="axes must be a matplotlib Axes"):
        TrainingHistoryDisplay.from_estimator(net, axes=[ax, None])


def test_a_history_and_a_net_each_have_their_constructor(net):
    with pytest.raises(ParameterError, match="^TrainingHistoryDisplay: .*use from_history"):
        TrainingHistoryDisplay.from_estimator(net.history_)
    with pytest.raises(ParameterError, match="^TrainingHistoryDisplay: .*use from_estimator"):
        TrainingHistoryDisplay.from_history(net)
    from_net = TrainingHistoryDisplay.from_estimator(net)
    from_history = TrainingHistoryDisplay.from_history(net.history_)
    for name, line in from_net.lines_.items():
        np.testing.assert_array_equal(line.get_ydata(), from_history.lines_[name].get_ydata())


# ----------------------------------------------------------------- from an estimator


def test_confusion_matrix_display_is_sklearns_with_a_report_constructor(report, classifier):
    from sklearn import metrics

    assert issubclass(ConfusionMatrixDisplay, metrics.ConfusionMatrixDisplay)
    model, X, y = classifier
    display = ConfusionMatrixDisplay.from_estimator(model, X, y, normalize="true")
    assert type(display) is ConfusionMatrixDisplay
    np.testing.assert_allclose(display.confusion_matrix, report.confusion.to_numpy())


def test_per_class_bars_from_a_classifier_and_a_tagger(report, tag_report, classifier, tagger):
    model, X, y = classifier
    display = PerClassDisplay.from_estimator(model, X, y, metric="recall")
    np.testing.assert_allclose(
        [bar.get_width() for bar in display.bars_], report.per_class["recall"]
    )
    model, X, Y = tagger
    with pytest.warns(UserWarning, match="only one class"):
        display = PerClassDisplay.from_estimator(model, X, Y)
    assert display.ax_.get_xlabel() == "roc_auc"
    np.testing.assert_array_equal(
        [bar.get_width() for bar in display.bars_], tag_report.per_tag["roc_auc"]
    )


@pytest.mark.parametrize("bad", ["x", 3, "figure"])
def test_an_ax_that_is_not_an_axes_is_named(report, bad):
    ax = plt.figure() if bad == "figure" else bad
    for display in (ConfusionMatrixDisplay, PerClassDisplay):
        with pytest.raises(ParameterError, match=rf"^{display.__name__}: ax must be a matplotlib"):
            display.from_report(report, ax=ax)


@pytest.mark.parametrize("values_format", ["d", "q"])
def test_a_values_format_that_cannot_write_the_fractions_is_named(report, values_format):
    with pytest.raises(ParameterError, match="values_format must be a format spec"):
        ConfusionMatrixDisplay.from_report(report, values_format=values_format)


def test_confusion_matrix_normalize_is_a_bool(report):
    with pytest.raises(ParameterError, match="normalize must be True or False; got 'pred'"):
        ConfusionMatrixDisplay.from_report(report, normalize="pred")  # sklearn's value, not ours


def test_training_history_table(net):
    history = training_history(net)
    assert history.index.name == "epoch" and history.index.tolist() == [1, 2, 3]
    assert history.columns[:3].tolist() == ["train_loss", "valid_loss", "valid_acc"]
    assert "valid_loss_best" not in history.columns  # booleans are left out
    np.testing.assert_allclose(history["valid_acc"], net.history_[:, "valid_acc"])
    # A table (e.g. read back from CSV) is taken as it is.
    again = training_history(history.reset_index())
    pd.testing.assert_frame_equal(again, history)
    # Without an epoch column, rows are epochs 1, 2, ... as skorch counts them.
    numbered = training_history(history.reset_index(drop=True))
    assert numbered.index.tolist() == [1, 2, 3] and numbered.index.name == "epoch"


# ---------------------------------------------------------------- without matplotlib


def test_figures_without_matplotlib_name_the_extra(report, monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    monkeypatch.setitem(sys.modules, "matplotlib.pyplot", None)
    history = [{"epoch": 1, "train_loss": 1.0}]
    for draw in (
        lambda: ConfusionMatrixDisplay.from_report(report),
        lambda: PerClassDisplay.from_report(report),
        lambda: TrainingHistoryDisplay.from_history(history),
    ):
        with pytest.raises(ImportError, match=r"pip install 'skfma\[plot\]'"):
            draw()
    # The reports themselves need no matplotlib.
    assert training_history(history).shape == (1, 1)


@pytest.mark.parametrize(
    ("values", "metric", "message"),
    [
        (3, "f1", r"values must be a pandas Series of one number per class.*got int: 3"),
        ("abc", "f1", r"values must be a pandas Series .*got str"),
        (np.zeros((2, 2)), "f1", r"values must be a pandas Series .*got ndarray"),
        (None, "f1", r"values must be a pandas Series .*got NoneType"),
        (pd.Series(["a", "b"]), "f1", r"values must hold a number \(or NaN\) per class"),
        (pd.Series([], dtype=float), "f1", r"values holds no class"),
        (pd.Series([0.5, 0.7]), None, r"metric must be the metric's name \(a str\)"),
    ],
    ids=["int", "str", "2-d", "none", "strings", "empty", "metric-none"],
)
def test_per_class_display_names_what_it_cannot_draw(values, metric, message):
    """Stored as given, as scikit-learn's Displays; checked (and named) when plotted."""
    display = PerClassDisplay(values, metric=metric)
    with pytest.raises(ParameterError, match=rf"^PerClassDisplay: {message}"):
        display.plot()


def test_per_class_display_takes_a_dict_or_a_list():
    assert len(PerClassDisplay({"Rock": 0.5, "Pop": 0.7}, metric="f1").plot().bars_) == 2
    assert len(PerClassDisplay([0.5, np.nan, 0.2], metric="f1").plot().bars_) == 3


@pytest.mark.parametrize(
    ("history", "losses", "scores", "message"),
    [
        (None, ["train_loss"], [], r"history must be a pandas DataFrame .*got NoneType"),
        ([{"train_loss": 1.0}], ["train_loss"], [], r"history must be a pandas DataFrame"),
        ("table", None, [], r"losses must be a list of column names \(str\) .*got None"),
        ("table", ["train_loss"], [3], r"scores must be a list of column names"),
        ("table", ["valid_loss"], [], r"losses must name columns .*\['valid_loss'\]"),
        ("table", [], (), r"losses and scores are both empty"),
    ],
    ids=["none", "list", "losses-none", "scores-int", "missing-column", "nothing"],
)
def test_training_history_display_names_what_it_cannot_draw(history, losses, scores, message):
    if history == "table":
        history = training_history([{"epoch": 1, "train_loss": 0.9}])
    display = TrainingHistoryDisplay(history, losses=losses, scores=scores)
    with pytest.raises(ParameterError, match=rf"^TrainingHistoryDisplay: {message}"):
        display.plot()
