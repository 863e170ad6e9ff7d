"""Generations on disk: which ones an update prunes, reader leases, the writer's lock."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from neuralcodes.errors import DataError
from neuralcodes.index import Index, build_index, store, update_index
from neuralcodes.index.store import read_manifest, writer_lock

READERS = "readers"  # neuralcodes.index.leases.READERS


def _gens(index_dir: Path) -> list[str]:
    return sorted(p.name for p in index_dir.glob("gen-*"))


def _update_with_a_new_photo(index_dir: Path, photos: Path, run_dir: Path, new_photo: Any,
                             seed: int) -> str:
    new_photo(photos / f"new{seed}.png", seed=seed, fmt="PNG")
    update_index(index_dir, run_dir=run_dir, device="cpu", workers=1)
    return str(read_manifest(index_dir)["generation"])


@pytest.fixture
def built(photos: Path, run_dir: Path, tmp_path: Path) -> Path:
    build_index(photos, tmp_path / "idx", run_dir=run_dir, device="cpu", workers=1)
    return tmp_path / "idx"


def test_an_update_keeps_the_current_and_the_previous_generation(
    built: Path, photos: Path, run_dir: Path, new_photo: Any
) -> None:
    for seed in (60, 61, 62):
        _update_with_a_new_photo(built, photos, run_dir, new_photo, seed)
    assert _gens(built) == ["gen-000003", "gen-000004"]


def test_a_generation_an_open_reader_uses_is_never_pruned(
    built: Path, photos: Path, run_dir: Path, new_photo: Any
) -> None:
    reader = Index.open(built, device="cpu")
    assert reader.manifest["generation"] == "gen-000001"
    for seed in (60, 61):
        _update_with_a_new_photo(built, photos, run_dir, new_photo, seed)
    assert _gens(built) == ["gen-000001", "gen-000002", "gen-000003"]  # gen-1: leased
    assert len(reader.search_by_id(reader.entries[0].id, k=3)) == 3
    reader.close()
    _update_with_a_new_photo(built, photos, run_dir, new_photo, 62)
    assert _gens(built) == ["gen-000003", "gen-000004"]
    assert list((built / READERS).glob("*.lease")) == []


def test_a_lease_of_a_dead_process_keeps_nothing(built: Path) -> None:
    from neuralcodes.index.leases import Lease, in_use

    (built / READERS).mkdir(exist_ok=True)
    stale = built / READERS / "gen-000001.999999.dead.lease"
    stale.touch()  # left by a killed reader: nobody holds its lock
    assert not in_use(built, "gen-000001")
    assert not stale.exists()
    lease = Lease.take(built, "gen-000001")
    assert lease is not None and in_use(built, "gen-000001")
    lease.release()
    assert not in_use(built, "gen-000001") and not lease.path.exists()


def test_a_kill_between_rename_and_manifest_swap_leaves_an_orphan_that_is_cleaned_up(
    built: Path, photos: Path, run_dir: Path, new_photo: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    original = store.atomic_write_json

    def killed(path: Any, obj: Any) -> None:
        if Path(path).name == store.MANIFEST:
            raise KeyboardInterrupt("killed before the manifest swap")
        original(path, obj)

    monkeypatch.setattr(store, "atomic_write_json", killed)
    with pytest.raises(KeyboardInterrupt):
        _update_with_a_new_photo(built, photos, run_dir, new_photo, 60)
    monkeypatch.undo()
    assert _gens(built) == ["gen-000001", "gen-000002"]  # gen-2: renamed, never named
    assert read_manifest(built)["generation"] == "gen-000001"
    assert _update_with_a_new_photo(built, photos, run_dir, new_photo, 61) == "gen-000003"
    assert _gens(built) == ["gen-000001", "gen-000003"]  # the orphan went, the previous stays
    assert len(Index.open(built, device="cpu")) == 22


def test_open_reads_the_manifest_again_when_its_generation_was_pruned_meanwhile(
    built: Path, photos: Path, run_dir: Path, new_photo: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    stale = read_manifest(built)  # names gen-000001, about to be pruned
    for seed in (60, 61):
        _update_with_a_new_photo(built, photos, run_dir, new_photo, seed)
    assert "gen-000001" not in _gens(built)
    import neuralcodes.index.api as api

    answers: list[Callable[[Any], dict[str, Any]]] = [lambda _: stale]
    monkeypatch.setattr(api, "read_manifest",
                        lambda root: answers.pop()(root) if answers else read_manifest(root))
    index = Index.open(built, device="cpu")
    assert (index.generation, len(index)) == ("gen-000003", 22)
    assert list((built / READERS).glob("gen-000001.*")) == []  # its lease was given back


def test_a_second_writer_is_refused(built: Path) -> None:
    with writer_lock(built), pytest.raises(DataError, match="another process"), \
            writer_lock(built):
        pass
    with writer_lock(built):  # released
        pass


def test_reading_an_index_does_not_need_fcntl(built: Path) -> None:
    """Windows has no fcntl: importing the reader, and searching, must not need it."""
    code = (
        "import sys; sys.modules['fcntl'] = None\n"
        "from neuralcodes.index import Index\n"
        "import neuralcodes.index.store, neuralcodes.index.leases\n"
        "import neuralcodes.serve.service\n"
        "print('imported')\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip() == "imported"


def test_an_index_that_cannot_be_opened_holds_no_lease(
    built: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import neuralcodes.index.api as api
    from neuralcodes.errors import ArtifactMismatchError

    def refuse(*args: Any) -> None:
        raise ArtifactMismatchError("another model")

    monkeypatch.setattr(api, "check_model", refuse)
    with pytest.raises(ArtifactMismatchError):
        Index.open(built, device="cpu")
    assert list((built / READERS).glob("*.lease")) == []
