#!/usr/bin/env bash
# The test command: the formatting lint, every target's imports checked against Package.swift, every unit test (debug
# build), then, in a release build, the agents' learning tests on known optima and 100k-step DQN and PPO runs on the
# S&P 500 (printed next to the baselines). NeuralCore is pinned to one thread (OPENBLAS_NUM_THREADS, the variable
# the benchmarks pin too) for bit-identical results.
set -euo pipefail
cd "$(dirname "$0")/.."
export OPENBLAS_NUM_THREADS=1
# Every Swift file as the project's .swift-format lays it out, lines at most 120 columns (`swift format format -i -r
# Sources Tests Package.swift scripts` fixes most findings; it never wraps comments or strings).
swift format lint --strict -r Sources Tests Package.swift scripts
# Each import must be a direct dependency in Package.swift (SwiftPM's own check below accepts transitive ones too).
swift scripts/check_imports.swift
swift build --build-tests --explicit-target-dependency-import-check error
swift test --skip-build
TRADESIM_SLOW=1 swift test -c release -Xswiftc -enable-testing --filter 'AgentsTests|RealMarketTests'
