#!/usr/bin/env bash
# Installs what the QEMU rig needs (kernel-rig.md): QEMU 7.2, the distribution kernel (Linux 6.1
# on Debian 12) and a static busybox for the guest initramfs. Idempotent: when every package is
# already installed it only checks and exits (well under a second), so `npm run test:kernel` can
# call it every time. Needs root (or sudo) for apt-get.
set -euo pipefail

PACKAGES=(qemu-system-x86 linux-image-amd64 busybox-static kmod cpio)

missing=()
for p in "${PACKAGES[@]}"; do
  # dpkg-query prints "install ok installed" only for a fully installed package.
  if [[ "$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)" != "install ok installed" ]]; then
    missing+=("$p")
  fi
done

if [[ ${#missing[@]} -eq 0 ]]; then
  echo "rig/install: all present (${PACKAGES[*]})"
  exit 0
fi

SUDO=()
if [[ $(id -u) -ne 0 ]]; then SUDO=(sudo); fi

echo "rig/install: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
"${SUDO[@]}" apt-get update -qq
# --no-install-recommends keeps out firmware, GUI bits and initramfs-tools' extras we do not use.
"${SUDO[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "rig/install: done"
