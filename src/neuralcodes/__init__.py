"""neuralcodes: content-based image retrieval with neural codes (Babenko et al., ECCV 2014)."""

__version__ = "0.1.0"
