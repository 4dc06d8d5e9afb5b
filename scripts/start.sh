#!/usr/bin/env bash
# Set up everything and run policyflow on its embedded default: SQLite, demo data, 127.0.0.1.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/_venv.sh
"$VENV/bin/pip" install -q -e .
export POLICYFLOW_INSTANCE_PATH="${POLICYFLOW_INSTANCE_PATH:-$PWD/instance}"
"$VENV/bin/policyflow" db upgrade
"$VENV/bin/policyflow" demo
exec "$VENV/bin/policyflow" serve --host 127.0.0.1 --port "${PORT:-5000}"
