"""Post-processing of neural codes from the paper and its follow-up: PCA and whitening (``pca``),
pooling of convolutional feature maps (``pooling``), and query expansion (``query_expansion``)."""
