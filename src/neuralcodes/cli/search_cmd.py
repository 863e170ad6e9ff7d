"""``neuralcodes search INDEX_DIR QUERY_IMAGE``: the most similar indexed images."""

from __future__ import annotations

import argparse
from typing import Any

from neuralcodes.cli.options import add_device_option, add_model_option, add_qe_options
from neuralcodes.cli.output import print_json
from neuralcodes.names import shown


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "search", help="find the indexed images most similar to an image",
        description="Search an index built with `neuralcodes index build` by example image.",
        func=_search, json=True)
    parser.add_argument("index_dir", help="an index folder made by `neuralcodes index build`")
    parser.add_argument("query", metavar="QUERY_IMAGE", help="any image file")
    parser.add_argument("-k", type=int, default=10, help="how many results (default %(default)s)")
    parser.add_argument("--grid", metavar="OUT_IMAGE", help="also draw the query and the results "
                        "into this file: PNG (.png) or JPEG (.jpg, .jpeg), in a folder that "
                        "exists (default: no drawing)")
    add_model_option(parser, recorded=True)
    add_device_option(parser)
    add_qe_options(parser, many=False)
    parser.add_argument("--nprobe", type=int, help="IVF indexes: lists visited per query "
                        "(default: the one saved at build)")
    parser.add_argument("--ef-search", type=int, help="HNSW indexes: efSearch (default: the "
                        "one saved at build)")


def _search(args: argparse.Namespace) -> int:
    from neuralcodes.index import Index

    if args.grid:  # a bad --grid is refused before any work
        from neuralcodes.index.grid import grid_format

        grid_format(args.grid)
    index = Index.open(args.index_dir, model=args.model, device=args.device,
                       nprobe=args.nprobe, ef_search=args.ef_search)
    result = index.search(args.query, k=args.k, qe=args.qe, qe_alpha=args.qe_alpha)
    if args.grid:
        from neuralcodes.index.grid import plot_grid

        plot_grid(args.query, result, args.grid)
    if args.json:
        print_json({"query": args.query, "results": result.to_list()})
    else:
        for row in result.to_list():
            print(f"{row['rank']:>3}  {row['distance']:.4f}  {row['id']:>6}  {shown(row['path'])}")
    return 0
