#!/usr/bin/env bash
# The main job: build ccdma and run ccdma-blk against a ccdma-devsim device
# process it starts itself: a short verified random read/write run in
# confidential mode (every payload bounced through shared memory), then
# the summary.  Extra arguments go to ccdma-blk (see --help), e.g.
#   scripts/demo.sh --runtime 10 --iodepth 32
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/ensure-tools.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j"$(nproc)" --target ccdma-blk ccdma-devsim >/dev/null
exec ./build/tools/ccdma-blk --rw randrw --bs 4k --iodepth 16 --size 64m \
  --runtime 3 --verify --mode confidential "$@"
