"""The thin adapter from `MenuEntry` data to a pystray.Menu whose actions post intents."""

from __future__ import annotations

import time
from collections.abc import Callable, Generator
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


# --- building the GTK menu a slice at a time ---------------------------------------------------

SLICE_S = 0.004  # GTK work per turn of the main loop while a new menu is built
_GTK_BACKENDS = ("pystray._gtk", "pystray._appindicator")


def with_sliced_menu(icon_class: Any) -> Any:
    """`icon_class` (pystray's Icon), with its GTK menu built a few items per turn of GTK's
    main loop and put in place once whole, for the GTK backends (gtk, appindicator).

    pystray builds the whole Gtk.Menu in one callback on the main thread whenever the menu
    changes (and after every click): with a few hundred playlists (a big master.db: 25
    folders, 250 playlists, 100 history sets) that is 45–50 ms of CPU, the icon and any open
    menu frozen meanwhile. Built in slices of SLICE_S at idle priority, events and timers
    are served between slices; until the new menu is whole the previous one shows. Other
    backends (and stand-ins) are returned as they are."""
    if getattr(icon_class, "__module__", "") not in _GTK_BACKENDS or not all(
            hasattr(icon_class, name) for name in ("_create_menu_item", "_update_menu")):
        return icon_class

    from gi.repository import GLib, Gtk
    from pystray import _base

    class SlicedMenuIcon(icon_class):
        _menu_build = 0  # the newest build asked for; an older one stops where it is
        # Called on the main thread with the pystray.Menu once its GTK menu is in place.
        menu_shown: Callable[[Any], None] | None = None

        def _update_menu(self) -> None:  # pystray calls it from any thread
            GLib.idle_add(self._start_menu_build, priority=GLib.PRIORITY_DEFAULT_IDLE)

        def _start_menu_build(self) -> bool:
            self._menu_build += 1
            descriptors = self.menu
            build, steps = self._menu_build, _sliced_menu(self, descriptors, Gtk, _base)

            def step() -> bool:
                if build != self._menu_build:
                    return False  # a newer menu is being built
                deadline = time.perf_counter() + SLICE_S
                try:
                    while time.perf_counter() < deadline:
                        next(steps)
                except StopIteration as done:
                    self._put_menu(done.value)
                    if self.menu_shown is not None:
                        self.menu_shown(descriptors)
                    return False
                return True

            if step():
                GLib.idle_add(step, priority=GLib.PRIORITY_DEFAULT_IDLE)
            return False

        def _put_menu(self, menu: Any) -> None:
            previous = getattr(self, "_menu_handle", None)
            if hasattr(self, "_appindicator"):
                self._menu_handle = menu or self._create_default_menu()
                self._appindicator.set_menu(self._menu_handle)
            else:
                self._menu_handle = menu
            # Dropped whole, the previous menu's widgets are finalised in one go (77 ms for
            # 400 items): taken apart a slice at a time instead, unless it is open on screen
            # (then GTK keeps it until it closes, as when pystray drops it).
            if previous is not None and previous is not self._menu_handle and not (
                    previous.get_mapped()):
                steps = _taken_apart(previous)

                def step() -> bool:
                    """Take apart until the slice is used up (True: more to do)."""
                    deadline = time.perf_counter() + SLICE_S
                    return any(time.perf_counter() >= deadline for _ in steps)

                GLib.idle_add(step, priority=GLib.PRIORITY_DEFAULT_IDLE)

    SlicedMenuIcon.__name__ = SlicedMenuIcon.__qualname__ = f"Sliced{icon_class.__name__}"
    return SlicedMenuIcon


def _taken_apart(menu: Any) -> Generator[None, None, None]:
    """Destroy a Gtk.Menu's items (their submenus' first), one per step, then the menu."""
    for item in menu.get_children():
        submenu = item.get_submenu()
        if submenu is not None:
            yield from _taken_apart(submenu)
        item.destroy()
        yield
    menu.destroy()


def _sliced_menu(icon: Any, descriptors: Any, gtk: Any,
                 base: Any) -> Generator[None, None, Any]:
    """Yields after each item; returns the Gtk.Menu pystray's `_create_menu` would build
    (None for no descriptors)."""
    if not descriptors:
        return None
    menu = gtk.Menu.new()
    for descriptor in descriptors:
        if descriptor is not base.Menu.SEPARATOR and descriptor.submenu:
            # As pystray's _create_menu_item, with the submenu built a slice at a time.
            item = gtk.MenuItem.new_with_label(descriptor.text)
            item.set_submenu((yield from _sliced_menu(icon, descriptor.submenu, gtk, base)))
            if descriptor.default:
                from gi.repository import GLib

                item.get_children()[0].set_markup(
                    f"<b>{GLib.markup_escape_text(descriptor.text)}</b>")
            item.set_sensitive(descriptor.enabled)
        else:
            item = icon._create_menu_item(descriptor)
        menu.append(item)
        item.show_all()  # pystray shows the whole menu at the end: here a slice at a time
        yield
    menu.show()
    return menu
