#!/usr/bin/env bash
# The whole real-kernel rig (npm run test:kernel): install QEMU, the kernel and busybox if
# missing, (re)build the initramfs if its inputs changed, then boot every topology and run its
# scenarios (src/rig/main.ts). Ends with the closing line "N passed, N failed".
#   rig/run.sh [--only rp,ppb] [--timeout SECONDS] [--tsx]
set -euo pipefail
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$REPO"
bash rig/install.sh
bash rig/build-initramfs.sh
exec node --import tsx src/rig/main.ts "$@"
