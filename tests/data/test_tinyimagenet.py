from __future__ import annotations

import os
import random
import shutil
import zipfile
from pathlib import Path

import numpy as np
import pytest

from neuralcodes.data.decode import decode_files
from neuralcodes.data.tinyimagenet import read_tiny_imagenet
from neuralcodes.errors import DataError

from .helpers import encode, pattern, write_layout, zip_folder

CLASSES = {  # written in this (unsorted) order; file names sort as strings
    "n0300": ["n0300_10.JPEG", "n0300_2.JPEG", "n0300_1.JPEG"],
    "n0100": ["n0100_0.JPEG", "n0100_1.JPEG"],
    "n0200": ["n0200_5.JPEG"],
}


@pytest.fixture()
def layout(tmp_path: Path) -> Path:
    return write_layout(tmp_path, CLASSES)


def test_class_order_file_order_and_names(layout: Path) -> None:
    index = read_tiny_imagenet(layout)
    assert index.root == layout and not index.is_zip
    assert index.wnids == ("n0100", "n0200", "n0300")
    assert index.class_names == tuple(f"description of {w}, second" for w in index.wnids)
    assert index.files == (
        "train/n0100/images/n0100_0.JPEG",
        "train/n0100/images/n0100_1.JPEG",
        "train/n0200/images/n0200_5.JPEG",
        "train/n0300/images/n0300_1.JPEG",
        "train/n0300/images/n0300_10.JPEG",
        "train/n0300/images/n0300_2.JPEG",
    )
    np.testing.assert_array_equal(index.labels, [0, 0, 1, 2, 2, 2])
    assert index.labels.dtype == np.int64 and index.members == index.files


def test_many_classes_are_numbered_in_sorted_order_whatever_order_they_were_written(
    tmp_path: Path,
) -> None:
    """30 class folders (and their files) created in a shuffled order, so that neither the
    folder listing nor a zip's member order is sorted already; the folder and its zip agree."""
    wnids = [f"n{7 * k % 97:08d}" for k in range(30)]  # distinct, not in sorted order
    written = random.Random(0).sample(wnids, len(wnids))
    classes = {w: [f"{w}_{i}.JPEG" for i in (10, 2, 1)] for w in written}
    root = write_layout(tmp_path, classes)
    want = tuple(sorted(wnids))
    files = tuple(f"train/{w}/images/{w}_{i}.JPEG" for w in want for i in (1, 10, 2))
    members = [p for p in root.rglob("*") if p.is_file()]
    random.Random(1).shuffle(members)
    zipped = tmp_path / "shuffled.zip"
    with zipfile.ZipFile(zipped, "w") as zf:
        for p in members:
            zf.write(p, p.relative_to(root).as_posix())
    for index in (read_tiny_imagenet(root), read_tiny_imagenet(zipped)):
        assert index.wnids == want and index.files == files
        assert index.class_names == tuple(f"description of {w}, second" for w in want)
        np.testing.assert_array_equal(index.labels, np.repeat(np.arange(30), 3))


def test_parent_folder_is_accepted(layout: Path) -> None:
    assert read_tiny_imagenet(layout.parent).files == read_tiny_imagenet(layout).files


def test_zip_is_read_in_place(layout: Path, tmp_path: Path) -> None:
    folder = read_tiny_imagenet(layout)
    zipped = read_tiny_imagenet(zip_folder(layout, tmp_path / "t.zip", "tiny-imagenet-200/"))
    assert zipped.is_zip and zipped.prefix == "tiny-imagenet-200/"
    assert (zipped.files, zipped.wnids, zipped.class_names) == (
        folder.files,
        folder.wnids,
        folder.class_names,
    )
    np.testing.assert_array_equal(zipped.labels, folder.labels)
    from_zip = decode_files(zipped.root, zipped.members, workers=1)
    from_folder = decode_files(folder.root, folder.members, workers=1)
    assert from_zip.ok.all() and not from_zip.problems
    np.testing.assert_array_equal(from_zip.images, from_folder.images)


