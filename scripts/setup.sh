#!/usr/bin/env bash
# Set up selfdata on a fresh machine: a virtualenv in .venv with the package installed.
#   scripts/setup.sh          runtime only (what `scripts/demo.sh` needs)
#   scripts/setup.sh --dev    plus test tools and the PostgreSQL binaries the tests start
# Idempotent: a second run only checks that everything is there.
set -euo pipefail
cd "$(dirname "$0")/.."

dev=0
[ "${1:-}" = "--dev" ] && dev=1

python=${PYTHON:-python3}
if ! "$python" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
  echo "selfdata needs Python 3.11 or newer (found: $("$python" --version 2>&1))" >&2
  exit 1
fi

if [ ! -x .venv/bin/python ]; then
  echo "• creating .venv"
  "$python" -m venv .venv
fi

# Reinstall only when the dependency list changed since the last successful install.
extra=""
[ "$dev" = 1 ] && extra="[dev]"
stamp=".venv/.selfdata-installed${extra}"
want="$(sha256sum pyproject.toml | cut -d' ' -f1)"
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  echo "• installing selfdata${extra} into .venv"
  .venv/bin/python -m pip install --quiet --disable-pip-version-check --upgrade pip
  .venv/bin/python -m pip install --quiet --disable-pip-version-check -e ".${extra}"
  echo "$want" > "$stamp"
fi
# The service SDK: a separate distribution (sdk/python); the example service and its test use it.
if ! .venv/bin/python -c "import selfdata_sdk" >/dev/null 2>&1; then
  echo "• installing the service SDK (sdk/python) into .venv"
  .venv/bin/python -m pip install --quiet --disable-pip-version-check -e sdk/python
fi

if [ "$dev" = 1 ]; then
  # The store tests run on a real PostgreSQL started from the machine's binaries.
  if ! command -v initdb >/dev/null 2>&1 && ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
    echo "• installing PostgreSQL server binaries"
    if [ "$(id -u)" = 0 ]; then sudo=""; else sudo="sudo"; fi
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq postgresql >/dev/null
  fi
  # The browser tests (tests/browser) drive Debian's chromium through Playwright.
  if [ ! -x /usr/bin/chromium ]; then
    echo "• installing chromium (browser tests)"
    if [ "$(id -u)" = 0 ]; then sudo=""; else sudo="sudo"; fi
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq chromium >/dev/null
  fi
fi
echo "• ready"
