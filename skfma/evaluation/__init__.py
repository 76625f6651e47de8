"""Evaluation reports of fitted classifiers and taggers, as tables and as figures.

The reports (:func:`evaluate_classifier`, :func:`evaluate_tagger`) are Bunches of pandas
tables computed with :mod:`sklearn.metrics`; the figures need matplotlib (the ``plot``
extra: ``pip install 'skfma[plot]'``), imported only when a figure is drawn.
"""

from ._history import training_history
from ._plots import ConfusionMatrixDisplay, PerClassDisplay, TrainingHistoryDisplay
from ._report import evaluate_classifier, evaluate_tagger, report_to_markdown

__all__ = [
    "ConfusionMatrixDisplay",
    "PerClassDisplay",
    "TrainingHistoryDisplay",
    "evaluate_classifier",
    "evaluate_tagger",
    "report_to_markdown",
    "training_history",
]
