"""The tray's GTK menu built a slice at a time (tray/pystray_menu.py `with_sliced_menu`): real
GTK on a virtual desktop, pystray's own GTK backends. The menu built in slices is the one
pystray builds whole, it is put in place only once whole (GTK's loop turns meanwhile), the
menu it replaces is taken apart, and its entries still post their intents."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from display_stack import DisplayStack, require_display_stack

from conftest import PROJECT_ROOT

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"),
                                reason="pystray's GTK backends are Linux's")

CHILD = r"""
import json, os, sys
import pystray
from gi.repository import GLib
from PIL import Image

from cuepoint_tray.tray.intents import Intent
from cuepoint_tray.tray.menu import SEPARATOR, MenuEntry
from cuepoint_tray.tray.pystray_menu import to_pystray_menu, with_sliced_menu

posted = []

def entries(renamed):
    folders = tuple(
        MenuEntry(f"Crates {f}", submenu=tuple(
            MenuEntry(f"Crate {f}-{n}{' (new)' if renamed and n == 7 else ''}  (12)",
                      Intent("choose_playlist", f"Crates {f}/Crate {f}-{n}"),
                      checked=(f, n) == (1, 3), radio=True, enabled=n != 5)
            for n in range(150)))
        for f in range(3))
    return (MenuEntry("Ready · 450 playlists in your XML", enabled=False), SEPARATOR,
            MenuEntry("Match “Crate 1-3”", Intent("match", "Crates 1/Crate 1-3"), default=True),
            MenuEntry("Choose playlist", submenu=folders), SEPARATOR,
            MenuEntry("Quit", Intent("quit")))

def shape(menu):
    out = []
    for item in menu.get_children():
        child = item.get_child()
        text = child.get_label() if child is not None and hasattr(child, "get_label") else ""
        sub = item.get_submenu()
        out.append({"type": type(item).__name__, "text": text,
                    "sensitive": item.get_sensitive(), "visible": item.get_visible(),
                    "active": item.get_active() if hasattr(item, "get_active") else None,
                    "radio": item.get_draw_as_radio() if hasattr(item, "get_draw_as_radio")
                    else None,
                    "submenu": shape(sub) if sub is not None else None})
    return out

Icon = with_sliced_menu(pystray.Icon)
icon = Icon("cuepoint-test", Image.new("RGBA", (16, 16)), "test")
context = GLib.MainContext.default()
first = to_pystray_menu(pystray, entries(False), posted.append)
whole = shape(icon._create_menu(first))  # what pystray builds in one go
shown = []
icon.menu_shown = shown.append
icon.menu = first
turns = 0
while getattr(icon, "_menu_handle", None) is None and turns < 100_000:
    context.iteration(False)
    turns += 1
built = icon._menu_handle
result = {"class": type(icon).__name__, "backend": os.environ["PYSTRAY_BACKEND"],
          "turns": turns, "same": shape(built) == whole, "items": len(json.dumps(whole)),
          "shown_first": shown == [first]}
second = to_pystray_menu(pystray, entries(True), posted.append)
icon.menu = second
while icon._menu_handle is built and turns < 200_000:
    context.iteration(False)
    turns += 1
result["renamed"] = "Crate 2-7 (new)  (12)" in json.dumps(shape(icon._menu_handle))
result["shown_second"] = shown == [first, second]
for _ in range(10_000):  # the old menu is taken apart on later turns
    if not context.iteration(False):
        break
result["old_left"] = len(built.get_children())
# A click on a playlist in the new menu posts its intent.
choose = icon._menu_handle.get_children()[3].get_submenu().get_children()[2]
choose.get_submenu().get_children()[7].activate()
for _ in range(100):
    context.iteration(False)
result["posted"] = [[i.action, i.argument] for i in posted]
print(json.dumps(result))
"""


@pytest.fixture(scope="module")
def desktop(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DisplayStack]:
    require_display_stack()
    with DisplayStack(tmp_path_factory.mktemp("desktop")).start() as stack:
        yield stack


@pytest.mark.parametrize("backend", ["gtk", "appindicator"])
def test_the_menu_built_in_slices_is_pystrays_and_put_in_place_whole(
        desktop: DisplayStack, backend: str, tmp_path: Path) -> None:
    env = desktop.child_env(PYSTRAY_BACKEND=backend, PYTHONPATH=str(PROJECT_ROOT))
    done = subprocess.run([sys.executable, "-c", CHILD], env=env, cwd=tmp_path,
                          capture_output=True, text=True, timeout=180, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["class"] == "SlicedIcon"
    assert result["same"], "the menu built in slices differs from pystray's own"
    assert result["turns"] > 1, "built in one turn of GTK's loop"
    assert result["shown_first"] and result["shown_second"]
    assert result["renamed"]
    assert result["old_left"] == 0, "the replaced menu was not taken apart"
    assert result["posted"] == [["choose_playlist", "Crates 2/Crate 2-7"]]
