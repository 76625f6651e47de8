"""The benchmark's results table (CSV, markdown) and figures."""

import contextlib
import os

import pandas as pd

from ..evaluation import report_to_markdown
from ..utils import write_atomically

__all__ = ["write_figures", "write_table"]

#: The figures' files: accuracy against cost, and the best pipelines' per-genre F1.
FIGURES = ("accuracy_vs_cost.png", "per_class_f1.png")

#: The table's columns, in order.
COLUMNS = (
    "accuracy",
    "balanced_accuracy",
    "f1_macro",
    "top_3_accuracy",
    "validation_accuracy",
    "published_accuracy",
    "extraction_seconds_per_clip",
    "fit_seconds",
    "predict_seconds_per_clip",
    "peak_memory_mib",
    "n_training",
    "n_validation",
    "n_test",
    "features",
    "best_params",
    "published_source",
)
#: How many of the best pipelines the per-class figure shows.
N_PER_CLASS = 5


def write_table(results, description, out):
    """Write ``out/results.csv`` and ``out/results.md`` from the finished pipelines' results.

    Parameters
    ----------
    results : dict of str to dict
        Pipeline name -> its result (from ``results/NAME.json``).
    description : str
        The data, one line (subset, clips per split, tracks left out).
    out : str

    Returns
    -------
    table : pandas.DataFrame, shape (n_pipelines, len(COLUMNS))
        Indexed by pipeline, best test accuracy first.
    per_class_f1 : pandas.DataFrame, shape (n_pipelines, n_genres)
        Each pipeline's F1 per genre, in the table's order.
    """
    table = pd.DataFrame.from_dict(
        {
            name: {column: result.get(column) for column in COLUMNS}
            for name, result in results.items()
        },
        orient="index",
        columns=list(COLUMNS),
    ).rename_axis("pipeline")
    table["best_params"] = [
        ", ".join(f"{key}={value}" for key, value in (params or {}).items())
        for params in table["best_params"]
    ]
    table = table.sort_values("accuracy", ascending=False, kind="stable")
    counts = ["n_training", "n_validation", "n_test"]
    text_columns = ["features", "best_params", "published_source"]
    numeric = [column for column in COLUMNS if column not in (*counts, *text_columns)]
    table[numeric] = table[numeric].astype(float)
    table[counts] = table[counts].astype("Int64")
    per_class = pd.DataFrame.from_dict(
        {name: results[name]["per_class_f1"] for name in table.index}, orient="index"
    ).rename_axis("pipeline")
    write_atomically(os.path.join(out, "results.csv"), lambda path: table.to_csv(path))
    text = (
        "# skfma benchmark\n\n"
        f"{description}. Accuracies on the test split; costs: extraction and prediction in "
        "seconds per clip, fit in seconds (grid search included), peak resident memory of the "
        "fit and test in MiB. Published figures are the methods' own, on fma_small.\n\n"
        + report_to_markdown(table.drop(columns=["published_source"]), float_format="{:.3g}")
        + "\n\n## Published figures\n\n"
        + "".join(
            f"- {name}: {row.published_accuracy:.3f}, {row.published_source}\n"
            for name, row in table.dropna(subset=["published_accuracy"]).iterrows()
        )
        + "\n## F1 per genre\n\n"
        + report_to_markdown(per_class)
        + "\n"
    )
    write_atomically(os.path.join(out, "results.md"), lambda path: _write_text(path, text))
    return table, per_class


def write_figures(table, per_class, out):
    """Draw accuracy against cost and the best pipelines' per-genre F1, if matplotlib is there.

    Returns
    -------
    paths : list of str
        The figures written: none without matplotlib (the ``plot`` extra) or
        without a finished pipeline, and then those of an earlier run are
        removed, so that no figure contradicts the table.
    """
    try:
        import matplotlib

        matplotlib.use("Agg", force=False)
        import matplotlib.pyplot as plt
    except ImportError:
        plt = None
    if table.empty or plt is None:
        for name in FIGURES:
            with contextlib.suppress(FileNotFoundError):
                os.remove(os.path.join(out, name))
        return []
    paths = []
    cost = table["extraction_seconds_per_clip"].fillna(0) + table["predict_seconds_per_clip"]
    fig, ax = plt.subplots(figsize=(7, 5), layout="constrained")
    ax.scatter(cost, table["accuracy"])
    for name, x, y in zip(table.index, cost, table["accuracy"], strict=True):
        ax.annotate(name, (x, y), fontsize=7, xytext=(3, 2), textcoords="offset points")
    ax.set_xscale("log")
    ax.set(
        xlabel="extraction + prediction, seconds per clip (log)",
        ylabel="test accuracy",
        title="Accuracy against cost",
    )
    paths.append(_save(fig, os.path.join(out, FIGURES[0])))
    best = per_class.head(N_PER_CLASS)
    fig, ax = plt.subplots(
        figsize=(1.2 + 0.9 * best.shape[1], 1.2 + 0.5 * len(best)), layout="constrained"
    )
    image = ax.imshow(best.to_numpy(dtype=float), vmin=0, vmax=1, cmap="viridis", aspect="auto")
    ax.set_xticks(range(best.shape[1]), best.columns, rotation=45, ha="right")
    ax.set_yticks(range(len(best)), best.index)
    for (row, column), value in pd.DataFrame(best.to_numpy(dtype=float)).stack().items():
        ax.text(column, row, f"{value:.2f}", ha="center", va="center", fontsize=7, color="w")
    fig.colorbar(image, ax=ax, label="F1")
    ax.set_title(f"F1 per genre of the {len(best)} best pipelines")
    paths.append(_save(fig, os.path.join(out, FIGURES[1])))
    return paths


def _save(fig, path):
    import matplotlib.pyplot as plt

    write_atomically(path, lambda temporary: fig.savefig(temporary, dpi=120, format="png"))
    plt.close(fig)
    return path


def _write_text(path, text):
    with open(path, "w", encoding="utf-8") as file:
        file.write(text)
