"""Writes a synthetic dataset in exactly the Tiny ImageNet layout, for tests and CPU-sized runs.

Each class is a combination of shared primitives: a shape (circle, square, triangle, ...), a fill
texture (solid, stripes, dots, checker), a colour family and a layout (one large object, two medium,
three small). Out-of-domain classes are therefore new combinations of primitives seen in training,
so features learned on some classes transfer to others, as with real images. Every image adds
jitter: position, scale, rotation, colour, texture frequency and phase, a random background colour
with a smooth gradient, clutter strokes, sensor noise, JPEG quality, and a few grayscale files. The
class is in the shapes and textures, not in the raw pixels, so pixel-space retrieval is much worse
than codes from a trained ConvNet.
"""

from __future__ import annotations

import io
import itertools
import json
import math
from pathlib import Path

import numpy as np

from neuralcodes.artifacts import atomic_folder
from neuralcodes.errors import ConfigError, DataError

SHAPES = ("circle", "square", "triangle", "cross", "ring", "diamond", "star", "bar")
FILLS = ("solid", "striped", "dotted", "checkered")
COLOURS = {"red": 0.0, "yellow": 0.15, "green": 0.33, "cyan": 0.5, "blue": 0.64, "magenta": 0.83}
LAYOUTS = {"one": (1, 0.30, 0.40), "two": (2, 0.19, 0.25), "three": (3, 0.14, 0.18)}  # n, r range
MARKER = "synthetic.json"


def make_synthetic(
    root: str | Path,
    *,
    n_classes: int = 40,
    per_class: int = 60,
    size: int = 64,
    seed: int = 0,
    grayscale_fraction: float = 0.02,
    overwrite: bool = False,
) -> Path:
    """Write ``root/tiny-imagenet-200`` (train/, wnids.txt, words.txt) and return its path.

    Deterministic under ``seed``. An existing folder written with the same parameters is reused; one
    written otherwise is an error unless ``overwrite``. Written to a temporary folder, then renamed.
    """
    params: dict[str, object] = {
        "n_classes": n_classes,
        "per_class": per_class,
        "size": size,
        "seed": seed,
        "grayscale_fraction": grayscale_fraction,
        "version": 1,
    }
    _validate(n_classes, per_class, size, grayscale_fraction)
    root = Path(root)
    final = root / "tiny-imagenet-200"
    if final.exists():
        if _marker(final) == params:
            return final
        if not overwrite:
            raise DataError(final, "exists and was not written with these parameters (overwrite?)")
    with atomic_folder(final) as tmp:
        _write_dataset(tmp, params)
    return final


def class_recipes(n_classes: int, seed: int) -> list[tuple[str, str, str, str]]:
    """``n_classes`` distinct (shape, fill, colour, layout) combinations, drawn under ``seed``."""
    combos = list(itertools.product(SHAPES, FILLS, COLOURS, LAYOUTS))
    rng = np.random.default_rng([seed, 1])
    return [combos[i] for i in rng.choice(len(combos), n_classes, replace=False)]


def _validate(n_classes: int, per_class: int, size: int, grayscale_fraction: float) -> None:
    n_max = len(SHAPES) * len(FILLS) * len(COLOURS) * len(LAYOUTS)
    if not 1 <= n_classes <= n_max:
        raise ConfigError(f"synthetic n_classes must be in 1..{n_max}, got {n_classes}")
    if per_class < 1:
        raise ConfigError(f"synthetic per_class must be at least 1, got {per_class}")
    if size < 16:
        raise ConfigError(f"synthetic image size must be at least 16, got {size}")
    if not 0.0 <= grayscale_fraction <= 1.0:
        raise ConfigError(f"grayscale_fraction must be in [0, 1], got {grayscale_fraction}")


def _marker(folder: Path) -> object:
    try:
        return json.loads((folder / MARKER).read_text())
    except (OSError, ValueError):
        return None


