// Volume allocation (domain/allocation/pool-choice.ts), the pool's own capacity rule with the
// overprovisioning factor (domain/storage), and the instance recording where its volumes went.
import { describe, expect, it } from 'vitest';
import {
  choosePools,
  firstHostWithStorage,
  largestPossibleVolume,
  reaches,
  type PoolCandidate,
  type PoolChoiceRequest,
} from '../../../domain/allocation/index.js';
import { instanceDecider, type InstanceCommand } from '../../../domain/instance/index.js';
import { isRejection } from '../../../domain/shared/decider.js';
import { overprovisionedBytes, storagePoolDecider, type StoragePoolEvent } from '../../../domain/storage/index.js';
import { given } from '../../support/given.js';
import { AT, ID, cmd, deploy, eventsOf } from '../instance/fixtures.js';

const GiB = 1024 ** 3;
const h1 = { hostId: 'h1', name: 'kvm-1', clusterId: 'c1' };
const h2 = { hostId: 'h2', name: 'kvm-2', clusterId: 'c2' };

const pool = (poolId: string, over: Partial<PoolCandidate> = {}): PoolCandidate => ({
  poolId,
  name: poolId,
  scope: 'ZONE',
  clusterId: null,
  hostId: null,
  type: 'NFS',
  capacityBytes: 10 * GiB,
  allocatedBytes: 0,
  tags: [],
  ...over,
});
const root = (size: number, storagePoolId: string | null = null) => ({ volumeId: 'v-root', name: 'ROOT-1', size, storagePoolId });
const request = (over: Partial<PoolChoiceRequest> = {}): PoolChoiceRequest => ({ volumes: [root(4 * GiB)], storageTags: [], overprovisioningFactor: 1, ...over });

describe('volume allocation: which pools a host reaches', () => {
  it('a zone-wide pool every host, a cluster pool its cluster, a local pool its host', () => {
    expect(reaches(pool('z'), h1)).toBe(true);
    expect(reaches(pool('c', { scope: 'CLUSTER', clusterId: 'c1' }), h1)).toBe(true);
    expect(reaches(pool('c', { scope: 'CLUSTER', clusterId: 'c1' }), h2)).toBe(false);
    expect(reaches(pool('l', { scope: 'HOST', clusterId: 'c1', hostId: 'h1', type: 'local' }), h1)).toBe(true);
    expect(reaches(pool('l', { scope: 'HOST', clusterId: 'c1', hostId: 'h1', type: 'local' }), { ...h1, hostId: 'h3' })).toBe(false);
  });
});

