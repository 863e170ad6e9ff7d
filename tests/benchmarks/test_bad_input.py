"""Bad input: one clear message naming the file and the problem, and nothing written."""

from __future__ import annotations

import os
import pickle
import shutil
from pathlib import Path

import numpy as np
import pytest

from neuralcodes.benchmarks import BenchmarkConfig, read_benchmark, run_benchmark
from neuralcodes.errors import ConfigError, DataError

from . import replicas
from .replicas import Replica


def _refused(name: str, root: Path, rep: Replica, tmp_path: Path, match: str) -> DataError:
    """run_benchmark fails before encoding anything and leaves no result folder."""
    encoder = rep.encoder()
    with pytest.raises(DataError, match=match) as e:
        run_benchmark(BenchmarkConfig(name, str(root)), encoder, tmp_path / "out")  # type: ignore[arg-type]
    assert encoder.loaded == [] and not (tmp_path / "out").exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".out")]
    return e.value


def test_holidays_missing_query_image(rep: Replica, tmp_path: Path) -> None:
    root = replicas.holidays(tmp_path / "h", rep)
    (root / "jpg" / "100100.jpg").unlink()
    err = _refused("holidays", root, rep, tmp_path, "missing: the query of group 1001")
    assert err.path == str(root / "jpg" / "100100.jpg")


def test_holidays_with_its_image_list(rep: Replica, tmp_path: Path) -> None:
    root = replicas.holidays(tmp_path / "h", rep)
    names = sorted(p.name for p in (root / "jpg").iterdir())
    (root / "holidays_images.dat").write_text("\n".join([*names, "100203.jpg"]) + "\n")
    _refused("holidays", root, rep, tmp_path, r"1 of the 9 images listed .* missing: 100203.jpg")


def test_holidays_folder_of_another_dataset(rep: Replica, tmp_path: Path) -> None:
    root = replicas.ukbench(tmp_path / "u", rep)
    os.rename(root / "full", root / "jpg")
    _refused("holidays", root, rep, tmp_path, r"not named like Holidays images .* another dataset")


def test_ukbench_incomplete_group(rep: Replica, tmp_path: Path) -> None:
    root = replicas.ukbench(tmp_path / "u", rep)
    (root / "full" / "ukbench00006.jpg").unlink()
    _refused("ukbench", root, rep, tmp_path, r"1 images of incomplete groups of 4 are missing: "
             r"ukbench00006.jpg")


def test_oxford_missing_image_named_by_ground_truth(rep: Replica, tmp_path: Path) -> None:
    root = replicas.oxford(tmp_path / "o", rep)
    (root / "jpg" / "all_souls_000003.jpg").unlink()
    err = _refused("oxford5k", root, rep, tmp_path, r"1 images named in the ground truth of .* "
                   r"missing: all_souls_000003")
    assert err.path == str(root / "jpg")


def test_oxford_ground_truth_of_paris(rep: Replica, tmp_path: Path) -> None:
    root = replicas.oxford(tmp_path / "o", rep)
    replicas.write_gt(root / "gt", {"defense_1": ("paris_defense_000001", [], [], [])})
    err = _refused("oxford5k", root, rep, tmp_path, "a ground-truth file of Paris6k, not of "
                   "Oxford5k")
    assert err.path == str(root / "gt" / "defense_1_query.txt")


def test_paris_folder_read_as_oxford(rep: Replica, tmp_path: Path) -> None:
    root = replicas.paris(tmp_path / "p", rep)
    _refused("oxford5k", root, rep, tmp_path, "looks like an image of Paris6k, not Oxford5k")


def test_oxford_missing_list_file(rep: Replica, tmp_path: Path) -> None:
    root = replicas.oxford(tmp_path / "o", rep)
    (root / "gt" / "ashmolean_1_ok.txt").unlink()
    err = _refused("oxford5k", root, rep, tmp_path, "file not found")
    assert err.path.endswith("ashmolean_1_ok.txt")


def test_revisited_missing_image(rep: Replica, tmp_path: Path) -> None:
    root = replicas.roxford(tmp_path / "r", rep)
    (root / "jpg" / "ashmolean_000001.jpg").unlink()
    _refused("roxford5k", root, rep, tmp_path, r"1 images named in gnd_roxford5k.pkl are "
             r"missing: ashmolean_000001")


def test_revisited_ground_truth_of_the_other_dataset(rep: Replica, tmp_path: Path) -> None:
    root = replicas.roxford(tmp_path / "r", rep)
    os.rename(root / "gnd_roxford5k.pkl", root / "gnd_rparis6k.pkl")
    err = _refused("roxford5k", root, rep, tmp_path, "this is the ground truth of RParis6k")
    assert err.path.endswith("gnd_rparis6k.pkl")
    gnd = replicas.roxford_gnd()
    gnd["imlist"] = [f"paris_{n}" for n in gnd["imlist"]]
    replicas.write_pickle(root / "gnd_roxford5k.pkl", gnd)
    _refused("roxford5k", root, rep, tmp_path, "Paris images .* not the ground truth of ROxford5k")


