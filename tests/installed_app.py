"""Checks shared by the tests of installed and frozen CuePoint (test_install_wheel.py,
test_bundle.py): the dashboard served by a `cuepoint` program, and the tray's docked icon.

- `DashboardProcess` starts `cuepoint dashboard --no-window` and reads its address;
- `crawl_dashboard` fetches index.html and follows what the pages load: stylesheets, the
  module graph of web/js (static and dynamic imports) and the scripts they add by address
  (plotly.min.js);
- `icon_distance` compares a screenshot of the docked icon with an icon image;
- `tray_first_run` starts a `cuepoint-tray` program on a virtual desktop and reports what a
  DJ sees: the docked icon (against the real icon and the plain-disc fallback) and the
  first-run window with its page drawn.
"""

from __future__ import annotations

import re
import signal
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit

import requests

ADDRESS = re.compile(r"Dashboard: (http://127\.0\.0\.1:\d+)/#/\w+\?token=(\S+)")
# import x from "…" / import "…" / export … from "…" / import("…"), and addresses of scripts
# and stylesheets a module writes itself ("/plotly.min.js").
JS_REFERENCES = re.compile(
    r"""(?:\bimport\s*(?:[\w*{}\s,$]+\bfrom\s*)?|\bexport\s+[\w*{}\s,$]+\bfrom\s*|\bimport\s*\(\s*)
        ["']([^"']+)["']
      | ["'](/[\w./-]+\.(?:js|css))["']""", re.VERBOSE)
CSS_REFERENCES = re.compile(r"""url\(\s*["']?([^"')]+)["']?\s*\)|@import\s+["']([^"']+)["']""")
TYPES = {".html": "text/html", ".css": "text/css", ".js": "javascript", ".json": "json",
         ".png": "image/png", ".svg": "image/svg"}


@dataclass(frozen=True)
class Fetched:
    path: str
    status: int
    content_type: str
    size: int