def test_fingerprint_follows_file_changes(layout: Path) -> None:
    before = read_tiny_imagenet(layout).fingerprint
    assert read_tiny_imagenet(layout).fingerprint == before
    target = layout / "train/n0200/images/n0200_5.JPEG"
    target.write_bytes(encode(pattern(seed=77)))
    os.utime(target, ns=(1, 1))
    assert read_tiny_imagenet(layout).fingerprint != before


def test_missing_words_txt(layout: Path) -> None:
    (layout / "words.txt").unlink()
    with pytest.raises(DataError, match=r"words\.txt: missing") as e:
        read_tiny_imagenet(layout)
    assert e.value.path == str(layout / "words.txt")


def test_wnid_absent_from_words_txt(layout: Path) -> None:
    words = layout / "words.txt"
    words.write_text("".join(line for line in words.open() if not line.startswith("n0200")))
    with pytest.raises(DataError, match=r"words\.txt: no description for 1 class\(es\).*n0200"):
        read_tiny_imagenet(layout)


def test_not_tiny_imagenet(tmp_path: Path) -> None:
    (tmp_path / "photos").mkdir()
    with pytest.raises(DataError, match="not a Tiny ImageNet folder: no train/"):
        read_tiny_imagenet(tmp_path / "photos")
    with pytest.raises(DataError, match="not found"):
        read_tiny_imagenet(tmp_path / "nowhere")


def test_empty_class_folder(layout: Path) -> None:
    for f in (layout / "train/n0200/images").iterdir():
        f.unlink()
    with pytest.raises(DataError, match="empty class folder") as e:
        read_tiny_imagenet(layout)
    assert e.value.path == str(layout / "train/n0200/images")


def test_wnids_txt_disagreeing_with_train(layout: Path) -> None:
    shutil.rmtree(layout / "train/n0200")
    with pytest.raises(DataError, match=r"wnids\.txt: lists 3 classes but train/ has 2"):
        read_tiny_imagenet(layout)


def test_incomplete_zip(layout: Path, tmp_path: Path) -> None:
    whole = zip_folder(layout, tmp_path / "t.zip", "tiny-imagenet-200/").read_bytes()
    cut = tmp_path / "cut.zip"
    cut.write_bytes(whole[: len(whole) // 2])
    with pytest.raises(DataError, match="not a valid zip file") as e:
        read_tiny_imagenet(cut)
    assert e.value.path == str(cut)


def test_zip_without_words_txt(layout: Path, tmp_path: Path) -> None:
    (layout / "words.txt").unlink()
    z = zip_folder(layout, tmp_path / "t.zip", "")
    with pytest.raises(DataError, match=r"t\.zip:words\.txt: missing"):
        read_tiny_imagenet(z)


def test_a_non_utf8_file_name_is_kept_losslessly(layout: Path) -> None:
    """Legal on Linux; it made the fingerprint (and with it `neuralcodes run`) crash."""
    folder = os.fsencode(layout / "train/n0200/images")
    with open(os.path.join(folder, b"caf\xe9.JPEG"), "wb") as f:
        f.write(encode(pattern(seed=5)))
    index = read_tiny_imagenet(layout)
    name = "train/n0200/images/caf\udce9.JPEG"  # the byte 0xe9 as a surrogate escape
    assert name in index.files
    assert os.fsencode(name) == b"train/n0200/images/caf\xe9.JPEG"
    assert read_tiny_imagenet(layout).fingerprint == index.fingerprint
    decoded = decode_files(index.root, index.members, workers=1)
    assert decoded.ok.all()


def test_special_entries_are_listed_so_that_decoding_reports_them(layout: Path) -> None:
    """A link loop made the listing raise; a FIFO or a folder was silently ignored."""
    images = layout / "train/n0100/images"
    (images / "loop.JPEG").symlink_to(images / "loop.JPEG")
    os.mkfifo(images / "pipe.JPEG")
    (images / "sub").mkdir()
    index = read_tiny_imagenet(layout)
    assert index.files[:4] == (
        "train/n0100/images/loop.JPEG", "train/n0100/images/n0100_0.JPEG",
        "train/n0100/images/n0100_1.JPEG", "train/n0100/images/pipe.JPEG")
