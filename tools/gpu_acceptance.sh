#!/usr/bin/env bash
# The GPU acceptance run (issue #16): one script, one JSON and one log, at most 8 minutes of wall time on one NVIDIA H100.
#   bash tools/gpu_acceptance.sh [--out DIR]       on a CUDA machine (CIFAR-10 under $MLPSCALE_DATA for the data steps)
#   bash tools/gpu_acceptance.sh --smoke           the same steps at tiny sizes on the CPU in under 2 minutes (part of tools/test.sh);
#                                                  the steps that need CUDA (CUDA graphs, pinned copies) are skipped and say so
# Everything it measures is in tools/gpu_acceptance.py; --help lists the options.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -f .venv/bin/activate ]; then source .venv/bin/activate; fi
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"    # the library from this checkout, installed or not (a lent GPU machine has torch, not mlpscale)
exec python3 tools/gpu_acceptance.py "$@"
