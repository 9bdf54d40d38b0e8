// Storage pools and affinity groups keep their state as snapshots (a pool's reservations, a persistent
// map, as a list; a group's state as plain JSON): restoring a prefix's snapshot (through JSON text, as
// the store keeps it) and folding the rest gives the state and the decisions a fold from the start gives.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { affinityGroupDecider, type AffinityGroupCommand, type AffinityGroupEvent, type AffinityGroupState } from '../../domain/affinity/index.js';
import { fold, type Decider, type DomainEvent } from '../../domain/shared/decider.js';
import {
  bytesHeldBy,
  reservedVolumeIds,
  storagePoolDecider,
  storagePoolSnapshotting,
  type StoragePoolCommand,
  type StoragePoolEvent,
  type StoragePoolState,
} from '../../domain/storage/index.js';

const at = '2025-01-01T00:00:00.000Z';

/** `observe` maps a state to what is compared: everything the decider and the API read of it. */
function resumesLikeAFold<C, S, E extends DomainEvent>(
  decider: Decider<C, S, E>,
  histories: fc.Arbitrary<E[]>,
  commands: readonly C[],
  observe: (state: S) => unknown = (state) => state,
): void {
  const spec = decider.snapshot;
  expect(spec).toBeDefined();
  fc.assert(
    fc.property(histories, fc.nat(), (events, cut) => {
      const split = cut % (events.length + 1);
      const whole = fold(decider, events);
      const restored = spec!.fromJson(JSON.parse(JSON.stringify(spec!.toJson(fold(decider, events.slice(0, split))))));
      const resumed = events.slice(split).reduce((state, event) => decider.evolve(state, event), restored);
      expect(observe(resumed)).toEqual(observe(whole));
      for (const command of commands) expect(decider.decide(command, resumed)).toEqual(decider.decide(command, whole));
    }),
    { numRuns: 200 },
  );
}

const poolCreated: StoragePoolEvent = {
  type: 'StoragePoolCreated',
  data: { poolId: 'p1', zoneId: 'z1', scope: 'ZONE', clusterId: null, hostId: null, name: 'p1', type: 'NFS', server: '10.0.0.1', path: '/export', capacityBytes: 3000, tags: ['fast'], created: at },
};
const volumeId = fc.constantFrom('v0', 'v1', 'v2', 'v3', 'v4');
const poolEvents: fc.Arbitrary<StoragePoolEvent[]> = fc
  .array(
    fc.tuple(fc.boolean(), volumeId, fc.integer({ min: 1, max: 1000 })).map(
      ([reserve, id, bytes]): StoragePoolEvent => ({ type: reserve ? 'StoragePoolSpaceReserved' : 'StoragePoolSpaceReleased', data: { poolId: 'p1', volumeId: id, bytes } }),
    ),
    { maxLength: 40 },
  )
  .map((rest) => [poolCreated, ...rest]);

/** A pool with its reservations as a list sorted by volume, so the persistent map is compared by what it holds. */
function observedPool(state: StoragePoolState) {
  if (state.kind !== 'pool') return state;
  const { reservations: _map, ...fields } = state;
  return { ...fields, reservations: [...reservedVolumeIds(state)].sort().map((volumeId) => [volumeId, bytesHeldBy(state, volumeId)]) };
}

const member = fc.constantFrom('i0', 'i1', 'i2', 'i3');
const host = fc.constantFrom('h0', 'h1', 'h2');
const named = { groupId: 'g1', name: 'web', type: 'host anti-affinity', accountId: 'a1', domainId: 'd1' } as const;
const groupEvents: fc.Arbitrary<AffinityGroupEvent[]> = fc
  .array(
    fc.oneof(
      fc.tuple(member, host).map(([instanceId, hostId]): AffinityGroupEvent => ({ type: 'AffinityMemberPlaced', data: { ...named, instanceId, hostId, enforced: true } })),
      fc.tuple(member, host).map(([instanceId, hostId]): AffinityGroupEvent => ({ type: 'AffinityMemberUnplaced', data: { ...named, instanceId, hostId } })),
      fc.tuple(member, fc.option(host)).map(([instanceId, hostId]): AffinityGroupEvent => ({ type: 'AffinityMemberSettled', data: { ...named, instanceId, hostId } })),
    ),
    { maxLength: 40 },
  )
  .map((rest) => [{ type: 'AffinityGroupCreated', data: { ...named, description: null, created: at } }, ...rest]);

