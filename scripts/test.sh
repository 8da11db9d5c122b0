#!/usr/bin/env bash
# Sets up (packages, build) and runs the whole test suite under ctest.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh build
ctest --test-dir build --output-on-failure -j"$(nproc)" --timeout 1500
