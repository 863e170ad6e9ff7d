"""Pretrained networks as sources of neural codes (docs/models.md).

``spec`` parses a model SPEC (a run folder, ``alexnet[:PATH]``, ``hf:ID[@REV]`` or
``hf:/folder``), ``stages`` implements the feature contract once (a network as named stages),
``preprocess`` holds a network's image preprocessing, ``alexnet`` the paper's network, ``hf``
Hugging Face vision models and their named codes, ``backbone`` turns a SPEC into a network with
the feature contract, ``fingerprint`` records and checks what made a set of codes, ``weights``
fetches AlexNet's file. Nothing is imported here: ``neuralcodes.model`` imports
``models.alexnet``, and ``transformers`` is optional.
"""
