"""The tray icon, checked by its pixels: the ring covers the right share, badges have their
colour, and each state of the app picks the right look."""

from __future__ import annotations

from dataclasses import replace

import pytest
from PIL import Image

from cuepoint_tray.controller import QUIT_REASON, ControllerState, LastSession
from cuepoint_tray.tray.look import (
    BADGE_CENTRE,
    BADGE_RADIUS,
    BASE_ICON,
    ERROR,
    PAUSED,
    REVIEW,
    RUNNING,
    SIZE,
    TRACK,
    IconLook,
    draw_icon,
    icon_look,
    load_base_icon,
    ring_point,
)
from cuepoint_tray.tray.state import LibraryView, TrayState

Color = tuple[int, ...]


def near(pixel: Color, colour: Color, tolerance: int = 40) -> bool:
    return all(abs(a - b) <= tolerance for a, b in zip(pixel[:3], colour[:3], strict=True))


@pytest.fixture(scope="module")
def base() -> Image.Image:
    return load_base_icon()


def ring_colours(icon: Image.Image, degrees: range) -> list[Color]:
    return [icon.getpixel(ring_point(SIZE, angle)) for angle in degrees]  # type: ignore[misc]


def badge_pixel(icon: Image.Image) -> Color:
    """A pixel inside the badge, left of centre: clear of the ×, the ! and the pause bars."""
    x = round((BADGE_CENTRE[0] - BADGE_RADIUS * 0.7) * SIZE)
    return icon.getpixel((x, round(BADGE_CENTRE[1] * SIZE)))  # type: ignore[return-value]


def test_the_base_icon_is_a_committed_square_png() -> None:
    with Image.open(BASE_ICON) as image:
        assert image.format == "PNG" and image.mode == "RGBA"
        assert image.width == image.height >= 64
        assert image.getpixel((0, 0))[3] == 0  # transparent around the record


def test_idle_is_the_base_image(base: Image.Image) -> None:
    icon = draw_icon(base, IconLook())
    assert icon.size == (SIZE, SIZE) and icon.mode == "RGBA"
    expected = base.resize((SIZE * 4,) * 2, Image.Resampling.LANCZOS).resize(
        (SIZE, SIZE), Image.Resampling.LANCZOS)
    assert icon.tobytes() == expected.tobytes()


@pytest.mark.parametrize("progress", [0.25, 0.5, 0.75])
def test_the_progress_ring_covers_its_share_clockwise_from_twelve(base: Image.Image,
                                                                  progress: float) -> None:
    icon = draw_icon(base, IconLook("running", progress))
    end = round(360 * progress)
    done = ring_colours(icon, range(8, end - 7, 4))
    left = ring_colours(icon, range(end + 8, 353, 4))
    assert all(near(pixel, RUNNING) for pixel in done)
    assert all(near(pixel, TRACK) for pixel in left)


def test_an_empty_ring_and_a_full_ring(base: Image.Image) -> None:
    assert all(near(p, TRACK) for p in ring_colours(draw_icon(base, IconLook("running", 0.0)),
                                                   range(0, 360, 10)))
    assert all(near(p, RUNNING) for p in ring_colours(draw_icon(base, IconLook("running", 1.0)),
                                                     range(0, 360, 10)))


def test_paused_draws_a_blue_ring_and_a_pause_badge(base: Image.Image) -> None:
    icon = draw_icon(base, IconLook("paused", 0.5))
    assert all(near(p, PAUSED) for p in ring_colours(icon, range(8, 90, 4)))
    assert all(near(p, TRACK) for p in ring_colours(icon, range(200, 340, 4)))
    assert near(badge_pixel(icon), PAUSED)


@pytest.mark.parametrize(("kind", "colour"), [("error", ERROR), ("review", REVIEW)])
def test_badges_have_their_colour(base: Image.Image, kind: str, colour: Color) -> None:
    icon = draw_icon(base, IconLook(kind))  # type: ignore[arg-type]
    assert near(badge_pixel(icon), colour, tolerance=10)
    centre = icon.getpixel((round(BADGE_CENTRE[0] * SIZE), round(BADGE_CENTRE[1] * SIZE)))
    assert near(centre, (255, 255, 255), tolerance=60)  # the white glyph


def test_the_error_badge_is_red(base: Image.Image) -> None:
    red, green, blue, alpha = badge_pixel(draw_icon(base, IconLook("error")))
    assert red > 180 and green < 90 and blue < 100 and alpha == 255


def test_a_missing_base_image_still_gives_an_icon(tmp_path) -> None:
    fallback = load_base_icon(tmp_path / "gone.png")
    assert draw_icon(fallback, IconLook("running", 0.5)).size == (SIZE, SIZE)


READY = TrayState(library=LibraryView(xml_set=True))


@pytest.mark.parametrize(("state", "look"), [
    (READY, IconLook("idle")),
    (TrayState(), IconLook("idle")),  # first run: the window explains, no alarm
    (TrayState(library=LibraryView(xml_set=True, xml_error="bad XML")), IconLook("error")),
    (replace(READY, session=ControllerState(phase="running", done=5, total=20)),
     IconLook("running", 0.25)),
    (replace(READY, session=ControllerState(phase="starting")), IconLook("running", 0.0)),
    (replace(READY, session=ControllerState(phase="paused", done=1, total=3)),
     IconLook("paused", 0.33)),
    (replace(READY, seen_last=False, session=ControllerState(
        last=LastSession(1, "completed", tracks=3, matched=1, review=2))), IconLook("review")),
    (replace(READY, seen_last=True, session=ControllerState(
        last=LastSession(1, "completed", tracks=3, matched=1, review=2))), IconLook("idle")),
    (replace(READY, seen_last=False, session=ControllerState(
        last=LastSession(1, "failed", "Beatport is down"))), IconLook("error")),
    (replace(READY, seen_last=False, session=ControllerState(
        last=LastSession(1, "paused", "Beatport blocked the website"))), IconLook("error")),
    (replace(READY, seen_last=False, session=ControllerState(
        last=LastSession(1, "paused", QUIT_REASON))), IconLook("idle")),
])
def test_each_state_has_its_look(state: TrayState, look: IconLook) -> None:
    assert icon_look(state) == look
