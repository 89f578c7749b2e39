#!/bin/sh
# /init of the rig's guest (busybox sh). Loads the VFIO and 9p modules (and the host drivers the
# job names in rig.modules=), mounts the host's root read-only over 9p, mounts the writable
# results export under its /tmp, and runs the guest side of the rig (src/rig/guest.ts) with the
# host's own node in a chroot, so the guest runs exactly the checked-out code. Then powers off;
# QEMU runs with -no-reboot, so the VM ends either way.
#
# Kernel parameters read from /proc/cmdline (a dotted name never reaches init's argv/env):
#   rig.repo=/abs/path/of/repo   rig.entry=.rig/guest.mjs (or src/rig/guest.ts, run with tsx)
#   rig.node=/usr/bin/node       rig.modules=e1000,pci-stub
/bin/busybox --install -s /bin
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev

param() { tr ' ' '\n' </proc/cmdline | sed -n "s/^rig\.$1=//p" | tail -n1; }
REPO=$(param repo)
MODULES=$(param modules | tr ',' ' ')
NODE=$(param node)
[ -n "$NODE" ] || NODE=/usr/bin/node
ENTRY=$(param entry)
[ -n "$ENTRY" ] || ENTRY=src/rig/guest.ts
# tsx transpiles every module on the fly, which under TCG costs ~30 s; the host driver normally
# passes a bundle built on the host (src/rig/bundle.ts) that plain node loads in ~2 s.
case "$ENTRY" in *.ts) LOADER="--import tsx" ;; *) LOADER="" ;; esac

log() { echo "rig-init: $*"; }

load_list() {
  while read -r ko; do
    # "File exists" when a shared dependency is already in: harmless.
    insmod "/modules/$ko" 2>/dev/null || grep -q "^$(basename "$ko" .ko | tr - _) " /proc/modules ||
      log "insmod $ko failed"
  done <"$1"
}
load_list /modules/base.list
for m in $MODULES; do
  if [ -f "/modules/$m.list" ]; then load_list "/modules/$m.list"; else log "module $m is not in the initramfs"; fi
done

ok=1
# cache=loose: the share is read-only and does not change under a boot; without it every stat
# is a round trip, and the first node start takes ~10 s instead of ~5 s.
mount -t 9p -o trans=virtio,version=9p2000.L,ro,msize=262144,cache=loose hostroot /host || ok=0
if [ $ok = 1 ]; then
  # The guest's /tmp is a tmpfs over the host's; a checkout that lives under /tmp (a CI clone)
  # would vanish under it, so it is kept aside first and bound back at its own path afterwards.
  case "$REPO" in /tmp/*) mkdir -p /repo && mount -o bind "/host$REPO" /repo || ok=0 ;; esac
fi
if [ $ok = 1 ]; then
  mount -o bind /proc /host/proc && mount -o bind /sys /host/sys && mount -o bind /dev /host/dev &&
    mount -t tmpfs -o size=256m tmpfs /host/tmp && mkdir -p /host/tmp/out &&
    mount -t 9p -o trans=virtio,version=9p2000.L,rw,msize=262144 rigout /host/tmp/out || ok=0
fi
if [ $ok = 1 ]; then
  case "$REPO" in /tmp/*) mkdir -p "/host$REPO" && mount -o bind /repo "/host$REPO" || ok=0 ;; esac
fi
if [ $ok = 1 ]; then
  log "running guest.ts ($(cut -d' ' -f1 /proc/uptime) s after boot)"
  # cd first: node resolves `--import tsx` from the working directory.
  chroot /host /bin/sh -c "cd '$REPO' && exec '$NODE' $LOADER '$ENTRY' /tmp/out/job.json"
  rc=$?
  echo "$rc" >/host/tmp/out/guest-exit
  dmesg >/host/tmp/out/dmesg.txt
  log "guest.ts exited $rc ($(cut -d' ' -f1 /proc/uptime) s after boot)"
  sync
  umount /host/tmp/out
else
  log "mounting the host share failed"
fi
poweroff -f
