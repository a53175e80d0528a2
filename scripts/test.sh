#!/usr/bin/env bash
# The test command: the formatting lint, every target's imports checked against Package.swift, then every test in one
# release build with testing enabled: the unit tests, the agents' learning tests on known optima and 100k-step DQN
# and PPO runs on the S&P 500 (printed next to the baselines). One release build rather than a debug build and then a
# release one: the product runs in release, its `precondition`s and `fatalError`s, overflow and bounds checks stay on
# there (the sources have no `assert`), and the whole suite takes half the time. NeuralCore is pinned to one thread
# (OPENBLAS_NUM_THREADS, the variable the benchmarks pin too) for bit-identical results; the two 100k-step runs take
# two, which give the same bits.
set -euo pipefail
cd "$(dirname "$0")/.."
export OPENBLAS_NUM_THREADS=1
# The tests' files (stores, run folders, data copies: about 2 GB a run) go to a folder of this run's own, removed when it
# ends, however it ends. Others may enter it, as they may enter /tmp: a test reads a store as the user `nobody`.
TMPDIR="$(mktemp -d "${TMPDIR:-/tmp}/tradesim-tests.XXXXXX")"
chmod 755 "$TMPDIR"
export TMPDIR
trap 'rm -rf "$TMPDIR"' EXIT
# Every Swift file as the project's .swift-format lays it out, lines at most 120 columns (`swift format format -i -r
# Sources Tests Package.swift scripts` fixes most findings; it never wraps comments or strings).
swift format lint --strict -r Sources Tests Package.swift scripts
# Each import must be a direct dependency in Package.swift (SwiftPM's own check below accepts transitive ones too).
swift scripts/check_imports.swift
swift build -c release -Xswiftc -enable-testing --build-tests --explicit-target-dependency-import-check error
TRADESIM_SLOW=1 swift test -c release -Xswiftc -enable-testing --skip-build
