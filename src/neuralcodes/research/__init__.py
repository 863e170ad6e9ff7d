"""The paper's findings as features: sweeps, retraining, comparisons, pooled codes, own folders.

Each module is one concept; the CLI (``neuralcodes.cli.research``) is a thin layer over them.
Scoring (``neuralcodes.scoring``), code specs (``neuralcodes.codesets``) and the result records
(``neuralcodes.results``) live below, shared with the experiment's pipeline.

* ``codecache``: a run's code sets for these tools, extracted once and cached in codes/.
* ``folders``: a labelled image folder (one subfolder per class).
* ``networks``: a run's model or AlexNet weights (model-zoo layout) as the network to encode with.
* ``tables``: CSV, Markdown and the mAP-against-bytes plot of a sweep.
* ``sweep``: layer x pooling x dimensions x whitening x query expansion on a run.
* ``finetune``: retraining a run's model on another labelled folder.
* ``compare``: two models' codes on the same retrieval task, with a paired test.
* ``folder_retrieval``: retrieval scores of any model (a run's, or AlexNet) on a labelled folder.
* ``recipes``: the demo experiment once per training recipe, in one table.
"""
