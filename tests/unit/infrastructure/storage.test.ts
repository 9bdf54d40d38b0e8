import { describe, expect, it } from 'vitest';
import {
  bytesHeldBy,
  poolHasTags,
  reservedVolumeIds,
  storagePoolDecider,
  storagePoolStream,
  type CreateStoragePoolCommand,
  type StoragePoolEvent,
} from '../../../domain/storage/index.js';
import { given } from '../../support/given.js';

const at = '2025-01-01T00:00:00.000Z';
const createNfs: CreateStoragePoolCommand = {
  type: 'CreateStoragePool',
  poolId: 'p1',
  zoneId: 'z1',
  scope: 'ZONE',
  name: 'demo-nfs',
  poolType: 'NFS',
  server: '10.0.0.2',
  path: '/export/primary',
  capacityBytes: 1000,
  tags: ['fast'],
  at,
};
const created: StoragePoolEvent = {
  type: 'StoragePoolCreated',
  data: {
    poolId: 'p1',
    zoneId: 'z1',
    scope: 'ZONE',
    clusterId: null,
    hostId: null,
    name: 'demo-nfs',
    type: 'NFS',
    server: '10.0.0.2',
    path: '/export/primary',
    capacityBytes: 1000,
    tags: ['fast'],
    created: at,
  },
};
const reserved = (volumeId: string, bytes: number): StoragePoolEvent => ({ type: 'StoragePoolSpaceReserved', data: { poolId: 'p1', volumeId, bytes } });

