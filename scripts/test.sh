#!/usr/bin/env bash
# The test command: every unit test (debug build), then the agents' learning tests on known optima, which need a
# release build to train in a few seconds each. OpenBLAS is pinned to one thread for bit-identical results.
set -euo pipefail
cd "$(dirname "$0")/.."
export OPENBLAS_NUM_THREADS=1
swift test
TRADESIM_SLOW=1 swift test -c release -Xswiftc -enable-testing --filter AgentsTests
