"""The FMA benchmark: known pipelines side by side on the official split, in one table.

:func:`run_benchmark` (``skfma benchmark``) extracts each feature set once, fits
every chosen pipeline on the training split (tuning on the validation split
where the pipeline says so), tests it once, and writes a table of accuracies
and costs with the published figures beside; an interrupted run resumes.
:func:`register_pipeline` adds a pipeline of the user's beside the built-in ones,
which :func:`list_pipelines` lists.
"""

from ._pipelines import BenchmarkPipeline, list_pipelines, register_pipeline
from ._run import run_benchmark

__all__ = ["BenchmarkPipeline", "list_pipelines", "register_pipeline", "run_benchmark"]