def test_revisited_malformed_ground_truth(rep: Replica, tmp_path: Path) -> None:
    gnd = replicas.roxford_gnd()
    gnd["gnd"][1]["easy"] = [7]  # beyond the 5 database images
    root = replicas.roxford(tmp_path / "r", rep, gnd)
    _refused("roxford5k", root, rep, tmp_path, r"gnd\[1\]\['easy'\] must be image ids in 0..4")
    replicas.write_pickle(root / "gnd_roxford5k.pkl", [1, 2, 3])
    _refused("roxford5k", root, rep, tmp_path, "not a revisitop ground truth")


class Hostile:
    """Unpickling this would run a shell command."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[object, tuple[str]]:
        return (os.system, (f"touch {self.marker}",))


def test_revisited_hostile_pickle_is_refused_unrun(rep: Replica, tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    gnd = replicas.roxford_gnd()
    gnd["gnd"][0]["bbx"] = Hostile(marker)
    root = replicas.roxford(tmp_path / "r", rep, gnd)
    err = _refused("roxford5k", root, rep, tmp_path, r"refused: the pickle asks for the global "
                   r"'(posix|os|nt)\.system'.*nothing in it was run")
    assert err.path == str(root / "gnd_roxford5k.pkl")
    assert not marker.exists()


def test_unreadable_database_image_is_skipped_but_a_query_is_fatal(rep: Replica,
                                                                    tmp_path: Path) -> None:
    root = replicas.holidays(tmp_path / "h", rep)
    (root / "jpg" / "100202.jpg").write_bytes(b"broken")
    result = run_benchmark(BenchmarkConfig("holidays", str(root), figure_queries=0),
                           rep.encoder(), tmp_path / "out")
    # 100200 (205): 100201 (35) at r = 0; 100202 never ranked: (1 + 0) / 2
    assert result.scores["all"].per_query[2] == pytest.approx(0.5)
    assert "1 unreadable database images left out: 100202" in result.text
    (root / "jpg" / "100200.jpg").write_bytes(b"broken")
    with pytest.raises(DataError, match="a query image cannot be read"):
        run_benchmark(BenchmarkConfig("holidays", str(root)), rep.encoder(), tmp_path / "out2")
    assert not (tmp_path / "out2").exists()


@pytest.mark.parametrize(("kw", "match"), [
    ({"pca": 2}, "give --pca-fit-on DIR"),
    ({"pca_fit_on": "self"}, "need --pca D"),
    ({"rotated": "x"}, "Holidays benchmark only"),
    ({"batch_size": 0}, "batch_size must be at least 1"),
])
def test_config_checked_when_built(kw: dict[str, object], match: str) -> None:
    with pytest.raises(ConfigError, match=match):
        BenchmarkConfig("ukbench", "x", **kw)  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="unknown benchmark 'oxford'"):
        BenchmarkConfig("oxford", "x")  # type: ignore[arg-type]


def test_pca_checked_before_encoding(rep: Replica, tmp_path: Path) -> None:
    root = replicas.ukbench(tmp_path / "u", rep)
    encoder = rep.encoder()
    with pytest.raises(ConfigError, match=r"--pca 3 is impossible .* min\(N - 1, D\) = 2"):
        run_benchmark(BenchmarkConfig("ukbench", str(root), pca=3, pca_fit_on="self"), encoder,
                      tmp_path / "out")
    own = tmp_path / "fit"
    shutil.copytree(root / "full", own)  # the database itself, under another folder name
    with pytest.raises(ConfigError, match="8 of the 8 PCA fit images .* are images of the "
                       "ukbench database"):
        run_benchmark(BenchmarkConfig("ukbench", str(root), pca=1, pca_fit_on=str(own)), encoder,
                      tmp_path / "out")
    assert encoder.loaded == [] and not (tmp_path / "out").exists()


def test_out_folder_that_is_not_a_result_is_kept(rep: Replica, tmp_path: Path) -> None:
    root = replicas.ukbench(tmp_path / "u", rep)
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "notes.txt").write_text("mine")
    with pytest.raises(ConfigError, match="not a benchmark result folder"):
        run_benchmark(BenchmarkConfig("ukbench", str(root)), rep.encoder(), tmp_path / "out")
    assert (tmp_path / "out" / "notes.txt").read_text() == "mine"


def test_read_benchmark_alone_encodes_nothing(rep: Replica, tmp_path: Path) -> None:
    data = read_benchmark("paris6k", replicas.paris(tmp_path / "p", rep))
    assert data.names == ("paris_defense_000001", "paris_defense_000002", "paris_eiffel_000001",
                          "paris_general_000001")  # the corrupt paris_eiffel_000009 left out
    rel = data.truth["all"][0]
    np.testing.assert_array_equal(rel.positives, [0, 1])
    assert rel.n_positives == 3 and data.queries[0].bbox == (16.0, 16.0, 48.0, 40.0)
    assert pickle.loads(pickle.dumps(data.notes)) == data.notes
