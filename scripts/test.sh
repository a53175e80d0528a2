#!/usr/bin/env bash
# The test command: every unit test (debug build), with OpenBLAS pinned to one thread for bit-identical results.
set -euo pipefail
cd "$(dirname "$0")/.."
export OPENBLAS_NUM_THREADS=1
swift test
