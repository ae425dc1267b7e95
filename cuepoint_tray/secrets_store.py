"""Where the Beatport tokens live: the system keyring when there is one, else the settings
file (readable by the user only).

macOS Keychain, Windows Credential Locker and the Secret Service (GNOME Keyring, KWallet)
are keyring's real backends. A machine without one (a server, CI) gets keyring's "fail"
backend: then `SecretsStore.available` is False and the caller keeps secrets in the file.
"""

from __future__ import annotations

import logging
from typing import Any

log = logging.getLogger(__name__)

SERVICE = "CuePoint Tray"


class SecretsStore:
    """Secrets by setting name, in the system keyring; every failure means "not here"."""

    def __init__(self, backend: Any = None) -> None:
        self._keyring = _usable_keyring() if backend is None else backend

    @property
    def available(self) -> bool:
        return self._keyring is not None

    def get(self, name: str) -> str | None:
        if self._keyring is None:
            return None
        try:
            return self._keyring.get_password(SERVICE, name)
        except Exception as exc:  # a locked or broken keyring: the file still works
            log.warning("could not read %s from the system keyring: %s", name, exc)
            return None

    def put(self, name: str, value: str) -> bool:
        """Store (or, for "", delete) a secret; False when the keyring refused."""
        if self._keyring is None:
            return False
        try:
            if value:
                self._keyring.set_password(SERVICE, name, value)
            elif self._keyring.get_password(SERVICE, name) is not None:
                self._keyring.delete_password(SERVICE, name)
        except Exception as exc:
            log.warning("could not store %s in the system keyring: %s", name, exc)
            return False
        return True


def _usable_keyring() -> Any:
    """keyring's module when it has a real backend, else None."""
    try:
        import keyring
        from keyring.backends import fail
    except ImportError:
        return None
    try:
        backend = keyring.get_keyring()
    except Exception as exc:
        log.warning("the system keyring cannot be used: %s", exc)
        return None
    if isinstance(backend, fail.Keyring) or getattr(backend, "priority", 0) <= 0:
        return None
    return keyring
