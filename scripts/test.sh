#!/usr/bin/env bash
# Set everything up, then run the whole test suite. Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
# Two worker processes, each taking whole test files (module fixtures are built once);
# CUEPOINT_TEST_WORKERS=0 runs everything in this process.
exec .venv/bin/python -m pytest -n "${CUEPOINT_TEST_WORKERS:-2}" --dist loadfile "$@"
