# Sourced by the other scripts: the project's virtual environment and a quiet, offline-safe setup.
# Creates or reuses .venv and (re)installs lamp only when pyproject.toml or constraints.txt changed.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

export KEDRO_DISABLE_TELEMETRY=1 DO_NOT_TRACK=1 DVC_NO_ANALYTICS=1 PIP_DISABLE_PIP_VERSION_CHECK=1
export PYTHONUNBUFFERED=1 TOKENIZERS_PARALLELISM=false HF_HUB_DISABLE_TELEMETRY=1

python_for_venv() {
    for candidate in "${PYTHON:-}" python3.11 python3; do
        if [ -n "$candidate" ] && command -v "$candidate" >/dev/null 2>&1; then
            echo "$candidate"
            return
        fi
    done
    echo "lamp: no python3 found; install Python 3.11 or set PYTHON=/path/to/python" >&2
    exit 1
}

if [ ! -x .venv/bin/python ]; then
    echo "lamp: creating .venv"
    "$(python_for_venv)" -m venv .venv
fi
wanted=$(cat pyproject.toml constraints.txt | sha256sum | cut -d' ' -f1)
if [ "$(cat .venv/.lamp-installed 2>/dev/null)" != "$wanted" ]; then
    echo "lamp: installing dependencies into .venv (first run: a few minutes)"
    .venv/bin/python -m pip install -q --upgrade pip
    .venv/bin/python -m pip install -q -c constraints.txt -e ".[test]"
    echo "$wanted" > .venv/.lamp-installed
fi
export PATH="$PWD/.venv/bin:$PATH"
