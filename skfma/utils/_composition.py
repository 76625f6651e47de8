"""The base of estimators made of named steps: scikit-learn's, behind one import.

``sklearn.utils.metaestimators._BaseComposition`` is private API; it is
imported here only, so that a change in scikit-learn is mended in one place.
"""

from sklearn.utils.metaestimators import _BaseComposition as BaseComposition

__all__ = ["BaseComposition"]
