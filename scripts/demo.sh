#!/usr/bin/env bash
# Set everything up, then match the bundled demo playlist against the bundled demo catalog
# (served locally in Beatport's formats). Extra arguments go to `cuepoint demo`.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
exec .venv/bin/cuepoint demo "$@"
