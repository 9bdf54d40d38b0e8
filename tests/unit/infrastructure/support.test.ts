// The helpers must be able to fail, or every test built on them proves nothing. (given/when/then's own
// tests are in tests/unit/support/given.test.ts.)
import { describe, expect, it } from 'vitest';
import { zoneDecider, type ZoneEvent } from '../../../domain/zone/index.js';
import { runInterleaved, seededRandom } from './support.js';

const at = '2025-01-01T00:00:00.000Z';
const created: ZoneEvent = { type: 'ZoneCreated', data: { zoneId: 'z1', name: 'z', networkType: 'Advanced', created: at } };

describe('runInterleaved', () => {
  it('counts conflicts when writers read the same revision', () => {
    const result = runInterleaved(
      zoneDecider,
      [created],
      [
        { type: 'AddCluster', clusterId: 'c1', name: 'a', hypervisor: 'KVM', at },
        { type: 'AddCluster', clusterId: 'c2', name: 'b', hypervisor: 'KVM', at },
      ],
      [0, 1, 0, 1],
    );
    expect(result.conflicts).toBe(1);
    expect(result.outcomes).toEqual(['appended', 'appended']);
    expect(result.events.map((e) => e.type)).toEqual(['ZoneCreated', 'ClusterAdded', 'ClusterAdded']);
  });
  it('lets stale writers both append when revisions are not checked', () => {
    const result = runInterleaved(
      zoneDecider,
      [created],
      [
        { type: 'AddCluster', clusterId: 'c1', name: 'same', hypervisor: 'KVM', at },
        { type: 'AddCluster', clusterId: 'c2', name: 'same', hypervisor: 'KVM', at },
      ],
      [0, 1, 0, 1],
      { checkRevision: false },
    );
    expect(result.events.filter((e) => e.type === 'ClusterAdded')).toHaveLength(2);
  });
});

describe('seededRandom', () => {
  it('repeats for a seed and stays in [0, 1)', () => {
    const a = seededRandom(42);
    const b = seededRandom(42);
    const xs = Array.from({ length: 100 }, () => a());
    expect(xs).toEqual(Array.from({ length: 100 }, () => b()));
    expect(xs.every((x) => x >= 0 && x < 1)).toBe(true);
    expect(new Set(xs).size).toBeGreaterThan(90);
  });
});