def _write_dataset(folder: Path, params: dict[str, object]) -> None:
    n, per, size, seed = (int(params[k]) for k in ("n_classes", "per_class", "size", "seed"))  # type: ignore[call-overload]
    rng = np.random.default_rng([seed, 0])
    wnids = [f"n{x:08d}" for x in sorted(rng.choice(90_000_000, n, replace=False) + 1_000_000)]
    recipes = class_recipes(n, seed)
    total = n * per
    frac = float(params["grayscale_fraction"])  # type: ignore[arg-type]
    n_gray = 0 if frac == 0 else max(1, round(total * frac))
    gray = set(rng.choice(total, n_gray, replace=False).tolist())
    for k, (wnid, recipe) in enumerate(zip(wnids, recipes, strict=True)):
        images = folder / "train" / wnid / "images"
        images.mkdir(parents=True)
        boxes = []
        for i in range(per):
            img_rng = np.random.default_rng([seed, 2, k, i])
            pixels, box = render(recipe, size, img_rng)
            name = f"{wnid}_{i}.JPEG"
            (images / name).write_bytes(_jpeg(pixels, k * per + i in gray, img_rng))
            boxes.append(f"{name}\t" + "\t".join(str(v) for v in box))
        (folder / "train" / wnid / f"{wnid}_boxes.txt").write_text("\n".join(boxes) + "\n")
    _write_text_files(folder, wnids, recipes, rng)
    (folder / MARKER).write_text(json.dumps(params, indent=2) + "\n")


def _write_text_files(
    folder: Path,
    wnids: list[str],
    recipes: list[tuple[str, str, str, str]],
    rng: np.random.Generator,
) -> None:
    """wnids.txt (unsorted, like the real one) and words.txt with extra unrelated synsets."""
    order = rng.permutation(len(wnids))
    (folder / "wnids.txt").write_text("".join(f"{wnids[i]}\n" for i in order))
    words = {w: f"{c} {f} {s}, {lay}" for w, (s, f, c, lay) in zip(wnids, recipes, strict=True)}
    for j, x in enumerate(rng.choice(1_000_000, 3 * len(wnids) + 5, replace=False)):
        words.setdefault(f"n{x:08d}", f"unrelated synset {j}, other entity")
    lines = [f"{w}\t{d}\n" for w, d in sorted(words.items())]
    (folder / "words.txt").write_text("".join(lines))


def render(
    recipe: tuple[str, str, str, str], size: int, rng: np.random.Generator
) -> tuple[np.ndarray, tuple[int, int, int, int]]:
    """An image (S, S, 3) uint8 of a class recipe and its first object's box (x0, y0, x1, y1)."""
    from PIL import Image, ImageDraw

    shape, fill, colour, layout = recipe
    count, r_lo, r_hi = LAYOUTS[layout]
    img = _background(size, rng)  # (S, S, 3) float in [0, 1]
    mask_im = Image.new("L", (size, size), 0)
    draw = ImageDraw.Draw(mask_im)
    box = (0, 0, 0, 0)
    for j in range(count):
        r = rng.uniform(r_lo, r_hi) * size
        cx, cy = rng.uniform(r + 1, size - r - 1, 2)
        _draw_shape(draw, shape, cx, cy, r, rng.uniform(0, 2 * math.pi))
        if j == 0:
            box = (int(cx - r), int(cy - r), int(math.ceil(cx + r)), int(math.ceil(cy + r)))
    mask = np.asarray(mask_im, np.float32)[..., None] / 255.0  # (S, S, 1)
    img = img * (1 - mask) + _texture(fill, colour, size, rng) * mask
    img += rng.normal(0, rng.uniform(0.0, 0.05), img.shape)
    return (np.clip(img, 0, 1) * 255 + 0.5).astype(np.uint8), box


def _background(size: int, rng: np.random.Generator) -> np.ndarray:
    """A random colour with a smooth random field and clutter strokes: (S, S, 3) float."""
    from PIL import Image, ImageDraw

    coarse = (rng.uniform(0.15, 0.85, 3) + rng.uniform(-0.2, 0.2, (4, 4, 3))).clip(0, 1)
    im = Image.fromarray((coarse * 255).astype(np.uint8)).resize(
        (size, size), Image.Resampling.BILINEAR
    )
    draw = ImageDraw.Draw(im)
    for _ in range(int(rng.integers(2, 7))):
        x0, y0, x1, y1 = (int(v) for v in rng.integers(0, size, 4))
        rgb = tuple(int(v) for v in rng.integers(0, 256, 3))
        if rng.random() < 0.5:
            draw.line((x0, y0, x1, y1), fill=rgb, width=int(rng.integers(1, 3)))
        else:
            draw.ellipse((min(x0, x1), min(y0, y1), min(x0, x1) + 6, min(y0, y1) + 4), fill=rgb)
    return np.asarray(im, np.float32) / 255.0


