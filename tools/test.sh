#!/usr/bin/env bash
# The project's test command (README): library and notebooks in sync, notebook tests, pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -f .venv/bin/activate ]; then source .venv/bin/activate; fi
export MLPSCALE_DATA="${MLPSCALE_DATA:-$(cd .. && pwd)/shared/data}"

echo "== sync: nbdev-export, nbdev-clean and the README must not change tracked files"
snapshot() { find mlpscale nbs README.md -type f -not -path '*/__pycache__/*' -not -path '*/.ipynb_checkpoints/*' | sort | xargs sha1sum; }
before=$(snapshot)
nbdev-export
nbdev-clean
python tools/readme.py
after=$(snapshot)
if [ "$before" != "$after" ]; then
  echo "FAIL: the library, the notebooks or the README were out of sync with nbs/; these files changed (run nbdev-export, nbdev-clean, python tools/readme.py and commit them):"
  diff <(echo "$before") <(echo "$after") || true
  exit 1
fi

echo "== nbdev-test"
nbdev-test --n-workers 2 --timing

echo "== pytest"
MPLBACKEND=Agg python -m pytest -q tests
