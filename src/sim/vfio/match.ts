/**
 * G7: which vfio device a VFIO_GROUP_GET_DEVICE_FD name selects. 6.1 (`vfio_pci_core_match`,
 * `vfio_pci_validate_vf_token`): the name must start with `pci_name()`; anything after it must be
 * space-separated options, of which only one `vf_token=<uuid>` is known. [2013]: exact `strcmp`.
 * @module
 */

import { fail } from '../rules.ts';
import type { KernelCtx, VfioDevice, VfioGroup } from './model.ts';

const VF_TOKEN = 'vf_token=';
const UUID_LEN = 36;
const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Returns whether a token was given; malformed options fail with EINVAL (G7.option). */
function parseOptions(rest: string, syscall: string): boolean {
  let token = false;
  let i = 0;
  while (i < rest.length) {
    if (rest[i] === ' ') {
      i++;
      continue;
    }
    if (token || !rest.startsWith(VF_TOKEN, i)) fail('G7.option', syscall, rest.slice(i));
    i += VF_TOKEN.length;
    const uuid = rest.slice(i, i + UUID_LEN);
    if (uuid.length < UUID_LEN || !UUID_RE.test(uuid)) fail('G7.option', syscall, `bad vf_token '${uuid}'`);
    token = true;
    i += UUID_LEN;
  }
  return token;
}

/**
 * `vfio_pci_validate_vf_token` as far as the model goes: a VF's PF can never be on vfio-pci here
 * (S0 refuses PFs with VFs enabled), so a VF needs no token and must not be given one; a PF
 * (SR-IOV capable, no VFs in use) accepts one; anything else refuses one.
 */
function checkToken(dev: VfioDevice, token: boolean, syscall: string): void {
  if (!token) return;
  if (dev.fn.desc.virtfn) fail('G7.vf-token', syscall, `${dev.bdf}: PF not bound to vfio-pci`);
  if (!dev.fn.desc.sriov) fail('G7.vf-token', syscall, `${dev.bdf}: not a PF or VF`);
}

export function findDevice(ctx: KernelCtx, group: VfioGroup, name: string, syscall: string): VfioDevice {
  for (const dev of group.devices) {
    if (ctx.era === '2013') {
      if (dev.bdf === name) return dev;
      continue;
    }
    if (!name.startsWith(dev.bdf)) continue;
    const rest = name.slice(dev.bdf.length);
    if (rest.length > 0 && rest[0] !== ' ') continue; // not this device
    checkToken(dev, parseOptions(rest, syscall), syscall);
    return dev;
  }
  return fail('G7.no-device', syscall, name);
}
