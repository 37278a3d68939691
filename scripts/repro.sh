#!/usr/bin/env bash
# Set up .venv if needed, then run the whole pipeline with DVC (mini profile by default).
# Extra arguments go to `dvc repro` (e.g. a stage name, or --force).
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
dvc config --local core.analytics false >/dev/null 2>&1 || true
time dvc repro "$@"