describe('volume allocation: choosing pools', () => {
  it('puts a new volume on the first pool (firstfit) the host reaches, that carries the tags and has the space', () => {
    const pools = [
      pool('other-cluster', { scope: 'CLUSTER', clusterId: 'c2' }),
      pool('untagged'),
      pool('full', { tags: ['ssd'], allocatedBytes: 8 * GiB }),
      pool('fits', { tags: ['ssd', 'fast'] }),
    ];
    expect(choosePools(h1, request({ storageTags: ['ssd'] }), pools)).toEqual([{ volumeId: 'v-root', poolId: 'fits', bytes: 4 * GiB }]);
  });

  it('refuses with INSUFFICIENT_CAPACITY naming each pool and why', () => {
    const pools = [pool('other', { scope: 'CLUSTER', clusterId: 'c2' }), pool('local', { scope: 'HOST', clusterId: 'c1', hostId: 'h9', type: 'local' }), pool('plain'), pool('full', { tags: ['ssd'], allocatedBytes: 8 * GiB, type: 'SharedMountPoint' })];
    const refusal = choosePools(h1, request({ storageTags: ['ssd'] }), pools);
    expect(refusal).toMatchObject({ code: 'INSUFFICIENT_CAPACITY' });
    expect(isRejection(refusal) && refusal.message).toBe(
      `No storage pool reachable from host kvm-1 can hold volume ROOT-1 of ${4 * GiB} bytes with storage tags [ssd]: other is in another cluster; ` +
        `local is local to another host; plain lacks storage tags [ssd]; full has ${2 * GiB} of ${10 * GiB} bytes free, ${4 * GiB} needed`,
    );
    expect(choosePools(h1, request(), [])).toMatchObject({ code: 'INSUFFICIENT_CAPACITY', message: expect.stringContaining('the zone has no storage pools') });
  });

  it('counts an NFS pool overprovisioned by the factor, other pool types at their size', () => {
    const nfs = pool('nfs', { allocatedBytes: 9 * GiB });
    expect(isRejection(choosePools(h1, request(), [nfs]))).toBe(true);
    expect(choosePools(h1, request({ overprovisioningFactor: 2 }), [nfs])).toEqual([{ volumeId: 'v-root', poolId: 'nfs', bytes: 4 * GiB }]);
    expect(overprovisionedBytes({ type: 'NFS', capacityBytes: 100 }, 2.5)).toBe(250);
    expect(overprovisionedBytes({ type: 'SharedMountPoint', capacityBytes: 100 }, 2.5)).toBe(100);
    expect(overprovisionedBytes({ type: 'local', capacityBytes: 100 }, 2.5)).toBe(100);
  });

  it('counts the volumes placed before in the same choice, and not a volume against its own reservation', () => {
    const two = request({ volumes: [root(6 * GiB), { volumeId: 'v-data', name: 'DATA-1', size: 6 * GiB, storagePoolId: null }] });
    expect(choosePools(h1, two, [pool('a'), pool('b')])).toEqual([
      { volumeId: 'v-root', poolId: 'a', bytes: 6 * GiB },
      { volumeId: 'v-data', poolId: 'b', bytes: 6 * GiB },
    ]);
    // A placement interrupted after it reserved finds its own bytes there, not someone else's.
    const held = pool('a', { allocatedBytes: 10 * GiB, heldBy: { 'v-root': 4 * GiB } });
    expect(choosePools(h1, request(), [held])).toEqual([{ volumeId: 'v-root', poolId: 'a', bytes: 4 * GiB }]);
  });

  it('keeps a volume on its pool, which the host must reach', () => {
    const cluster = pool('c1-pool', { scope: 'CLUSTER', clusterId: 'c1', allocatedBytes: 10 * GiB });
    expect(choosePools(h1, request({ volumes: [root(4 * GiB, 'c1-pool')] }), [cluster])).toEqual([{ volumeId: 'v-root', poolId: 'c1-pool', bytes: 4 * GiB }]);
    expect(choosePools(h2, request({ volumes: [root(4 * GiB, 'c1-pool')] }), [cluster])).toMatchObject({
      code: 'INSUFFICIENT_CAPACITY',
      message: 'Host kvm-2 cannot reach storage pool c1-pool of volume ROOT-1',
    });
  });

  it('takes the first host, in the planner’s order, whose pools can hold the volumes', () => {
    const pools = [pool('c2-pool', { scope: 'CLUSTER', clusterId: 'c2' })];
    expect(firstHostWithStorage([h1, h2], request(), pools)).toMatchObject({ host: h2, placements: [{ poolId: 'c2-pool' }] });
    expect(firstHostWithStorage([h1], request(), pools)).toMatchObject({ code: 'INSUFFICIENT_CAPACITY', message: expect.stringContaining('kvm-1') });
  });

  it('knows the largest volume any pool with the tags could take, empty', () => {
    const pools = [pool('nfs', { capacityBytes: 10 * GiB, allocatedBytes: 10 * GiB }), pool('smp', { type: 'SharedMountPoint', capacityBytes: 30 * GiB, tags: ['ssd'] })];
    expect(largestPossibleVolume(pools, [], 2)).toBe(30 * GiB);
    expect(largestPossibleVolume(pools, [], 4)).toBe(40 * GiB);
    expect(largestPossibleVolume(pools, ['ssd'], 4)).toBe(30 * GiB);
    expect(largestPossibleVolume(pools, ['gold'], 4)).toBe(0);
  });
});