describe('storage pool and affinity group snapshots', () => {
  it('storage pool: restoring a prefix and folding the rest equals folding all', () => {
    const commands: StoragePoolCommand[] = [
      { type: 'ReserveStorage', volumeId: 'v2', bytes: 700 },
      { type: 'ReserveStorage', volumeId: 'v9', bytes: 1500 },
      { type: 'ReleaseStorage', volumeId: 'v1' },
    ];
    resumesLikeAFold<StoragePoolCommand, StoragePoolState, StoragePoolEvent>(storagePoolDecider, poolEvents, commands, observedPool);
  });

  it('given a pool holding two volumes, when it is snapshotted, then the snapshot is plain JSON with the reservations as [volumeId, bytes] pairs', () => {
    const state = fold(storagePoolDecider, [
      poolCreated,
      { type: 'StoragePoolSpaceReserved', data: { poolId: 'p1', volumeId: 'v1', bytes: 100 } },
      { type: 'StoragePoolSpaceReserved', data: { poolId: 'p1', volumeId: 'v2', bytes: 250 } },
    ]);
    const json = storagePoolSnapshotting.toJson(state) as { reservations: unknown; usedBytes: number };
    expect(json.reservations).toEqual([
      ['v1', 100],
      ['v2', 250],
    ]);
    expect(json.usedBytes).toBe(350);
    expect(JSON.parse(JSON.stringify(json))).toEqual(json);
    expect(storagePoolSnapshotting.fromJson(JSON.parse(JSON.stringify(json)))).toSatisfy((restored: StoragePoolState) => restored.kind === 'pool' && bytesHeldBy(restored, 'v2') === 250);
  });

  it('refuses to restore a pool snapshot toJson cannot have written', () => {
    const pool = storagePoolSnapshotting.toJson(fold(storagePoolDecider, [poolCreated])) as object;
    // The shape snapshots of version 1 had: a record of reservations.
    expect(() => storagePoolSnapshotting.fromJson({ ...pool, reservations: { v1: 100 }, usedBytes: 100 })).toThrow(/reservations/);
    expect(() => storagePoolSnapshotting.fromJson({ ...pool, reservations: [['v1', 0]], usedBytes: 0 })).toThrow(/\[volumeId, bytes\] pairs, got \["v1",0\]/);
    expect(() => storagePoolSnapshotting.fromJson({ ...pool, reservations: [['v1', 100]], usedBytes: 99 })).toThrow(/usedBytes 99 is not the 100 bytes/);
    expect(() => storagePoolSnapshotting.fromJson({ kind: 'host' })).toThrow(/absent pool or a pool/);
    expect(storagePoolSnapshotting.fromJson({ kind: 'absent' })).toEqual({ kind: 'absent' });
  });

  it('affinity group: restoring a prefix and folding the rest equals folding all', () => {
    const commands: AffinityGroupCommand[] = [
      { type: 'PlaceMember', groupId: 'g1', instanceId: 'i9', hostId: 'h1', enforce: true },
      { type: 'UnplaceMember', groupId: 'g1', instanceId: 'i1', hostId: 'h0' },
      { type: 'SettleMember', groupId: 'g1', instanceId: 'i2', hostId: null },
    ];
    resumesLikeAFold<AffinityGroupCommand, AffinityGroupState, AffinityGroupEvent>(affinityGroupDecider, groupEvents, commands);
  });

  it('refuses to restore what is not an object', () => {
    expect(() => storagePoolDecider.snapshot!.fromJson([1])).toThrow(/storagepool snapshot is an object/);
    expect(() => affinityGroupDecider.snapshot!.fromJson('x')).toThrow(/affinitygroup snapshot is an object/);
  });
});
