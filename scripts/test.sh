#!/usr/bin/env bash
# Set up .venv if needed, then run the test suite. LAMP_SLOW_TESTS=1 adds the tests marked slow.
# Extra arguments go to pytest.
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
markers=(-m "not slow")
[ "${LAMP_SLOW_TESTS:-0}" = 1 ] && markers=()
python -m pytest "${markers[@]}" "$@"
