#!/usr/bin/env bash
# One command from a fresh machine to the whole test suite: set-up, lint, types,
# architecture contracts, then every test on SQLite and on a throwaway PostgreSQL.
# Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh --dev

echo "• ruff";        .venv/bin/ruff check src tests bench
echo "• mypy";        .venv/bin/mypy
echo "• import contracts"; .venv/bin/lint-imports
echo "• pytest"
set +e
.venv/bin/python -m pytest "$@"
status=$?
set -e
if [ "$status" = 5 ]; then
  echo "pytest collected no tests: that is a failure here" >&2
  exit 1
fi
exit "$status"
