"""The figures of a run and of research tools, as matplotlib figures.

Every plotting function returns a ``matplotlib.figure.Figure`` (a notebook shows it and can adjust
it) and, given a path, also writes it there as PNG, atomically; ``path=None`` only returns it.
Figures live on an Agg canvas (no display needed, no pyplot state) and are sized for the report's
column (``REPORT_WIDTH`` inches, shown at most 1000 px wide).
"""

from neuralcodes.figures.common import (
    DPI,
    OTHER,
    QUERY,
    REPORT_WIDTH,
    SAME,
    framed,
    new_figure,
    save_figure,
)
from neuralcodes.figures.curves import Series, plot_curves
from neuralcodes.figures.history import plot_history
from neuralcodes.figures.retrieval import plot_retrieval

__all__ = ["DPI", "OTHER", "QUERY", "REPORT_WIDTH", "SAME", "Series", "framed", "new_figure",
           "plot_curves", "plot_history", "plot_retrieval", "save_figure"]
