"""The paper's benchmarks: INRIA Holidays, Oxford5k, Paris6k, ROxford5k, RParis6k, UKBench.

Each is read from its official layout and ground truth, scored exactly as its own evaluation code
scores it, and written to a result folder (see ``results``)::

    from neuralcodes.benchmarks import BenchmarkConfig, run_benchmark, download_benchmark

    folder = download_benchmark("holidays", "data")               # once, where files are public
    result = run_benchmark(BenchmarkConfig("holidays", str(folder)), encoder, "results/holidays")
    result.rows[0]["value"], result.rows[0]["ci95"]                # mAP and its 95 % interval

``encoder`` is anything with the ``ImageEncoder`` members (``load``, ``encode``,
``fingerprint``, ``layer``, ``dim``). ``read_benchmark(name, folder)`` reads and validates a
benchmark without encoding anything; ``neuralcodes.benchmarks.scores`` holds the metrics.
"""

from neuralcodes.benchmarks.catalog import DESCRIPTION, read_benchmark
from neuralcodes.benchmarks.config import BenchmarkConfig
from neuralcodes.benchmarks.dataset import NAMES, Dataset, Query, Relevance
from neuralcodes.benchmarks.encode import ImageEncoder
from neuralcodes.benchmarks.run import BenchmarkResult, run_benchmark
from neuralcodes.benchmarks.sources import SOURCES, download_benchmark

__all__ = [
    "DESCRIPTION", "NAMES", "SOURCES", "BenchmarkConfig", "BenchmarkResult", "Dataset",
    "ImageEncoder", "Query", "Relevance", "download_benchmark", "read_benchmark", "run_benchmark",
]
