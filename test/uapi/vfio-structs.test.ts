import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import {
  decodeBindIommufd,
  decodeCString,
  decodeDeviceInfo,
  decodeGroupStatus,
  decodeHotResetFds,
  decodeHotResetHeader,
  decodeHotResetInfo,
  decodeKvmDeviceAttr,
  encodeBindIommufd,
  encodeCString,
  encodeDeviceInfo,
  encodeGroupStatus,
  encodeHotReset,
  encodeHotResetInfo,
  encodeKvmDeviceAttr,
  hotResetInfoSize,
  ShortBufferError,
  VFIO_PCI_DEVID,
} from '../../src/uapi/vfio-structs.ts';

const u32 = fc.integer({ min: 0, max: 0xffffffff });

test('§2.1: vfio_pci_hot_reset_info packs a 12-byte header and 8-byte entries (u32 id, u16 segment, u8 bus, u8 devfn)', () => {
  const b = encodeHotResetInfo({
    argsz: 28,
    flags: 0,
    count: 2,
    devices: [
      { id: 7, segment: 1, bus: 2, devfn: 0x08 },
      { id: VFIO_PCI_DEVID.NOT_OWNED, segment: 0, bus: 3, devfn: 0x09 },
    ],
  });
  assert.equal(b.length, hotResetInfoSize(2));
  assert.deepEqual([...b.subarray(12, 20)], [7, 0, 0, 0, 1, 0, 2, 8]);
  assert.deepEqual([...b.subarray(20, 24)], [0xff, 0xff, 0xff, 0xff]);
});

test('§2.1: vfio_pci_hot_reset carries s32 fds from offset 12; decoding takes `count` fds whatever argsz says (H4)', () => {
  const b = encodeHotReset({ argsz: 12, flags: 0, count: 2, fds: [5, -1] });
  assert.deepEqual(decodeHotResetHeader(b), { argsz: 12, flags: 0, count: 2 });
  assert.deepEqual(decodeHotResetFds(b, 2), [5, -1]);
  assert.throws(() => decodeHotResetFds(b, 3), ShortBufferError);
});

test('short buffers are ShortBufferError (the simulator answers EFAULT)', () => {
  assert.throws(() => decodeGroupStatus(new Uint8Array(4)), ShortBufferError);
  assert.throws(() => decodeDeviceInfo(new Uint8Array(12)), ShortBufferError);
  assert.throws(() => decodeHotResetInfo(new Uint8Array(8)), ShortBufferError);
  assert.throws(() => decodeBindIommufd(new Uint8Array(12)), ShortBufferError);
});

test('property: every codec round-trips', () => {
  fc.assert(
    fc.property(u32, u32, (argsz, flags) =>
      assert.deepEqual(decodeGroupStatus(encodeGroupStatus({ argsz, flags })), { argsz, flags }),
    ),
  );
  fc.assert(
    fc.property(u32, u32, u32, u32, u32, (argsz, flags, numRegions, numIrqs, capOffset) => {
      const d = { argsz, flags, numRegions, numIrqs, capOffset };
      assert.deepEqual(decodeDeviceInfo(encodeDeviceInfo(d)), d);
    }),
  );
  const dev = fc.record({
    id: u32,
    segment: fc.integer({ min: 0, max: 0xffff }),
    bus: fc.integer({ min: 0, max: 255 }),
    devfn: fc.integer({ min: 0, max: 255 }),
  });
  fc.assert(
    fc.property(u32, u32, fc.array(dev, { maxLength: 40 }), (argsz, flags, devs) => {
      const devices = devs.map((d) => ({ ...d }));
      const h = { argsz, flags, count: devices.length, devices };
      assert.deepEqual(decodeHotResetInfo(encodeHotResetInfo(h)), h);
    }),
  );
  fc.assert(
    fc.property(
      u32,
      u32,
      fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }),
      u32,
      (argsz, flags, iommufd, outDevid) => {
        const s = { argsz, flags, iommufd, outDevid };
        assert.deepEqual(decodeBindIommufd(encodeBindIommufd(s)), s);
      },
    ),
  );
  fc.assert(
    fc.property(
      u32,
      u32,
      fc.integer({ min: 0, max: 2 ** 31 }),
      fc.integer({ min: -1, max: 1 << 20 }),
      (flags, group, attr, addr) => {
        const s = { flags, group, attr, addr };
        assert.deepEqual(decodeKvmDeviceAttr(encodeKvmDeviceAttr(s)), s);
      },
    ),
  );
  fc.assert(
    fc.property(fc.stringMatching(/^[0-9a-f:. =-]*$/), (s) =>
      assert.equal(decodeCString(encodeCString(s)), s),
    ),
  );
});
