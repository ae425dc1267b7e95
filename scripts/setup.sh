#!/usr/bin/env bash
# Set up CuePoint Tray on a fresh machine: a virtual environment in .venv with the package
# and its test tools. Safe to run again; it only installs what is missing or changed.
set -euo pipefail
cd "$(dirname "$0")/.."

python=${PYTHON:-python3}
if ! "$python" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
    echo "CuePoint Tray needs Python 3.11 or newer ($python is $("$python" --version 2>&1))." >&2
    exit 1
fi
if [ "$(uname -s)" = Linux ]; then
    scripts/install-system-packages.sh  # GTK/WebKit for the window, Xvfb & co. for GUI tests
fi
if ! .venv/bin/python -m pip --version >/dev/null 2>&1; then
    rm -rf .venv  # absent, or left half-made by an interrupted set-up
    "$python" -m venv .venv
fi
stamp=.venv/.installed-$(cat pyproject.toml | sha1sum | cut -c1-12)
if [ ! -f "$stamp" ]; then
    .venv/bin/python -m pip install --quiet --upgrade pip
    .venv/bin/python -m pip install --quiet -e '.[dev]'
    rm -f .venv/.installed-*
    touch "$stamp"
fi
