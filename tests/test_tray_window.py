"""The window process's set-up that needs no display: how WebKit is told to draw.

Where no GPU can render, OpenGL would be emulated on the CPU, so the window turns WebKit's
accelerated compositing off; the DJ's own setting of WebKit's switch always wins. That the
page process then really runs without GL is checked on the virtual desktop in
test_tray_gui.py.
"""

from __future__ import annotations

from pathlib import Path

from cuepoint_tray.tray.window import NO_COMPOSITING, webkit_environment


def test_without_a_render_node_compositing_is_turned_off(tmp_path: Path) -> None:
    no_gpu = tmp_path / "dri"
    no_gpu.mkdir()
    (no_gpu / "card0").touch()  # a display controller that cannot render: not a GPU for this
    assert webkit_environment({}, platform="linux", render_nodes=no_gpu) == {
        NO_COMPOSITING: "1"}
    assert webkit_environment({}, platform="linux", render_nodes=tmp_path / "absent") == {
        NO_COMPOSITING: "1"}


def test_with_a_render_node_webkit_keeps_its_own_choice(tmp_path: Path) -> None:
    (tmp_path / "renderD128").touch()
    assert webkit_environment({}, platform="linux", render_nodes=tmp_path) == {}


def test_the_djs_own_setting_is_kept_whatever_it_says(tmp_path: Path) -> None:
    for value in ("0", "1", ""):
        assert webkit_environment({NO_COMPOSITING: value}, platform="linux",
                                  render_nodes=tmp_path) == {}


def test_other_systems_are_left_alone(tmp_path: Path) -> None:
    for platform in ("darwin", "win32"):
        assert webkit_environment({}, platform=platform, render_nodes=tmp_path) == {}
