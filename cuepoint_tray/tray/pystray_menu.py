"""The thin adapter from `MenuEntry` data to a pystray.Menu whose actions post intents."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from cuepoint_tray.tray.intents import Intent
from cuepoint_tray.tray.menu import MenuEntry

Post = Callable[[Intent], None]


def to_pystray_menu(pystray: Any, entries: tuple[MenuEntry, ...], post: Post) -> Any:
    """A pystray.Menu for `entries`; `pystray` is the imported module (imported late, once
    the display is known)."""
    return pystray.Menu(*(_item(pystray, entry, post) for entry in entries))


def _item(pystray: Any, entry: MenuEntry, post: Post) -> Any:
    if entry.separator:
        return pystray.Menu.SEPARATOR
    if entry.submenu:
        return pystray.MenuItem(entry.text, to_pystray_menu(pystray, entry.submenu, post),
                                enabled=entry.enabled)
    return pystray.MenuItem(entry.text, _action(entry, post), checked=_checked(entry),
                            radio=entry.radio, default=entry.default, enabled=entry.enabled)


def _action(entry: MenuEntry, post: Post) -> Callable[[Any, Any], None]:
    def act(icon: Any, item: Any) -> None:
        if entry.intent is not None and entry.enabled:
            post(entry.intent)

    return act


def _checked(entry: MenuEntry) -> Callable[[Any], bool] | None:
    if entry.checked is None:
        return None
    checked = entry.checked
    return lambda item: checked