def _texture(fill: str, colour: str, size: int, rng: np.random.Generator) -> np.ndarray:
    """The class's fill texture in its colour family, with random phase, angle and period."""
    import colorsys

    hue = (COLOURS[colour] + rng.normal(0, 0.025)) % 1.0
    fg = np.array(
        colorsys.hsv_to_rgb(hue, rng.uniform(0.6, 1.0), rng.uniform(0.6, 1.0)), np.float32
    )
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float32)  # (S, S)
    a, period = rng.uniform(0, math.pi), rng.uniform(0.08, 0.13) * size
    u = (xx * math.cos(a) + yy * math.sin(a)) / period + rng.uniform(0, 1)
    v = (-xx * math.sin(a) + yy * math.cos(a)) / period + rng.uniform(0, 1)
    if fill == "striped":
        t = np.floor(2 * u) % 2
    elif fill == "dotted":
        t = (((u % 1) - 0.5) ** 2 + ((v % 1) - 0.5) ** 2 < 0.09).astype(np.float32)
    elif fill == "checkered":
        t = (np.floor(u) + np.floor(v)) % 2
    else:
        t = np.zeros_like(u)
    return fg * (1 - 0.65 * t[..., None])  # (S, S, 3)


def _draw_shape(draw: object, shape: str, cx: float, cy: float, r: float, angle: float) -> None:
    d = draw  # PIL.ImageDraw.ImageDraw; typed loosely to keep Pillow a lazy import
    if shape == "circle":
        d.ellipse((cx - r, cy - r, cx + r, cy + r), fill=255)  # type: ignore[attr-defined]
    elif shape == "ring":
        d.ellipse((cx - r, cy - r, cx + r, cy + r), outline=255, width=max(2, int(r * 0.35)))  # type: ignore[attr-defined]
    elif shape == "cross":
        d.polygon(_poly([(-1, -0.3), (1, -0.3), (1, 0.3), (-1, 0.3)], cx, cy, r, angle), fill=255)  # type: ignore[attr-defined]
        d.polygon(_poly([(-0.3, -1), (0.3, -1), (0.3, 1), (-0.3, 1)], cx, cy, r, angle), fill=255)  # type: ignore[attr-defined]
    else:
        d.polygon(_poly(_OUTLINES[shape], cx, cy, r, angle), fill=255)  # type: ignore[attr-defined]


_STAR = [
    (math.cos(math.pi / 2 + k * math.pi / 5) * (1 if k % 2 == 0 else 0.45),
     -math.sin(math.pi / 2 + k * math.pi / 5) * (1 if k % 2 == 0 else 0.45))
    for k in range(10)
]  # fmt: skip
_OUTLINES: dict[str, list[tuple[float, float]]] = {
    "square": [(-0.75, -0.75), (0.75, -0.75), (0.75, 0.75), (-0.75, 0.75)],
    "triangle": [(0, -1), (0.87, 0.5), (-0.87, 0.5)],
    "diamond": [(0, -1), (0.6, 0), (0, 1), (-0.6, 0)],
    "star": _STAR,
    "bar": [(-1, -0.22), (1, -0.22), (1, 0.22), (-1, 0.22)],
}


def _poly(
    points: list[tuple[float, float]], cx: float, cy: float, r: float, angle: float
) -> list[tuple[float, float]]:
    c, s = math.cos(angle), math.sin(angle)
    return [(cx + r * (x * c - y * s), cy + r * (x * s + y * c)) for x, y in points]


def _jpeg(pixels: np.ndarray, grayscale: bool, rng: np.random.Generator) -> bytes:
    from PIL import Image

    im = Image.fromarray(pixels)
    if grayscale:
        im = im.convert("L")
    buf = io.BytesIO()
    im.save(buf, "JPEG", quality=int(rng.integers(60, 96)))
    return buf.getvalue()
