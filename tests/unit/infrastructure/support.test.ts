// The helpers must be able to fail, or every test built on them proves nothing.
import { describe, expect, it } from 'vitest';
import { zoneDecider, type ZoneEvent, type ZoneState } from '../../../domain/zone/index.js';
import type { Decider } from '../../../domain/shared/decider.js';
import { given, runInterleaved, seededRandom } from './support.js';

const at = '2025-01-01T00:00:00.000Z';
const created: ZoneEvent = { type: 'ZoneCreated', data: { zoneId: 'z1', name: 'z', networkType: 'Advanced', created: at } };

describe('given/when/then', () => {
  it('fails on a different event list', () => {
    expect(() => given(zoneDecider).when({ type: 'CreateZone', zoneId: 'z1', name: 'other', at }).then([created])).toThrow();
  });
  it('fails when events were expected but the command was rejected', () => {
    expect(() => given(zoneDecider, [created]).when({ type: 'CreateZone', zoneId: 'z1', name: 'z', at }).then([])).toThrow();
  });
  it('fails on the wrong rejection code or field', () => {
    expect(() => given(zoneDecider, [created]).when({ type: 'CreateZone', zoneId: 'z1', name: 'z', at }).then('NOT_FOUND')).toThrow();
    expect(() => given(zoneDecider, [created]).when({ type: 'CreateZone', zoneId: 'z1', name: 'z', at }).then('CONFLICT', 'name')).toThrow();
  });
  it('fails when a rejection was expected but events were decided', () => {
    expect(() => given(zoneDecider).when({ type: 'CreateZone', zoneId: 'z1', name: 'z', at }).then('CONFLICT')).toThrow();
  });
  it('catches a decide() that mutates its state', () => {
    const mutating: Decider<{ type: 'X' }, ZoneState, ZoneEvent> = {
      ...zoneDecider,
      decide: (_command, state) => {
        (state as { kind: string }).kind = 'absent';
        return [];
      },
    };
    expect(() => given(mutating, [created]).when({ type: 'X' })).toThrow(TypeError);
  });
});

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
