#!/usr/bin/env bash
# Set everything up, then run the whole test suite. Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
# Two worker processes, each taking whole test files (module fixtures are built once);
# CUEPOINT_TEST_WORKERS=0 runs them in this process. Then the tests marked serial, alone:
# they build a wheel and a bundle and dock the installed tray, which a busy neighbour upsets.
# Exit code 5 is pytest's "no test selected" (e.g. a file given with no serial test in it).
status=0
.venv/bin/python -m pytest -n "${CUEPOINT_TEST_WORKERS:-2}" --dist loadfile -m "not serial" "$@" \
    || status=$?
if [ "$status" -eq 5 ]; then status=0; fi
.venv/bin/python -m pytest -m serial "$@" || { code=$?; [ "$code" -eq 5 ] || status=$code; }
exit "$status"
