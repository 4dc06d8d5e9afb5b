#!/usr/bin/env bash
# Set up everything and run the whole test suite (lint, unit, services, web, browser).
# Extra arguments go to pytest, e.g. ./scripts/test.sh -k redline
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/_venv.sh
"$VENV/bin/pip" install -q -e '.[test]'
missing=""
[ -x /usr/bin/chromium ] || missing="$missing chromium"                    # the browser tests
command -v systemd-analyze >/dev/null || missing="$missing systemd"       # verifies the shipped unit files
if [ -n "$missing" ]; then
  echo "Installing Debian packages for the tests:$missing"
  as_root apt-get update -q
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q $missing
fi
"$VENV/bin/ruff" check policyflow tests bench
# One test process per core (pytest-xdist); each builds its own SQLite file and PostgreSQL schema.
# POLICYFLOW_TEST_PROCESSES=0 runs everything in this process (for pdb).
"$VENV/bin/python" -m pytest -n "${POLICYFLOW_TEST_PROCESSES:-auto}" "$@"
