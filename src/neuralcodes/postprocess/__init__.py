"""Post-processing of neural codes from the paper and its follow-up: PCA (and whitening),
pooling of convolutional feature maps, and query expansion."""

from neuralcodes.postprocess.pca import PCA, apply_pca, fit_pca, load_pca, save_pca
from neuralcodes.postprocess.pooling import Pool, gem, get_pool, mac, spoc
from neuralcodes.postprocess.query_expansion import expand_queries, qe_scores

__all__ = [
    "PCA",
    "Pool",
    "apply_pca",
    "expand_queries",
    "fit_pca",
    "gem",
    "get_pool",
    "load_pca",
    "mac",
    "qe_scores",
    "save_pca",
    "spoc",
]
