"""``neuralcodes weights alexnet``: fetch the paper's network (PyTorch's model-zoo AlexNet)."""

from __future__ import annotations

import argparse
from typing import Any

from neuralcodes.cli.options import add_download_options
from neuralcodes.cli.progress_cli import ConsoleProgress


def register(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "weights",
        help="fetch pretrained network weights (AlexNet, the paper's network)",
        description="Fetch AlexNet's ImageNet weights (PyTorch's model-zoo file "
        "alexnet-owt-7be5be79.pth, 233 MB) for --model alexnet: resumable, verified against the "
        "SHA-256 prefix in its name, written atomically. Without a network, copy the file into "
        "the folder by hand or name it with --model alexnet:PATH.pth.",
        func=cmd_weights,
    )
    p.add_argument("network", choices=("alexnet",), help="the network to fetch")
    add_download_options(p, "alexnet-owt-7be5be79.pth", "$NEURALCODES_HOME/weights, "
                         "~/.cache/neuralcodes/weights without it")


def cmd_weights(args: argparse.Namespace) -> int:
    from neuralcodes.models.weights import ALEXNET_URL, fetch_alexnet

    print(fetch_alexnet(args.dir, args.url or ALEXNET_URL, progress=ConsoleProgress()))
    return 0
