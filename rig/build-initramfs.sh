#!/usr/bin/env bash
# Builds the guest initramfs for the QEMU rig (kernel-rig.md): a static busybox, the VFIO and 9p
# module chains of the installed kernel, the host drivers some topologies keep bound inside a
# reset scope (e1000, e1000e, nvme, pci-stub; loaded only when the job asks), and rig/init.sh as
# /init. Output: $RIG_DIR/initramfs.cpio.gz and $RIG_DIR/kernel (the kernel version). Rebuilt only
# when the kernel version, this script or rig/init.sh changed, so repeated runs take well under a
# second.
#
#   rig/build-initramfs.sh [kernel-version]      (default: the newest /boot/vmlinuz-*)
#
# RIG_DIR defaults to <repo>/.rig (git-ignored).
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
RIG_DIR=${RIG_DIR:-$REPO/.rig}
VER=${1:-$(find /boot -maxdepth 1 -name 'vmlinuz-*' -printf '%f\n' | sed 's/^vmlinuz-//' | sort -V | tail -n1)}
if [[ -z "$VER" || ! -f /boot/vmlinuz-$VER ]]; then
  echo "rig/build-initramfs: no kernel in /boot (run rig/install.sh)" >&2
  exit 1
fi
BUSYBOX=/bin/busybox # busybox-static installs its static binary here
if [[ ! -x $BUSYBOX ]]; then
  echo "rig/build-initramfs: no $BUSYBOX (run rig/install.sh)" >&2
  exit 1
fi

# Always in the image and loaded by /init: vfio-pci (its chain pulls in vfio_iommu_type1) and the
# virtio 9p transport. Loaded on demand (kernel parameter rig.modules=): the host drivers.
BASE_MODULES=(vfio-pci virtio_pci 9pnet_virtio 9p)
EXTRA_MODULES=(e1000 e1000e nvme pci-stub)

OUT=$RIG_DIR/initramfs.cpio.gz
STAMP=$RIG_DIR/initramfs.stamp
mkdir -p "$RIG_DIR"
want="$VER $(cat "${BASH_SOURCE[0]}" "$REPO/rig/init.sh" | sha256sum | cut -d' ' -f1)"
if [[ -f "$OUT" && -f "$STAMP" && "$(cat "$STAMP")" == "$want" ]]; then
  echo "rig/build-initramfs: up to date ($OUT, kernel $VER)"
  exit 0
fi

WORK=$(mktemp -d "$RIG_DIR/initramfs.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
mkdir -p "$WORK"/{bin,dev,proc,sys,host,modules}
cp "$BUSYBOX" "$WORK/bin/busybox"
ln -s busybox "$WORK/bin/sh" # the shebang of /init, before busybox --install runs
install -m 0755 "$REPO/rig/init.sh" "$WORK/init"

# One load list per module: the .ko files `modprobe --show-depends` names, in its order, without
# repeats. Module files are copied flat under /modules (decompressed if the kernel ships .ko.xz
# or .ko.zst, since busybox insmod may not read them).
deps_of() {
  modprobe -S "$VER" --show-depends "$1" | awk '$1 == "insmod" { print $2 }' | awk '!seen[$0]++'
}
copy_ko() {
  local src=$1 base
  base=$(basename "$src")
  case "$src" in
  *.ko.xz) base=${base%.xz}; [[ -f "$WORK/modules/$base" ]] || xz -dc "$src" >"$WORK/modules/$base" ;;
  *.ko.zst) base=${base%.zst}; [[ -f "$WORK/modules/$base" ]] || zstd -qdc "$src" >"$WORK/modules/$base" ;;
  *.ko.gz) base=${base%.gz}; [[ -f "$WORK/modules/$base" ]] || gzip -dc "$src" >"$WORK/modules/$base" ;;
  *) [[ -f "$WORK/modules/$base" ]] || cp "$src" "$WORK/modules/$base" ;;
  esac
  echo "$base"
}
for m in "${BASE_MODULES[@]}" "${EXTRA_MODULES[@]}"; do
  list=$(deps_of "$m")
  if [[ -z "$list" ]]; then
    echo "rig/build-initramfs: module $m not found for $VER" >&2
    exit 1
  fi
  while read -r ko; do copy_ko "$ko"; done <<<"$list" >"$WORK/modules/$m.list"
done
# The base chain as one list, in order, without repeats.
for m in "${BASE_MODULES[@]}"; do cat "$WORK/modules/$m.list"; done | awk '!seen[$0]++' >"$WORK/modules/base.list"

(cd "$WORK" && find . -print0 | cpio --null -o -H newc --quiet) | gzip -1 >"$OUT.tmp"
mv "$OUT.tmp" "$OUT"
echo "$VER" >"$RIG_DIR/kernel"
echo "$want" >"$STAMP"
echo "rig/build-initramfs: wrote $OUT (kernel $VER, $(du -h "$OUT" | cut -f1))"
