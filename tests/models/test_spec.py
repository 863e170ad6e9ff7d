"""SPEC strings: every accepted form, and a ConfigError listing the forms for the others."""

from __future__ import annotations

from pathlib import Path

import pytest

from neuralcodes.errors import ConfigError
from neuralcodes.models.spec import ALEXNET_FILE, ModelSpec, parse_spec


def test_run_folder(tmp_path: Path) -> None:
    assert parse_spec(str(tmp_path)) == ModelSpec("run", tmp_path)
    assert parse_spec(tmp_path) == ModelSpec("run", tmp_path)
    assert parse_spec("runs/demo") == ModelSpec("run", Path("runs/demo"))
    assert str(parse_spec("runs/demo")) == "runs/demo"


def test_alexnet_default_and_path(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("NEURALCODES_HOME", str(tmp_path))
    assert parse_spec("alexnet") == ModelSpec("alexnet", tmp_path / "weights" / ALEXNET_FILE)
    assert parse_spec("alexnet:w/a.pth") == ModelSpec("alexnet", Path("w/a.pth"))
    assert str(parse_spec("alexnet:w/a.pth")) == "alexnet:w/a.pth"


def test_hub_ids() -> None:
    assert parse_spec("hf:facebook/dinov2-small") == ModelSpec("hf", hub_id="facebook/dinov2-small")
    spec = parse_spec("hf:openai/clip-vit-base-patch32@v1.0")
    assert (spec.hub_id, spec.revision, spec.is_hub) == ("openai/clip-vit-base-patch32", "v1.0",
                                                          True)
    assert str(spec) == "hf:openai/clip-vit-base-patch32@v1.0"
    assert parse_spec("hf:bert-base-uncased").hub_id == "bert-base-uncased"


def test_local_hf_folders(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert parse_spec(f"hf:{tmp_path}") == ModelSpec("hf", tmp_path)
    assert parse_spec("hf:./not/yet") == ModelSpec("hf", Path("not/yet"))
    monkeypatch.chdir(tmp_path)
    (tmp_path / "org" / "name").mkdir(parents=True)
    assert parse_spec("hf:org/name") == ModelSpec("hf", Path("org/name"))  # a folder wins


@pytest.mark.parametrize("text", ["", "  ", "hf:", "alexnet:", "hf:a/b/c", "hf:org/na me",
                                  "hf:org/name@", "hf:org/name@bad rev", "timm:resnet50",
                                  "hf:-org/name"])
def test_bad_specs_list_the_forms(text: str) -> None:
    with pytest.raises(ConfigError, match="a model SPEC is one of") as err:
        parse_spec(text)
    assert "hf:ORG/NAME[@REVISION]" in str(err.value) and "alexnet:PATH.pth" in str(err.value)


def test_spec_fields_are_checked() -> None:
    with pytest.raises(ConfigError, match="unknown model kind"):
        ModelSpec("timm", Path("x"))  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="exactly one"):
        ModelSpec("hf", Path("x"), hub_id="a/b")
    with pytest.raises(ConfigError, match="revision"):
        ModelSpec("hf", Path("x"), revision="main")
