"""Draw the tray's base icon: a record seen from above with an orange cue marker.

    python scripts/make_tray_icon.py [--out cuepoint_tray/assets/tray/cuepoint.png] [--size 256]

The tray draws its state (progress ring, pause, review and error badges) over this image at
run time (`cuepoint_tray/tray/look.py`), so the file holds only the calm, idle picture.
Drawn at 4x and scaled down, so the edges are smooth at every size a tray asks for.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from PIL import Image, ImageDraw

RECORD = (28, 30, 38, 255)
GROOVE = (58, 62, 76, 255)
LABEL = (24, 178, 160, 255)  # teal, CuePoint's colour
SPINDLE = (28, 30, 38, 255)
CUE = (255, 138, 0, 255)  # the orange of a CDJ's cue button


def draw_base_icon(size: int) -> Image.Image:
    """The base icon, `size` pixels square, transparent outside the record."""
    big = size * 4
    image = Image.new("RGBA", (big, big), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    centre = big / 2
    _disc(draw, centre, big * 0.47, RECORD)
    for radius in (0.42, 0.37, 0.32):  # grooves
        _ring(draw, centre, big * radius, max(2, big // 128), GROOVE)
    _disc(draw, centre, big * 0.19, LABEL)
    _disc(draw, centre, big * 0.045, SPINDLE)
    # The cue marker: a triangle pointing at the label from 12 o'clock, over the grooves.
    half = big * 0.085
    top = centre - big * 0.455
    draw.polygon([(centre - half, top), (centre + half, top), (centre, top + big * 0.20)],
                 fill=CUE)
    return image.resize((size, size), Image.Resampling.LANCZOS)


def _disc(draw: ImageDraw.ImageDraw, centre: float, radius: float,
          fill: tuple[int, int, int, int]) -> None:
    draw.ellipse((centre - radius, centre - radius, centre + radius, centre + radius), fill=fill)


def _ring(draw: ImageDraw.ImageDraw, centre: float, radius: float, width: int,
          fill: tuple[int, int, int, int]) -> None:
    draw.ellipse((centre - radius, centre - radius, centre + radius, centre + radius),
                 outline=fill, width=width)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    # Written into the source tree: the icon ships as package data of cuepoint_tray.
    default_out = (Path(__file__).resolve().parent.parent / "cuepoint_tray" / "assets" / "tray"
                   / "cuepoint.png")
    parser.add_argument("--out", type=Path, default=default_out)
    parser.add_argument("--size", type=int, default=256)
    args = parser.parse_args()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    draw_base_icon(args.size).save(args.out, optimize=True)
    print(args.out)


if __name__ == "__main__":
    main()
