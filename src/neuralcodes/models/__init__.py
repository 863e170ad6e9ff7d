"""Pretrained networks as sources of neural codes (docs/models.md).

``spec`` parses a model SPEC (a run folder, ``alexnet[:PATH]``, ``hf:ID[@REV]`` or
``hf:/folder``), ``preprocess`` holds a network's image preprocessing, ``alexnet`` the paper's
network, ``hf`` Hugging Face vision models and their named codes, ``backbone`` turns a SPEC into a
network with the feature contract, ``weights`` fetches AlexNet's file. Nothing is imported here:
``neuralcodes.model`` imports ``models.alexnet``, and ``transformers`` is optional.
"""
