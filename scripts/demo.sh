#!/usr/bin/env bash
# The main job: build ccdma and run its end-to-end demonstration.
# Usage: scripts/demo.sh [ccdma-demo options]   (see --help)
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/ensure-tools.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j"$(nproc)" --target ccdma-demo >/dev/null
exec ./build/tools/ccdma-demo "$@"
