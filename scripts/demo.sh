#!/usr/bin/env bash
# One command from a fresh machine to a running selfdata with a demo citizen and a year of
# data, on the embedded default (SQLite and local files in ./.selfdata, no server to install).
# Extra arguments go to `selfdata demo` (e.g. --port 8080, --no-serve).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
export SELFDATA_HOME="${SELFDATA_HOME:-$PWD/.selfdata}"
exec .venv/bin/selfdata demo "$@"
