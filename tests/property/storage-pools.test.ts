// Storage pools under random deployments and expunges: volumes are placed by the pool choice from a
// possibly stale snapshot and reserved on the pools' deciders, as the start saga does. No pool is
// ever committed beyond its (overprovisioned) capacity, no volume lands on a pool its host cannot
// reach or that lacks its tags, and a choice made on fresh books is never refused by the pool.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { choosePools, reaches, type PoolCandidate, type PoolHost } from '../../domain/allocation/index.js';
import { isRejection } from '../../domain/shared/decider.js';
import { bytesHeldBy, overprovisionedBytes, reservedVolumeIds, storagePoolDecider, type StoragePoolEvent, type StoragePoolState } from '../../domain/storage/index.js';
import { stateOf } from '../unit/infrastructure/support.js';

const at = '2025-01-01T00:00:00.000Z';
const HOSTS: readonly PoolHost[] = [
  { hostId: 'h1', name: 'h1', clusterId: 'c1' },
  { hostId: 'h2', name: 'h2', clusterId: 'c1' },
  { hostId: 'h3', name: 'h3', clusterId: 'c2' },
];

const poolShape = fc.oneof(
  fc.record({ scope: fc.constant('ZONE' as const), type: fc.constant('NFS' as const), clusterId: fc.constant(null), hostId: fc.constant(null) }),
  fc.record({ scope: fc.constant('CLUSTER' as const), type: fc.constantFrom('NFS' as const, 'SharedMountPoint' as const), clusterId: fc.constantFrom('c1', 'c2'), hostId: fc.constant(null) }),
  fc.record({ scope: fc.constant('HOST' as const), type: fc.constant('local' as const), clusterId: fc.constant('c1'), hostId: fc.constantFrom('h1', 'h2') }),
);
const pools = fc.array(fc.record({ shape: poolShape, capacityBytes: fc.integer({ min: 1, max: 100 }), tags: fc.subarray(['ssd', 'fast']) }), { minLength: 1, maxLength: 4 });

type Op =
  | { readonly kind: 'deploy'; readonly volume: number; readonly size: number; readonly host: number; readonly tags: readonly string[]; readonly lag: number }
  | { readonly kind: 'expunge'; readonly volume: number };
const op: fc.Arbitrary<Op> = fc.oneof(
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('deploy' as const), volume: fc.integer({ min: 0, max: 15 }), size: fc.integer({ min: 1, max: 60 }), host: fc.integer({ min: 0, max: 2 }), tags: fc.subarray(['ssd']), lag: fc.integer({ min: 0, max: 3 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('expunge' as const), volume: fc.integer({ min: 0, max: 15 }) }) },
);

describe('storage pool properties', () => {
  it('never over-commits a pool over random deploys and expunges, placed from stale snapshots', () => {
    fc.assert(
      fc.property(pools, fc.constantFrom(1, 1.5, 2, 3), fc.array(op, { maxLength: 40 }), (shapes, factor, ops) => {
        const logs = new Map<string, StoragePoolEvent[]>();
        shapes.forEach((p, i) => {
          const poolId = `p${i}`;
          logs.set(poolId, [{ type: 'StoragePoolCreated', data: { poolId, zoneId: 'z', ...p.shape, name: poolId, server: p.shape.type === 'NFS' ? '10.0.0.2' : null, path: `/p${i}`, capacityBytes: p.capacityBytes, tags: p.tags, created: at } }]);
        });
        const state = (poolId: string): Extract<StoragePoolState, { kind: 'pool' }> => {
          const s = stateOf(storagePoolDecider, logs.get(poolId)!);
          if (s.kind !== 'pool') throw new Error('no pool');
          return s;
        };
        const snapshot = (): PoolCandidate[] =>
          [...logs.keys()].map((poolId) => {
            const s = state(poolId);
            return { poolId, name: poolId, scope: s.scope, clusterId: s.clusterId, hostId: s.hostId, type: s.type, capacityBytes: s.capacityBytes, allocatedBytes: s.usedBytes, heldBy: Object.fromEntries(reservedVolumeIds(s).map((v) => [v, bytesHeldBy(s, v)!])), tags: s.tags };
          });
        const history: PoolCandidate[][] = [snapshot()];
        const placedOn = new Map<string, string>();

        for (const o of ops) {
          const volumeId = `v${o.volume}`;
          if (o.kind === 'expunge') {
            const poolId = placedOn.get(volumeId);
            if (poolId) {
              const decision = storagePoolDecider.decide({ type: 'ReleaseStorage', volumeId }, state(poolId));
              if (isRejection(decision)) throw new Error(decision.message);
              logs.get(poolId)!.push(...decision);
              placedOn.delete(volumeId);
            }
          } else if (!placedOn.has(volumeId)) {
            const host = HOSTS[o.host]!;
            const seen = history[Math.max(0, history.length - 1 - o.lag)]!;
            const request = { volumes: [{ volumeId, name: volumeId, size: o.size, storagePoolId: null }], storageTags: o.tags, overprovisioningFactor: factor };
            const choice = choosePools(host, request, seen);
            if (!isRejection(choice)) {
              const [placement] = choice;
              const pool = state(placement!.poolId);
              expect(reaches(pool, host)).toBe(true);
              expect(o.tags.every((t) => pool.tags.includes(t))).toBe(true);
              const decision = storagePoolDecider.decide({ type: 'ReserveStorage', volumeId, bytes: o.size, overprovisioningFactor: factor }, pool);
              // On fresh books the choice and the pool agree: what the choice says fits, the pool takes.
              if (o.lag === 0 || seen === history[history.length - 1]) expect(isRejection(decision)).toBe(false);
              if (!isRejection(decision)) {
                logs.get(placement!.poolId)!.push(...decision);
                placedOn.set(volumeId, placement!.poolId);
              }
            } else {
              // A refusal on fresh books means no reachable, tagged pool has the space.
              if (o.lag === 0) {
                const fits = snapshot().some((p) => reaches(p, host) && o.tags.every((t) => p.tags.includes(t)) && p.allocatedBytes + o.size <= overprovisionedBytes(p, factor));
                expect(fits).toBe(false);
              }
            }
          }
          for (const poolId of logs.keys()) {
            const s = state(poolId);
            expect(s.usedBytes).toBeLessThanOrEqual(overprovisionedBytes(s, factor));
            expect(s.usedBytes).toBe(reservedVolumeIds(s).reduce((sum, v) => sum + bytesHeldBy(s, v)!, 0));
          }
          history.push(snapshot());
        }
        // What the pools hold is exactly the volumes placed and not expunged.
        const held = [...logs.keys()].flatMap((poolId) => reservedVolumeIds(state(poolId)).map((v) => `${v}@${poolId}`)).sort();
        expect(held).toEqual([...placedOn.entries()].map(([v, p]) => `${v}@${p}`).sort());
      }),
      { numRuns: 300 },
    );
  });
});
