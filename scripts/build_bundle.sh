#!/usr/bin/env bash
# Freeze CuePoint into one folder with PyInstaller (packaging/cuepoint.spec): dist/CuePoint/
# holds `cuepoint-tray` and `cuepoint` and everything they need, so it runs on a machine
# without Python. On macOS it also makes "dist/CuePoint Tray.app"; on Windows the programs
# are cuepoint-tray.exe and cuepoint.exe. Build on each platform for that platform.
#
#     scripts/build_bundle.sh [--dist DIR] [--work DIR]   (defaults: dist/, build/bundle/)
set -euo pipefail
cd "$(dirname "$0")/.."

dist=dist
work=build/bundle
while [ $# -gt 0 ]; do
    case "$1" in
        --dist) dist=$2; shift 2 ;;
        --work) work=$2; shift 2 ;;
        *) echo "usage: $0 [--dist DIR] [--work DIR]" >&2; exit 2 ;;
    esac
done

python=${PYTHON:-.venv/bin/python}
if [ ! -x "$python" ] && [ -x .venv/Scripts/python.exe ]; then
    python=.venv/Scripts/python.exe  # Windows (Git Bash)
fi
if ! "$python" -c 'import PyInstaller' 2>/dev/null; then
    echo "PyInstaller is missing: run scripts/setup.sh (it installs the dev extra)." >&2
    exit 1
fi
"$python" -m PyInstaller --noconfirm --clean --log-level WARN \
    --distpath "$dist" --workpath "$work" packaging/cuepoint.spec
echo "Built $dist/CuePoint ($(du -sh "$dist/CuePoint" | cut -f1)):"
ls "$dist/CuePoint"