describe('storage pool', () => {
  it('names its stream storagepool-<id>', () => {
    expect(storagePoolStream('p1')).toBe('storagepool-p1');
  });

  describe('CreateStoragePool', () => {
    it('creates a zone-wide NFS pool', () => {
      const state = given(storagePoolDecider).when(createNfs).then([created]);
      expect(state.kind === 'pool' && state.usedBytes).toBe(0);
    });
    it('creates a cluster-wide SharedMountPoint pool and a host-local pool', () => {
      given(storagePoolDecider)
        .when({ ...createNfs, scope: 'CLUSTER', clusterId: 'c1', poolType: 'SharedMountPoint', server: null, tags: [] })
        .then([{ type: 'StoragePoolCreated', data: { ...created.data, scope: 'CLUSTER', clusterId: 'c1', type: 'SharedMountPoint', server: null, tags: [] } }]);
      given(storagePoolDecider)
        .when({ ...createNfs, scope: 'HOST', clusterId: 'c1', hostId: 'h1', poolType: 'local', server: undefined, tags: undefined })
        .then([
          { type: 'StoragePoolCreated', data: { ...created.data, scope: 'HOST', clusterId: 'c1', hostId: 'h1', type: 'local', server: null, tags: [] } },
        ]);
    });
    it.each([
      [{ poolId: '' }, 'poolId'],
      [{ zoneId: '' }, 'zoneId'],
      [{ name: '' }, 'name'],
      [{ poolType: 'iSCSI' as 'NFS' }, 'type'],
      [{ scope: 'GLOBAL' as 'ZONE' }, 'scope'],
      [{ path: 'relative/path' }, 'path'],
      [{ capacityBytes: 0 }, 'capacityBytes'],
      [{ capacityBytes: 1.5 }, 'capacityBytes'],
      [{ tags: ['x,y'] }, 'tags'],
      [{ at: '' }, 'at'],
      [{ clusterId: 'c1' }, 'clusterId'],
      [{ scope: 'CLUSTER' as const }, 'clusterId'],
      [{ scope: 'CLUSTER' as const, clusterId: 'c1', hostId: 'h1' }, 'hostId'],
      [{ scope: 'HOST' as const, clusterId: 'c1' }, 'hostId'],
      [{ scope: 'HOST' as const, clusterId: 'c1', hostId: 'h1' }, 'scope'],
      [{ poolType: 'local' as const }, 'scope'],
      [{ server: null }, 'server'],
      [{ server: 'bad server' }, 'server'],
      [{ poolType: 'SharedMountPoint' as const }, 'server'],
    ] as const)('rejects %o', (change, field) => {
      given(storagePoolDecider).when({ ...createNfs, ...change } as CreateStoragePoolCommand).then('BAD_USER_INPUT', { field });
    });
    it('rejects an existing pool', () => {
      given(storagePoolDecider, [created]).when(createNfs).then('CONFLICT', { field: 'poolId' });
    });
  });

  describe('ReserveStorage / ReleaseStorage', () => {
    it('reserves bytes, resizes and releases', () => {
      const s1 = given(storagePoolDecider, [created]).when({ type: 'ReserveStorage', volumeId: 'v1', bytes: 600 }).then([reserved('v1', 600)]);
      expect(s1.kind === 'pool' && s1.usedBytes).toBe(600);
      const s2 = given(storagePoolDecider, [created, reserved('v1', 600)]).when({ type: 'ReserveStorage', volumeId: 'v1', bytes: 1000 }).then([reserved('v1', 1000)]);
      expect(s2.kind === 'pool' && s2.usedBytes).toBe(1000);
      const s3 = given(storagePoolDecider, [created, reserved('v1', 600)])
        .when({ type: 'ReleaseStorage', volumeId: 'v1' })
        .then([{ type: 'StoragePoolSpaceReleased', data: { poolId: 'p1', volumeId: 'v1', bytes: 600 } }]);
      expect(s3.kind === 'pool' && [s3.usedBytes, reservedVolumeIds(s3)]).toEqual([0, []]);
    });
    it('given a volume reserved, released and reserved again, then it holds only its last size and is released once', () => {
      const released: StoragePoolEvent = { type: 'StoragePoolSpaceReleased', data: { poolId: 'p1', volumeId: 'v1', bytes: 600 } };
      const again = given(storagePoolDecider, [created, reserved('v1', 600), released, reserved('v2', 100)])
        .when({ type: 'ReserveStorage', volumeId: 'v1', bytes: 900 })
        .then([reserved('v1', 900)]);
      expect(again.kind === 'pool' && [again.usedBytes, bytesHeldBy(again, 'v1'), [...reservedVolumeIds(again)].sort()]).toEqual([1000, 900, ['v1', 'v2']]);
      // A re-reservation replaces what the volume held: the same size is a no-op, a larger one counts once.
      given(storagePoolDecider, [created, reserved('v1', 600), released, reserved('v1', 900)]).when({ type: 'ReserveStorage', volumeId: 'v1', bytes: 900 }).then([]);
      given(storagePoolDecider, [created, reserved('v1', 600), released, reserved('v1', 900)]).when({ type: 'ReserveStorage', volumeId: 'v1', bytes: 1000 }).then([reserved('v1', 1000)]);
      const gone = given(storagePoolDecider, [created, reserved('v1', 600), released, reserved('v1', 900)])
        .when({ type: 'ReleaseStorage', volumeId: 'v1' })
        .then([{ type: 'StoragePoolSpaceReleased', data: { poolId: 'p1', volumeId: 'v1', bytes: 900 } }]);
      expect(gone.kind === 'pool' && [gone.usedBytes, bytesHeldBy(gone, 'v1')]).toEqual([0, undefined]);
      given(storagePoolDecider, [created, reserved('v1', 600), released, reserved('v1', 900), { ...released, data: { ...released.data, bytes: 900 } }])
        .when({ type: 'ReleaseStorage', volumeId: 'v1' })
        .then([]);
    });
    it('treats repeats as no-ops', () => {
      given(storagePoolDecider, [created, reserved('v1', 600)]).when({ type: 'ReserveStorage', volumeId: 'v1', bytes: 600 }).then([]);
      given(storagePoolDecider, [created]).when({ type: 'ReleaseStorage', volumeId: 'v1' }).then([]);
    });
    it('refuses more than is free', () => {
      given(storagePoolDecider, [created, reserved('v1', 600)]).when({ type: 'ReserveStorage', volumeId: 'v2', bytes: 401 }).then('INSUFFICIENT_CAPACITY');
    });
    it('rejects bad input and missing pools', () => {
      given(storagePoolDecider, [created]).when({ type: 'ReserveStorage', volumeId: 'v1', bytes: 0 }).then('BAD_USER_INPUT', { field: 'size' });
      given(storagePoolDecider, [created]).when({ type: 'ReserveStorage', volumeId: '', bytes: 1 }).then('BAD_USER_INPUT', { field: 'volumeId' });
      given(storagePoolDecider, [created]).when({ type: 'ReleaseStorage', volumeId: '' }).then('BAD_USER_INPUT', { field: 'volumeId' });
      given(storagePoolDecider).when({ type: 'ReserveStorage', volumeId: 'v1', bytes: 1 }).then('NOT_FOUND');
      given(storagePoolDecider).when({ type: 'ReleaseStorage', volumeId: 'v1' }).then('NOT_FOUND');
    });
  });

  it('matches storage tags', () => {
    expect(poolHasTags({ tags: ['a', 'b'] }, ['b'])).toBe(true);
    expect(poolHasTags({ tags: ['a'] }, ['a', 'b'])).toBe(false);
    expect(poolHasTags({ tags: [] }, [])).toBe(true);
  });
});
