# Sourced by start.sh and test.sh: make sure a virtual environment exists at $VENV.
VENV="${POLICYFLOW_VENV:-.venv}"
as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }
if [ ! -x "$VENV/bin/python" ]; then
  if ! python3 -m venv "$VENV" 2>/dev/null; then
    echo "Installing python3-venv (needed to create the virtual environment)..."
    rm -rf "$VENV"
    as_root apt-get update -q
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q python3-venv
    python3 -m venv "$VENV"
  fi
  "$VENV/bin/python" -m pip install -q --upgrade pip
fi
