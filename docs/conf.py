"""Sphinx configuration of the skfma documentation."""

project = "skfma"
author = "The skfma developers"
copyright = "2026, the skfma developers"  # noqa: A001 - Sphinx's name for it
extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "numpydoc",
    "sphinx_gallery.gen_gallery",
]
autosummary_generate = True
# Classes list the methods they define, not those inherited from scikit-learn and skorch
# (whose docstrings point to labels of those projects' own documentation).
templates_path = ["_templates"]
numpydoc_show_class_members = False
sphinx_gallery_conf = {
    "examples_dirs": "../examples",
    "gallery_dirs": "auto_examples",
    # The plot_ examples and the report scripts (which, run without arguments, do their
    # smoke run) are executed; the scripts' shared module is not an example.
    "filename_pattern": r"/(plot_|report_\d)",
    "ignore_pattern": r"__init__\.py|_reports_common\.py",
}
html_theme = "alabaster"
exclude_patterns = ["_build", "_templates"]
