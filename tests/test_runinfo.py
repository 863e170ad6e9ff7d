"""The report's configuration and environment rows, from config.json and metrics.json."""

from __future__ import annotations

from neuralcodes.config import RunConfig, to_dict
from neuralcodes.runinfo import setup_rows

ENV = {"neuralcodes": "0.1.0", "torch": "2.13.0+cpu", "numpy": "2.4.6", "python": "3.11.7",
       "platform": "Linux-6.1-x86_64", "cpu": "AMD EPYC", "cpu_count": 2, "torch_threads": 2,
       "device": "cpu", "precision_used": "bf16"}
METRICS = {
    "data": {"source": "synthetic", "n_images": 5000, "n_classes": 50, "n_ood_classes": 10,
             "n_train": 3200, "n_val": 400, "n_test": 400, "n_ood": 1000},
    "training": {"epochs": 3, "seconds": 136.25, "device": "cpu", "precision": "auto",
                 "seconds_per_epoch": 44.5, "environment": ENV},
}


def test_every_setting_from_the_config_and_the_metrics() -> None:
    config = to_dict(RunConfig())
    config["model"].update(width=0.25, batchnorm=True)
    config["train"].update(precision="auto", epochs=30, patience=2)
    assert dict(setup_rows(config, METRICS)) == {
        "network": "notebook, width 0.25, batch norm",
        "training recipe": "notebook, epochs at most 30, batch 100, learning rate 0.0001, "
                           "patience 2",
        "weights in model.pt": "the last epoch's, as Keras does",
        "precision": "auto, used bf16",
        "seeds": "split 42, training 0",
        "data source": "synthetic",
        "split": "3200 training, 400 validation, 400 test images of 40 in-domain classes; 1000 "
                 "out-of-domain images of 10 classes (the retrieval database)",
        "versions": "neuralcodes 0.1.0, PyTorch 2.13.0+cpu, NumPy 2.4.6, Python 3.11.7",
        "device": "cpu",
        "platform": "Linux-6.1-x86_64",
        "CPU": "AMD EPYC, logical cores 2, PyTorch threads 2",
        "training time": "44.5 s per epoch; 136 s in all (3 epochs)",
    }


def test_an_older_run_shows_what_it_recorded_and_dashes_for_the_rest() -> None:
    old = {"provenance": {"neuralcodes_version": "0.0.9"},
           "training": {"epochs": 4, "seconds": 10.0, "device": "cuda", "precision": "fp32"}}
    rows = dict(setup_rows({}, old))
    assert rows["versions"] == "neuralcodes 0.0.9"
    assert rows["precision"] == "fp32" and rows["device"] == "cuda"
    assert rows["training time"] == "2.5 s per epoch; 10 s in all (4 epochs)"
    assert rows["split"] == rows["CPU"] == rows["weights in model.pt"] == "–"
    assert set(dict(setup_rows({}, {})).values()) == {"–"}
