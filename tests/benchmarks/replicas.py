"""Tiny benchmark replicas in each dataset's exact layout, and a fake encoder whose codes we choose.

Every replica image is painted in one flat colour that stands for an id (optionally with a box
of another colour, the query crop's); ``FakeEncoder`` reads the dominant colour of what it is
given (a file, or a crop) back to that id and returns the 2-d unit vector at the angle chosen
for it. Codes on the unit circle rank by angle, so every ranking, and every score, is known.
"""

from __future__ import annotations

import io
import pickle
import tarfile
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from neuralcodes.errors import DataError

SIZE = (64, 48)  # every replica image, w x h
BOX = (16, 16, 48, 40)  # the query box (x1, y1, x2, y2) painted in the query's colour


def colour(i: int) -> tuple[int, int, int]:
    return (16 * (i // 16) + 8, 16 * (i % 16) + 8, 128)


class Replica:
    """Writes replica images and remembers which angle each painted id stands for."""

    def __init__(self) -> None:
        self.angles: list[float] = []

    def _id(self, angle: float) -> int:
        self.angles.append(angle)
        return len(self.angles) - 1

    def image(self, path: Path, angle: float, box_angle: float | None = None) -> Path:
        """A flat image coding ``angle``; with ``box_angle``, BOX is painted coding that one."""
        pixels = np.zeros((SIZE[1], SIZE[0], 3), np.uint8)
        pixels[:] = colour(self._id(angle))
        if box_angle is not None:
            x1, y1, x2, y2 = BOX
            pixels[y1:y2, x1:x2] = colour(self._id(box_angle))
        path.parent.mkdir(parents=True, exist_ok=True)
        Image.fromarray(pixels).save(path, "JPEG", quality=95)
        return path

    def encoder(self) -> FakeEncoder:
        return FakeEncoder(self.angles)


class FakeEncoder:
    """An ``ImageEncoder`` whose code of an image is the unit vector of its painted angle."""

    layer = "fake"
    dim = 2

    def __init__(self, angles: list[float]) -> None:
        rad = np.deg2rad(np.asarray(angles, dtype=np.float64))
        self.table = np.stack([np.cos(rad), np.sin(rad)], axis=1).astype(np.float32)  # (n, 2)
        self.loaded: list[str] = []

    def load(self, src: str | Path | Image.Image) -> np.ndarray:
        try:
            img = src if isinstance(src, Image.Image) else Image.open(src)
        except OSError as e:
            raise DataError(str(src), f"cannot decode the image ({e})") from None
        self.loaded.append(str(getattr(img, "filename", "") or "<crop>"))
        q = np.asarray(img.convert("RGB"), dtype=np.int64)[..., :2] // 16  # (h, w, 2)
        key = np.bincount((q[..., 0] * 16 + q[..., 1]).ravel()).argmax()
        out = np.zeros((4, 4, 3), np.uint8)
        out[0, 0, 0] = key
        return out

    def encode(self, images: np.ndarray) -> np.ndarray:
        return self.table[images[:, 0, 0, 0].astype(np.int64)]

    def fingerprint(self) -> dict[str, Any]:
        return {"kind": "fake", "layer": self.layer}


def holidays(root: Path, rep: Replica) -> Path:
    """3 groups: 1000 (3 images), 1001 (2), 1002 (3); angles chosen in test_scores_by_hand."""
    for name, angle in {"100000": 0, "100001": 10, "100002": 47, "100100": 30, "100101": 100,
                        "100200": 205, "100201": 170, "100202": 255}.items():
        rep.image(root / "jpg" / f"{name}.jpg", angle)
    return root


def ukbench(root: Path, rep: Replica) -> Path:
    for i, angle in enumerate([0, 20, 95, 60, 45, 180, 200, 225]):
        rep.image(root / "full" / f"ukbench{i:05d}.jpg", angle)
    return root


def oxford(root: Path, rep: Replica) -> Path:
    """7 images, 2 queries: all_souls_1 (crop coding 5 deg) and ashmolean_1 (138 deg)."""
    jpg = root / "jpg"
    rep.image(jpg / "all_souls_000001.jpg", 0, box_angle=5)
    for name, angle in {"all_souls_000002": 20, "all_souls_000003": 40, "oxford_000001": 60,
                        "ashmolean_000002": 130, "oxford_000002": 150}.items():
        rep.image(jpg / f"{name}.jpg", angle)
    rep.image(jpg / "ashmolean_000001.jpg", 100, box_angle=138)
    gt = {"all_souls_1": ("oxc1_all_souls_000001", ["all_souls_000001", "all_souls_000002"],
                          ["ashmolean_000002"], ["all_souls_000003"]),
          "ashmolean_1": ("oxc1_ashmolean_000001", ["ashmolean_000001", "ashmolean_000002"],
                          [], [])}
    write_gt(root / "gt", gt)
    return root


def paris(root: Path, rep: Replica) -> Path:
    """4 images (+1 corrupt one, left out), 1 query; its good list names an absent image."""
    jpg = root / "jpg" / "paris"
    rep.image(jpg / "defense" / "paris_defense_000001.jpg", 0, box_angle=5)
    rep.image(jpg / "defense" / "paris_defense_000002.jpg", 30)
    rep.image(jpg / "eiffel" / "paris_eiffel_000001.jpg", 15)
    rep.image(jpg / "general" / "paris_general_000001.jpg", 60)
    (jpg / "eiffel" / "paris_eiffel_000009.jpg").write_bytes(b"not a jpeg")
    (root / "corrupt.txt").write_text("eiffel/paris_eiffel_000009.jpg\n"
                                      "defense/paris_defense_000009.jpg\n")
    write_gt(root / "gt", {"defense_1": ("paris_defense_000001",
                                         ["paris_defense_000001", "paris_defense_000009"],
                                         ["paris_defense_000002"], [])})
    return root


def write_gt(gt: Path, queries: dict[str, tuple[str, list[str], list[str], list[str]]]) -> None:
    gt.mkdir(parents=True, exist_ok=True)
    for q, (image, good, ok, junk) in queries.items():
        (gt / f"{q}_query.txt").write_text(f"{image} {BOX[0]}.0 {BOX[1]}.0 {BOX[2]}.0 "
                                           f"{BOX[3]}.0\n")
        for kind, names in (("good", good), ("ok", ok), ("junk", junk)):
            (gt / f"{q}_{kind}.txt").write_text("".join(f"{n}\n" for n in names))


REVISITED_DB = {"all_souls_000010": 10, "all_souls_000011": 80, "ashmolean_000010": 50,
                "christ_church_000010": 20, "oxford_000010": 40}


def roxford(root: Path, rep: Replica, gnd: dict[str, Any] | None = None) -> Path:
    """5 database images, 2 queries (crops coding 0 and 62 deg) outside the database."""
    for name, angle in REVISITED_DB.items():
        rep.image(root / "jpg" / f"{name}.jpg", angle)
    rep.image(root / "jpg" / "all_souls_000001.jpg", 300, box_angle=0)
    rep.image(root / "jpg" / "ashmolean_000001.jpg", 300, box_angle=62)
    write_pickle(root / "gnd_roxford5k.pkl", gnd or roxford_gnd())
    return root


def roxford_gnd() -> dict[str, Any]:
    box = np.array(BOX, dtype=np.float64)
    return {"imlist": list(REVISITED_DB), "qimlist": ["all_souls_000001", "ashmolean_000001"],
            "gnd": [{"bbx": box, "easy": np.array([0]), "hard": np.array([1]),
                     "junk": np.array([3])},
                    {"bbx": list(BOX), "easy": [2], "hard": [], "junk": []}]}


def write_pickle(path: Path, obj: Any) -> Path:
    path.write_bytes(pickle.dumps(obj, protocol=3))  # revisitop's files: Python 3 pickles
    return path


def tar_gz(members: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tf:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tf.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def zip_bytes(members: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return buf.getvalue()
