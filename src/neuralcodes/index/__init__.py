"""A persistent neural-code index over a folder of images: build, update, search.

``build_index`` / ``update_index`` / ``add_files`` / ``remove_files`` write it (builder.py);
``Index.open(...).search(...)`` reads it (api.py); store.py documents the layout on disk.
"""

from neuralcodes.encoder import Encoder
from neuralcodes.index.ann_params import AnnParams
from neuralcodes.index.api import Index, SearchResult
from neuralcodes.index.builder import add_files, build_index, remove_files, update_index
from neuralcodes.index.commit import IndexInfo

__all__ = [
    "AnnParams", "Encoder", "Index", "IndexInfo", "SearchResult", "add_files", "build_index",
    "remove_files", "update_index",
]
