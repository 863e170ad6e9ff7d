"""Beyond one machine: Ray Data extraction into code shards, indexes built from shards, and
DistributedDataParallel training launched by ``torchrun``.

Nothing here imports Ray at module level: ``neuralcodes.distributed.ray_extract.require_ray``
imports it when a Ray path is used and names the ``ray`` extra when it is missing. The shard
format (``shards``) and the index built from shards (``ray_index``) need neither Ray nor torch's
process groups, so shards written on a cluster can be indexed anywhere.
"""
