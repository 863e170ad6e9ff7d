"""The data layer: Tiny ImageNet reading, parallel decoding, pixel cache, splits, synthetic data.

``neuralcodes.data.tensors`` (network input) is imported on its own: it needs torch.
"""

from neuralcodes.data.cache import PixelCache, default_cache_dir, open_cache, open_or_build_cache
from neuralcodes.data.decode import Decoded, DecodeProblem, decode_files
from neuralcodes.data.download import download, ensure_tiny_imagenet, extract_zip
from neuralcodes.data.split import Split, make_split
from neuralcodes.data.synthetic import make_synthetic
from neuralcodes.data.tinyimagenet import DatasetIndex, read_tiny_imagenet

__all__ = [
    "DatasetIndex",
    "DecodeProblem",
    "Decoded",
    "PixelCache",
    "Split",
    "decode_files",
    "default_cache_dir",
    "download",
    "ensure_tiny_imagenet",
    "extract_zip",
    "make_split",
    "make_synthetic",
    "open_cache",
    "open_or_build_cache",
    "read_tiny_imagenet",
]
