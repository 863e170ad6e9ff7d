from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from neuralcodes.data.decode import decode_files
from neuralcodes.data.tinyimagenet import read_tiny_imagenet
from neuralcodes.progress import Recorder

from .helpers import encode, pattern


def _write(folder: Path, files: dict[str, bytes]) -> list[str]:
    folder.mkdir(parents=True, exist_ok=True)
    for name, data in files.items():
        (folder / name).write_bytes(data)
    return list(files)


def _mean_abs(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.abs(a.astype(np.int32) - b.astype(np.int32)).mean())


def test_jpeg_grayscale_cmyk_and_png(tmp_path: Path) -> None:
    img = pattern()
    png = encode(img, "PNG")
    names = _write(
        tmp_path,
        {
            "rgb.JPEG": encode(img, quality=95),
            "gray.JPEG": encode(img, mode="L", quality=95),
            "cmyk.JPEG": encode(img, mode="CMYK", quality=95),
            "png_named_jpeg.JPEG": png,
            "real.png": png,
        },
    )
    out = decode_files(tmp_path, names, workers=1)
    assert out.images.shape == (5, 64, 64, 3) and out.images.dtype == np.uint8
    assert out.ok.all() and not out.skipped
    rgb, gray, cmyk, png1, png2 = out.images
    assert _mean_abs(rgb, img) < 3
    expected_gray = np.asarray(Image.fromarray(img).convert("L"))
    assert (gray[..., 0] == gray[..., 1]).all() and (gray[..., 1] == gray[..., 2]).all()
    assert _mean_abs(gray[..., 0], expected_gray) < 3
    assert _mean_abs(cmyk, img) < 4
    np.testing.assert_array_equal(png1, img)  # lossless
    np.testing.assert_array_equal(png2, img)
    assert [(w.index, w.problem) for w in out.warnings] == [
        (3, "PNG image, not JPEG"),
        (4, "PNG image, not JPEG"),
    ]
    assert out.warnings[0].path == str(tmp_path / "png_named_jpeg.JPEG")


def test_corrupt_and_truncated_are_skipped_not_fatal(tmp_path: Path) -> None:
    good = encode(pattern(), quality=90)
    names = _write(
        tmp_path,
        {
            "a.JPEG": good,
            "corrupt.JPEG": good[:20] + bytes(range(256)) * 8,
            "truncated.JPEG": good[: len(good) // 2],
            "empty.JPEG": b"",
            "b.JPEG": good,
        },
    )
    recorder = Recorder()
    out = decode_files(tmp_path, names, workers=1, progress=recorder)
    np.testing.assert_array_equal(out.ok, [True, False, False, False, True])
    assert [p.path for p in out.skipped] == [str(tmp_path / n) for n in names[1:4]]
    assert all(p.problem.startswith("unreadable image") for p in out.skipped)
    assert not out.images[1:4].any()  # skipped rows are zero
    np.testing.assert_array_equal(out.images[0], out.images[4])
    assert any("truncated.JPEG" in m and m.startswith("skipped") for m in recorder.messages)


def test_other_sizes_are_resized_and_reported(tmp_path: Path) -> None:
    names = _write(
        tmp_path,
        {"big.JPEG": encode(pattern(80, 70)), "small.JPEG": encode(pattern(32, 40))},
    )
    out = decode_files(tmp_path, names, size=64, workers=1)
    assert out.ok.all() and out.images.shape == (2, 64, 64, 3)
    assert [w.problem for w in out.warnings] == [
        "resized from 70x80 to 64x64",
        "resized from 40x32 to 64x64",
    ]
    assert out.images[0].std() > 10  # real content, not zeros


def test_process_pool_into_file_matches_in_process(tiny_dataset: Path, tmp_path: Path) -> None:
    index = read_tiny_imagenet(tiny_dataset)
    serial = decode_files(index.root, index.members, workers=1)
    pooled = decode_files(index.root, index.members, workers=2, chunk=37, out=tmp_path / "x.npy")
    assert isinstance(pooled.images, np.memmap) and not pooled.images.flags.writeable
    assert serial.ok.all() and pooled.ok.all() and not pooled.problems
    np.testing.assert_array_equal(np.asarray(pooled.images), serial.images)
    in_memory = decode_files(index.root, index.members, workers=2, chunk=50)
    assert not isinstance(in_memory.images, np.memmap)
    np.testing.assert_array_equal(in_memory.images, serial.images)


def test_pool_reports_bad_files_with_global_index(tmp_path: Path) -> None:
    good = encode(pattern(), quality=90)
    files = {f"{i:03d}.JPEG": good for i in range(30)}
    files["017.JPEG"] = good[:100]
    names = _write(tmp_path, files)
    out = decode_files(tmp_path, names, workers=2, chunk=8, out=tmp_path / "o.npy")
    assert [(p.index, p.path) for p in out.skipped] == [(17, str(tmp_path / "017.JPEG"))]
    assert out.ok.sum() == 29


@pytest.mark.parametrize("workers", [1, 2])
def test_missing_file_is_reported(tmp_path: Path, workers: int) -> None:
    names = _write(tmp_path, {"a.JPEG": encode(pattern())}) + ["gone.JPEG"]
    out = decode_files(tmp_path, names, workers=workers, chunk=1)
    assert out.ok.tolist() == [True, False]
    assert out.skipped[0].problem == "unreadable image: No such file or directory"


def test_workers_are_safe_when_threads_are_running(tmp_path: Path) -> None:
    """With other threads alive, a bare fork is unsafe: the pool never forks this process (its
    workers come from the fork server, or are spawned), and the result is the same."""
    import threading

    from neuralcodes.images.pool import start_method

    stop = threading.Event()
    thread = threading.Thread(target=stop.wait, daemon=True)
    thread.start()
    try:
        assert start_method() in ("forkserver", "spawn")
        names = _write(tmp_path, {f"{i}.JPEG": encode(pattern(seed=i)) for i in range(6)})
        out = decode_files(tmp_path, names, workers=2, chunk=3, out=tmp_path / "o.npy")
    finally:
        stop.set()
        thread.join()
    assert out.ok.all()
    np.testing.assert_array_equal(
        np.asarray(out.images), decode_files(tmp_path, names, workers=1).images
    )


def test_no_files() -> None:
    out = decode_files(None, [], size=32)
    assert out.images.shape == (0, 32, 32, 3) and out.ok.shape == (0,) and out.problems == ()