describe('storage pool: reservations with the overprovisioning factor', () => {
  const created = (type: 'NFS' | 'SharedMountPoint'): StoragePoolEvent => ({
    type: 'StoragePoolCreated',
    data: { poolId: 'p1', zoneId: 'z1', scope: 'ZONE', clusterId: null, hostId: null, name: 'primary', type, server: type === 'NFS' ? '10.0.0.2' : null, path: '/p', capacityBytes: 1000, tags: [], created: AT },
  });
  const reserved = (volumeId: string, bytes: number): StoragePoolEvent => ({ type: 'StoragePoolSpaceReserved', data: { poolId: 'p1', volumeId, bytes } });

  it('an NFS pool takes up to its size times the factor', () => {
    given(storagePoolDecider, [created('NFS'), reserved('v1', 1000)]).when({ type: 'ReserveStorage', volumeId: 'v2', bytes: 1000, overprovisioningFactor: 2 }).then([reserved('v2', 1000)]);
    given(storagePoolDecider, [created('NFS'), reserved('v1', 1000)])
      .when({ type: 'ReserveStorage', volumeId: 'v2', bytes: 1001, overprovisioningFactor: 2 })
      .then('INSUFFICIENT_CAPACITY', { message: 'Storage pool primary has 1000 of 2000 bytes (1000 × overprovisioning factor 2) free, 1001 needed for volume v2' });
  });

  it('a shared mount point is not overprovisioned', () => {
    given(storagePoolDecider, [created('SharedMountPoint'), reserved('v1', 1000)])
      .when({ type: 'ReserveStorage', volumeId: 'v2', bytes: 1, overprovisioningFactor: 2 })
      .then('INSUFFICIENT_CAPACITY', { message: 'Storage pool primary has 0 of 1000 bytes free, 1 needed for volume v2' });
  });

  it('refuses a factor below 1', () => {
    given(storagePoolDecider, [created('NFS')]).when({ type: 'ReserveStorage', volumeId: 'v1', bytes: 1, overprovisioningFactor: 0.5 }).then('BAD_USER_INPUT', { field: 'storage.overprovisioning.factor' });
  });
});

describe('instance: volumes placed by the start saga', () => {
  const unplaced = () => eventsOf(deploy({ rootVolume: { id: ID.root, name: 'ROOT-web-1', size: 2 * GiB, storagePoolId: null, diskOfferingId: null } }), cmd.start());
  const place = (jobId = 'job-start', storagePoolId: string = ID.pool): InstanceCommand => ({
    type: 'RecordVolumesPlaced',
    instanceId: ID.vm,
    jobId,
    at: AT,
    placements: [{ volumeId: ID.root, storagePoolId }],
  });

  it('given a starting instance whose root has no pool, when placed, then the root is on the pool', () => {
    const state = given(instanceDecider, unplaced())
      .when(place())
      .then([{ type: 'InstanceVolumesPlaced', data: { instanceId: ID.vm, jobId: 'job-start', placements: [{ volumeId: ID.root, storagePoolId: ID.pool }] } }]);
    expect(state.exists && state.volumes[0]?.storagePoolId).toBe(ID.pool);
  });

  it('repeating the placement changes nothing; another pool for a placed volume is refused', () => {
    const placed = [...unplaced(), { type: 'InstanceVolumesPlaced' as const, data: { instanceId: ID.vm, jobId: 'job-start', placements: [{ volumeId: ID.root, storagePoolId: ID.pool }] } }];
    given(instanceDecider, placed).when(place()).then([]);
    given(instanceDecider, placed).when(place('job-start', 'pool-other')).then('INVALID_STATE');
  });

  it('is refused for another job than the start under way, and for a volume the instance lacks', () => {
    given(instanceDecider, unplaced()).when(place('job-other')).then('INVALID_STATE');
    given(instanceDecider, unplaced())
      .when({ ...place(), placements: [{ volumeId: 'vol-nope', storagePoolId: ID.pool }] } as InstanceCommand)
      .then('BAD_USER_INPUT', { field: 'placements' });
  });
});
