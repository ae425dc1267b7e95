"""The tray icon: the base image (package data: assets/tray/) with the state drawn over it.

- idle: the base image as it is;
- running: a green progress ring, clockwise from 12 o'clock, over a grey track;
- paused: the ring in blue and a blue pause badge;
- review: an amber "!" badge (the last session has tracks to review);
- error: a red "×" badge (the last session failed, or the XML cannot be read).

Everything is drawn at 4x and scaled down, so edges stay smooth at tray sizes.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable
from dataclasses import dataclass
from importlib.resources.abc import Traversable
from typing import Literal

from PIL import Image, ImageDraw

from cuepoint_tray.resources import TRAY_ICON, resource
from cuepoint_tray.tray.state import TrayState

log = logging.getLogger(__name__)

BASE_ICON: Traversable = resource(*TRAY_ICON)
SIZE = 64
_SCALE = 4

# Geometry as fractions of the icon's side; tests sample pixels with the same numbers.
RING_OUTER = 0.495
RING_WIDTH = 0.13
BADGE_CENTRE = (0.74, 0.74)
BADGE_RADIUS = 0.245
_BADGE_MARGIN = 0.045

Color = tuple[int, int, int, int]
TRACK: Color = (96, 100, 116, 255)
RUNNING: Color = (46, 204, 113, 255)
PAUSED: Color = (74, 144, 226, 255)
REVIEW: Color = (245, 166, 35, 255)
ERROR: Color = (220, 53, 69, 255)
GLYPH: Color = (255, 255, 255, 255)

GlyphDrawer = Callable[[ImageDraw.ImageDraw, float, float, float], None]
Kind = Literal["idle", "running", "paused", "review", "error"]


@dataclass(frozen=True)
class IconLook:
    kind: Kind = "idle"
    progress: float | None = None  # 0..1, a ring while a session runs or is paused


def icon_look(state: TrayState) -> IconLook:
    """What the icon should show for this state."""
    session = state.session
    progress = round(session.done / session.total, 2) if session.total else 0.0
    if session.phase == "paused":
        return IconLook("paused", progress)
    if session.busy:
        return IconLook("running", progress)
    if state.library.xml_set and state.library.xml_error:
        return IconLook("error")
    last = state.last
    if last is not None and not state.seen_last:
        if state.last_went_wrong:
            return IconLook("error")
        if last.review:
            return IconLook("review")
    return IconLook("idle")


def load_base_icon(path: Traversable = BASE_ICON) -> Image.Image:
    """The base image (scripts/make_tray_icon.py draws it), or a plain disc when it is gone
    (a damaged installation: said in the log, the app still runs)."""
    try:
        with path.open("rb") as handle, Image.open(handle) as image:
            return image.convert("RGBA")
    except OSError as exc:
        log.warning("the tray icon image %s cannot be read (%s): showing a plain disc",
                    path, exc)
        fallback = Image.new("RGBA", (SIZE * _SCALE,) * 2, (0, 0, 0, 0))
        ImageDraw.Draw(fallback).ellipse((8, 8, SIZE * _SCALE - 8, SIZE * _SCALE - 8),
                                         fill=(24, 178, 160, 255))
        return fallback


def draw_icon(base: Image.Image, look: IconLook, size: int = SIZE) -> Image.Image:
    """The icon for `look`, `size` pixels square."""
    big = size * _SCALE
    image = base.convert("RGBA").resize((big, big), Image.Resampling.LANCZOS)
    draw = ImageDraw.Draw(image)
    if look.progress is not None:
        _ring(draw, big, look.progress, PAUSED if look.kind == "paused" else RUNNING)
    if look.kind == "paused":
        _badge(draw, big, PAUSED, _pause_glyph)
    elif look.kind == "review":
        _badge(draw, big, REVIEW, _exclamation_glyph)
    elif look.kind == "error":
        _badge(draw, big, ERROR, _cross_glyph)
    return image.resize((size, size), Image.Resampling.LANCZOS)


def _ring(draw: ImageDraw.ImageDraw, big: int, progress: float, color: Color) -> None:
    outer = big * RING_OUTER
    width = round(big * RING_WIDTH)
    box = _box(big / 2, big / 2, outer)
    draw.ellipse(box, outline=TRACK, width=width)
    fraction = min(max(progress, 0.0), 1.0)
    if fraction > 0:
        # Pillow's angles run clockwise from 3 o'clock: start at 12.
        draw.arc(box, -90, -90 + 360 * fraction, fill=color, width=width)


def _badge(draw: ImageDraw.ImageDraw, big: int, color: Color, glyph: GlyphDrawer) -> None:
    cx, cy = BADGE_CENTRE[0] * big, BADGE_CENTRE[1] * big
    # A transparent margin separates the badge from the record under it.
    draw.ellipse(_box(cx, cy, big * (BADGE_RADIUS + _BADGE_MARGIN)), fill=(0, 0, 0, 0))
    draw.ellipse(_box(cx, cy, big * BADGE_RADIUS), fill=color)
    glyph(draw, cx, cy, big * BADGE_RADIUS)


def _pause_glyph(draw: ImageDraw.ImageDraw, cx: float, cy: float, radius: float) -> None:
    bar, height, gap = radius * 0.26, radius * 0.95, radius * 0.22
    for left in (cx - gap / 2 - bar, cx + gap / 2):
        draw.rounded_rectangle((left, cy - height / 2, left + bar, cy + height / 2),
                               radius=bar / 3, fill=GLYPH)


def _exclamation_glyph(draw: ImageDraw.ImageDraw, cx: float, cy: float, radius: float) -> None:
    bar = radius * 0.28
    draw.rounded_rectangle((cx - bar / 2, cy - radius * 0.62, cx + bar / 2, cy + radius * 0.18),
                           radius=bar / 2, fill=GLYPH)
    draw.ellipse(_box(cx, cy + radius * 0.46, bar * 0.6), fill=GLYPH)


def _cross_glyph(draw: ImageDraw.ImageDraw, cx: float, cy: float, radius: float) -> None:
    arm, width = radius * 0.45, round(radius * 0.26)
    for sign in (1, -1):
        draw.line((cx - arm, cy - sign * arm, cx + arm, cy + sign * arm), fill=GLYPH, width=width)


def _box(cx: float, cy: float, radius: float) -> tuple[float, float, float, float]:
    return (cx - radius, cy - radius, cx + radius, cy + radius)


def ring_point(size: int, clockwise_degrees: float) -> tuple[int, int]:
    """The pixel in the middle of the ring's width at this angle from 12 o'clock (for tests)."""
    radius = size * (RING_OUTER - RING_WIDTH / 2)
    angle = math.radians(clockwise_degrees)
    return (round(size / 2 + radius * math.sin(angle)), round(size / 2 - radius * math.cos(angle)))

