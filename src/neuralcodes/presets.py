"""Named configurations: the notebook's experiment (the default) and the demo."""

from __future__ import annotations

from neuralcodes.config import DataConfig, ModelConfig, RetrievalConfig, RunConfig, TrainConfig
from neuralcodes.config import replace as cfg_replace

# The demo: the whole pipeline on the built-in synthetic dataset, a few minutes on 2 CPU cores.
DEMO = RunConfig(
    data=DataConfig(source="synthetic", n_in_domain=40, synthetic_classes=50,
                    synthetic_per_class=100),
    model=ModelConfig(width=0.25),
    train=TrainConfig(epochs=30, patience=2, precision="auto"),  # bf16 where the CPU has it
    retrieval=RetrievalConfig(pca_dims=(16, 32, 64, 128, 256), bootstrap=1000),
)


def resolve(cfg: RunConfig) -> RunConfig:
    """Derived settings: the classifier has one output per in-domain class; a recipe's changes."""
    cfg = cfg_replace(cfg, **{"model.num_classes": cfg.data.n_in_domain,
                              "model.image_size": cfg.data.image_size})
    if cfg.train.recipe != "notebook":
        from neuralcodes.recipes import apply_recipe

        train, model = apply_recipe(cfg.train.recipe, cfg.train, cfg.model)
        cfg = cfg_replace(cfg, train=train, model=model)
    return cfg
