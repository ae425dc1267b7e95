#!/usr/bin/env bash
# Install the system packages the tray, the dashboard window and the GUI/browser tests need:
# a virtual display (Xvfb), a tray host (trayer), a session bus and a notification daemon
# (dbus, dunst), GTK + WebKit2GTK for pywebview, the headers PyGObject and pycairo build
# against, what PyInstaller and fresh virtual environments need (the packaging tests), and
# Chromium for the browser tests.
#
# Debian/Ubuntu only: elsewhere it prints what is needed and exits 0 (macOS and Windows
# need nothing for the tray). Safe to run again: it asks dpkg what is missing first, and
# does nothing, in about a second, when everything is installed.
#
#     scripts/install-system-packages.sh          # install what is missing
#     scripts/install-system-packages.sh --check  # only list what is missing (exit 1 if any)
set -euo pipefail

packages=(
    xvfb xauth xdotool x11-utils imagemagick trayer   # virtual display, tray host, driving
    dbus dunst                                        # session bus, notification daemon
    gir1.2-gtk-3.0 gir1.2-webkit2-4.1                 # pywebview's GTK backend
    gir1.2-ayatanaappindicator3-0.1                   # pystray's appindicator backend
    libgirepository1.0-dev libcairo2-dev pkg-config   # to build PyGObject and pycairo
    gcc python3-dev                                   # ditto: a compiler and Python.h
    binutils python3-venv                             # PyInstaller (objdump); fresh venvs, pipx
    chromium                                          # browser tests (never `playwright install`)
)

check_only=false
case "${1:-}" in
    --check) check_only=true ;;
    "") ;;
    *) echo "usage: $0 [--check]" >&2; exit 2 ;;
esac

case "$(uname -s)" in
    Darwin|MINGW*|MSYS*|CYGWIN*|Windows_NT)
        echo "$(uname -s): no system packages needed for the tray (pystray and pywebview use the OS's own)."
        exit 0 ;;
esac

if ! command -v dpkg-query >/dev/null 2>&1 || ! command -v apt-get >/dev/null 2>&1; then
    echo "Not a Debian/Ubuntu system: nothing installed. For the tray window and GUI tests, install"
    echo "your distribution's equivalents of: ${packages[*]}"
    echo "(GTK 3 and WebKit2GTK 4.1 with GObject introspection, an AppIndicator library, Xvfb,"
    echo "xdotool, ImageMagick, trayer, D-Bus, dunst, the GObject-introspection and cairo headers.)"
    exit 0
fi

missing=()
for package in "${packages[@]}"; do
    status=$(dpkg-query -W -f='${Status}' "$package" 2>/dev/null || true)
    [ "$status" = "install ok installed" ] || missing+=("$package")
done

if [ ${#missing[@]} -eq 0 ]; then
    echo "System packages: all ${#packages[@]} installed."
    exit 0
fi
echo "System packages missing: ${missing[*]}"
if $check_only; then
    exit 1
fi

if [ "$(id -u)" -eq 0 ]; then
    as_root=(env DEBIAN_FRONTEND=noninteractive)
elif command -v sudo >/dev/null 2>&1; then
    as_root=(sudo env DEBIAN_FRONTEND=noninteractive)
else
    echo "Not root and no sudo: as root, run" >&2
    echo "    apt-get update && apt-get install -y --no-install-recommends ${missing[*]}" >&2
    exit 1
fi

"${as_root[@]}" apt-get update -q

# Leave out what this distribution does not carry (Ubuntu ships Chromium only as a snap),
# rather than failing the whole install on it.
installable=()
for package in "${missing[@]}"; do
    candidate=$(apt-cache policy "$package" 2>/dev/null | awk '/Candidate:/ {print $2}')
    if [ -n "$candidate" ] && [ "$candidate" != "(none)" ]; then
        installable+=("$package")
    else
        echo "warning: $package is not available from apt here; install it another way." >&2
    fi
done

if [ ${#installable[@]} -gt 0 ]; then
    "${as_root[@]}" apt-get install -y -q --no-install-recommends "${installable[@]}"
fi
echo "System packages: installed ${installable[*]:-nothing}."