class _PageLinks(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.found: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "script" and values.get("src"):
            self.found.append(str(values["src"]))
        elif tag == "link" and values.get("href") and not str(values["href"]).startswith("data:"):
            self.found.append(str(values["href"]))
        elif tag == "img" and values.get("src") and not str(values["src"]).startswith("data:"):
            self.found.append(str(values["src"]))


def crawl_dashboard(base: str) -> dict[str, Fetched]:
    """Every file the dashboard's pages load, from index.html on, by path: what was served."""
    session = requests.Session()
    seen: dict[str, Fetched] = {}
    queue = [base + "/"]
    while queue:
        url = queue.pop()
        path = urlsplit(url).path
        if path in seen:
            continue
        answer = session.get(url, timeout=10)
        seen[path] = Fetched(path, answer.status_code, answer.headers.get("Content-Type", ""),
                             len(answer.content))
        if answer.status_code != 200:
            continue
        text = answer.content.decode("utf-8", errors="replace")
        if path == "/" or path.endswith(".html"):
            parser = _PageLinks()
            parser.feed(text)
            links = parser.found
        elif path.endswith(".css"):
            links = [a or b for a, b in CSS_REFERENCES.findall(text)]
        elif path.endswith(".js") and path != "/plotly.min.js":
            links = [a or b for a, b in JS_REFERENCES.findall(text)]
        else:
            links = []
        for link in links:
            target = urljoin(url, link)
            if urlsplit(target).netloc == urlsplit(base).netloc:
                queue.append(target.split("#")[0].split("?")[0])
    return seen


def fetch(base: str, paths: list[str]) -> dict[str, Fetched]:
    """These paths of the dashboard, fetched: what was served."""
    found = {}
    for path in paths:
        answer = requests.get(base + path, timeout=10)
        found[path] = Fetched(path, answer.status_code, answer.headers.get("Content-Type", ""),
                              len(answer.content))
    return found


def served_wrongly(files: dict[str, Fetched]) -> list[str]:
    """The files that were not served as they should be (status, type, empty body)."""
    wrong = []
    for path, fetched in files.items():
        suffix = ".html" if path == "/" else Path(path).suffix
        expected = TYPES.get(suffix, "")
        if fetched.status != 200 or expected not in fetched.content_type or not fetched.size:
            wrong.append(f"{path}: {fetched.status} {fetched.content_type} {fetched.size} bytes")
    return wrong


class DashboardProcess:
    """`<cuepoint> dashboard --no-window` in a subprocess; its address once it prints it."""

    def __init__(self, command: list[str], *, cwd: Path, env: dict[str, str],
                 log: Path) -> None:
        self.command = [*command, "dashboard", "--no-window", "--port", "0"]
        self.cwd, self.env, self.log = cwd, env, log
        self.base = ""
        self.token = ""

    @contextmanager
    def running(self, timeout: float = 60) -> Iterator[DashboardProcess]:
        process = subprocess.Popen(self.command, cwd=self.cwd, env=self.env,
                                   stdout=subprocess.PIPE, stderr=self.log.open("wb"),
                                   text=True)
        try:
            assert process.stdout is not None
            first = process.stdout.readline()  # blocks until the server has its port
            found = ADDRESS.search(first)
            if not found:
                process.kill()
                raise AssertionError(f"the dashboard printed {first!r}; its errors: "
                                     f"{self.log.read_text(errors='replace')[-2000:]}")
            self.base, self.token = found.group(1), found.group(2)
            yield self
        finally:
            process.terminate()
            try:
                process.wait(timeout)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(10)

    def api(self, path: str) -> Any:
        answer = requests.get(self.base + path, timeout=10,
                              headers={"Authorization": f"Bearer {self.token}"})
        answer.raise_for_status()
        return answer.json()


def icon_distance(shot: Any, icon: Any) -> float:
    """How far a screenshot of the docked icon is from `icon` (an RGBA image): the mean
    difference per channel (0–255) at the best of the sizes and offsets a tray might draw it
    at, over the tray's own background."""
    from PIL import Image, ImageChops, ImageStat

    shot = shot.convert("RGB")
    width, height = shot.size
    background = shot.getpixel((0, 0))
    best = 255.0
    for side in range(min(width, height) - 4, max(width, height) + 3):
        scaled = icon.convert("RGBA").resize((side, side), Image.Resampling.LANCZOS)
        for dx in range(-2, 3):
            for dy in range(-2, 3):
                canvas = Image.new("RGB", (width, height), background)
                canvas.paste(scaled, ((width - side) // 2 + dx, (height - side) // 2 + dy),
                             scaled)
                difference = ImageStat.Stat(ImageChops.difference(shot, canvas)).mean
                best = min(best, sum(difference) / 3)
    return best


@dataclass(frozen=True)
class TrayLook:
    to_real_icon: float  # icon_distance of the docked icon from the real icon
    to_plain_disc: float  # ... and from the plain disc shown when the image is missing
    log: str  # the app's log file after it quit


def tray_first_run(desktop: Any, program: Path, data: Path, *, cwd: Path, env: dict[str, str],
                   name: str) -> TrayLook:
    """Start `program` (a cuepoint-tray) on `desktop` with a fresh data folder: wait for its
    icon and for the first-run window (Settings, the XML not set yet) to draw its page,
    screenshot both (/tmp/shots/tray-<name>-*.png), quit it as logging out does (SIGTERM)."""
    from display_stack import wait_until
    from PIL import Image

    from cuepoint_tray.tray.look import IconLook, draw_icon, load_base_icon

    app = subprocess.Popen([str(program), "--data-dir", str(data)], cwd=cwd, env=env,
                           stdout=(data.parent / f"{name}.out").open("wb"),
                           stderr=subprocess.STDOUT)
    shot = data.parent / f"{name}-icon.png"
    log = data / "logs" / "cuepoint.log"
    try:
        icon = wait_until(desktop.tray_icon, 60, "the tray icon to dock")

        def grabbed() -> Any:  # GTK paints the icon a moment after docking it
            desktop.x(["import", "-window", icon, str(shot)])
            if not shot.exists():
                return None
            with Image.open(shot) as image:
                grab = image.convert("RGB")
            return grab if len(grab.getcolors(4096) or range(4097)) > 8 else None

        docked = wait_until(grabbed, 30, "the icon to be painted")
        x, y, w, h = desktop.geometry(icon)
        desktop.screenshot(f"{name}-icon", crop=(max(x - 24, 0), 0, w + 30, y + h + 4))
        window = wait_until(lambda: desktop.visible_window("CuePoint Tray"), 60, "the window")
        wait_until(lambda: desktop.painted(window), 30, "the window to draw its page")
        desktop.screenshot(f"{name}-window")
        # WebKit may paint before pywebview reports the page loaded: quit only once it has
        wait_until(lambda: "window loaded" in read_log(log), 30, "the window to report its page")
    finally:
        app.send_signal(signal.SIGTERM)
        try:
            app.wait(30)
        except subprocess.TimeoutExpired:
            app.kill()
            app.wait(5)
    real = draw_icon(load_base_icon(), IconLook())
    disc = draw_icon(load_base_icon(data.parent / "no-such-icon.png"), IconLook())
    return TrayLook(icon_distance(docked, real), icon_distance(docked, disc), read_log(log))


def read_log(log: Path) -> str:
    return log.read_text(encoding="utf-8") if log.exists() else ""
