import { describe, expect, it } from 'vitest';
import {
  allocationSettings,
  hostCandidate,
  leastConsumedMetric,
  planHost,
  shuffle,
  type HostAllocationRequest,
  type HostCandidate,
} from '../../../domain/allocation/index.js';
import { configurationDecider } from '../../../domain/config/index.js';
import { hostDecider, type HostEvent } from '../../../domain/host/index.js';
import { isRejection, type Rejection } from '../../../domain/shared/decider.js';
import { seededRandom, stateOf } from './support.js';

const host = (hostId: string, overrides: Partial<HostCandidate> = {}): HostCandidate => ({
  hostId,
  name: `host-${hostId}`,
  clusterId: 'c1',
  hypervisor: 'KVM',
  state: 'Up',
  hostTags: [],
  cpuNumber: 8,
  cpuSpeed: 2000,
  memory: 16384,
  usedCpu: 0,
  usedMemory: 0,
  accountInstanceCount: 0,
  ...overrides,
});
const request = (overrides: Partial<HostAllocationRequest> = {}): HostAllocationRequest => ({
  cpuNumber: 2,
  cpuSpeed: 1000,
  memory: 1024,
  hostTags: [],
  algorithm: 'firstfit',
  capacityType: 'CPU',
  cpuToMemoryWeight: 0.5,
  ...overrides,
});
const noRandom = () => {
  throw new Error('random must not be used');
};
const plan = (r: Partial<HostAllocationRequest>, hosts: HostCandidate[], random: () => number = noRandom) => planHost(request(r), { hosts }, random);

describe('planHost', () => {
  const a = host('a');
  const b = host('b');
  const c = host('c');

  it('firstfit keeps the given order', () => {
    expect(plan({}, [a, b, c])).toEqual({ hostId: 'a', candidates: ['a', 'b', 'c'], reason: 'allocator' });
  });

  it('random shuffles with the given random source', () => {
    // Fisher–Yates from the end: i=2 picks j=floor(0.0*3)=0 → [c,b,a]; i=1 picks j=floor(0.99*2)=1 → unchanged.
    const values = [0.0, 0.99];
    const random = () => values.shift() ?? 0;
    expect(plan({ algorithm: 'random' }, [a, b, c], random)).toEqual({ hostId: 'c', candidates: ['c', 'b', 'a'], reason: 'allocator' });
    expect(plan({ algorithm: 'userconcentratedpod_random' }, [a, b, c], seededRandom(7))).toEqual(plan({ algorithm: 'random' }, [a, b, c], seededRandom(7)));
  });

  it('userconcentratedpod_firstfit orders like firstfit', () => {
    expect(plan({ algorithm: 'userconcentratedpod_firstfit' }, [a, b, c])).toEqual(plan({}, [a, b, c]));
  });

  it('userdispersing prefers hosts with fewer of the account’s instances, stable on ties', () => {
    const hosts = [host('a', { accountInstanceCount: 2 }), host('b', { accountInstanceCount: 0 }), host('c', { accountInstanceCount: 1 }), host('d')];
    expect(plan({ algorithm: 'userdispersing' }, hosts)).toEqual({ hostId: 'b', candidates: ['b', 'd', 'c', 'a'], reason: 'allocator' });
  });

  describe('firstfitleastconsumed', () => {
    const hosts = [
      host('a', { usedCpu: 8000, usedMemory: 0 }), // free 8000 MHz, 16384 MiB
      host('b', { usedCpu: 0, usedMemory: 12288 }), // free 16000 MHz, 4096 MiB
      host('c', { usedCpu: 4000, usedMemory: 4096 }), // free 12000 MHz, 12288 MiB
    ];
    it('orders by free CPU', () => {
      expect(plan({ algorithm: 'firstfitleastconsumed', capacityType: 'CPU' }, hosts)).toMatchObject({ candidates: ['b', 'c', 'a'] });
    });
    it('orders by free RAM', () => {
      expect(plan({ algorithm: 'firstfitleastconsumed', capacityType: 'RAM' }, hosts)).toMatchObject({ candidates: ['a', 'c', 'b'] });
    });
    it('orders by the weighted combination of free fractions', () => {
      // a: 0.5·0.5+0.5·1 = 0.75; b: 0.5·1+0.5·0.25 = 0.625; c: 0.5·0.75+0.5·0.75 = 0.75 (tie keeps a first)
      expect(plan({ algorithm: 'firstfitleastconsumed', capacityType: 'COMBINED', cpuToMemoryWeight: 0.5 }, hosts)).toMatchObject({ candidates: ['a', 'c', 'b'] });
      // w=0.9 favours CPU: a 0.55, b 0.925, c 0.75
      expect(plan({ algorithm: 'firstfitleastconsumed', capacityType: 'COMBINED', cpuToMemoryWeight: 0.9 }, hosts)).toMatchObject({ candidates: ['b', 'c', 'a'] });
      expect(leastConsumedMetric(hosts[1]!, 'COMBINED', 0.9)).toBeCloseTo(0.925);
    });
  });

  it('skips hosts that are not Up, lack a tag, or lack capacity, and says why when none is left', () => {
    const hosts = [
      host('down', { state: 'Disconnected' }),
      host('maint', { state: 'Maintenance' }),
      host('untagged', { hostTags: ['ssd'] }),
      host('fullcpu', { hostTags: ['ssd', 'gpu'], usedCpu: 15000 }),
      host('fullram', { hostTags: ['gpu', 'ssd'], usedMemory: 16000 }),
      host('ok', { hostTags: ['gpu', 'ssd', 'x'] }),
    ];
    expect(plan({ hostTags: ['ssd', 'gpu'] }, hosts)).toEqual({ hostId: 'ok', candidates: ['ok'], reason: 'allocator' });
    const rejection = plan({ hostTags: ['ssd', 'gpu'] }, hosts.slice(0, 5)) as Rejection;
    expect(rejection.code).toBe('INSUFFICIENT_CAPACITY');
    expect(rejection.message).toBe(
      'No suitable host for 2 × 1000 MHz CPU and 1024 MiB memory with host tags [ssd, gpu]: ' +
        'host-down is Disconnected; host-maint is Maintenance; host-untagged lacks host tags [gpu]; ' +
        'host-fullcpu needs 2000 MHz CPU but only 1000 MHz is free; host-fullram needs 1024 MiB memory but only 384 MiB is free',
    );
  });

  it('refuses an empty snapshot', () => {
    expect(plan({}, [])).toMatchObject({ code: 'INSUFFICIENT_CAPACITY', message: 'No suitable host for 2 × 1000 MHz CPU and 1024 MiB memory: there are no hosts' });
  });

  it('checks core count and core speed, not just total MHz', () => {
    expect(plan({ cpuNumber: 9, cpuSpeed: 100 }, [a])).toMatchObject({ code: 'INSUFFICIENT_CAPACITY' });
    expect(plan({ cpuNumber: 1, cpuSpeed: 2001 }, [a])).toMatchObject({ code: 'INSUFFICIENT_CAPACITY' });
  });

  it('honours avoid sets, cluster restriction and prohibited hosts', () => {
    expect(plan({ avoidHostIds: ['a'] }, [a, b, c])).toMatchObject({ hostId: 'b', candidates: ['b', 'c'] });
    expect(plan({ clusterId: 'c2' }, [a, host('x', { clusterId: 'c2' })])).toMatchObject({ hostId: 'x', candidates: ['x'] });
    expect(plan({ hostPriorities: { a: Number.NEGATIVE_INFINITY } }, [a, b])).toMatchObject({ hostId: 'b', candidates: ['b'] });
    expect(plan({ avoidHostIds: ['a', 'b', 'c'] }, [a, b, c])).toMatchObject({ code: 'INSUFFICIENT_CAPACITY' });
  });

  it("keeps to hosts of the instance's hypervisor", () => {
    const esx = host('esx', { hypervisor: 'VMware' });
    expect(plan({ hypervisorType: 'KVM' }, [esx, a])).toMatchObject({ hostId: 'a', candidates: ['a'] });
    const none = plan({ hypervisorType: 'VMware' }, [a, b]) as Rejection;
    expect(none.code).toBe('INSUFFICIENT_CAPACITY');
    expect(none.message).toContain('host-a is a KVM host, not VMware');
    expect(plan({ hypervisorType: 'KVM', explicitHostId: 'esx' }, [esx, a])).toMatchObject({ code: 'INSUFFICIENT_CAPACITY', field: 'hostId' });
  });

  it('reorders by non-strict affinity priority, stable within a priority', () => {
    expect(plan({ hostPriorities: { c: 2, b: 1, a: 1 } }, [a, b, c])).toMatchObject({ candidates: ['c', 'a', 'b'] });
    expect(plan({ hostPriorities: { a: -1 } }, [a, b, c])).toMatchObject({ candidates: ['b', 'c', 'a'] });
  });

  describe('last host', () => {
    it('tries a suitable last host first', () => {
      expect(plan({ lastHostId: 'c' }, [a, b, c])).toEqual({ hostId: 'c', candidates: ['c', 'a', 'b'], reason: 'lastHost' });
      expect(plan({ lastHostId: 'c', considerLastHost: true, hostPriorities: { a: 5 } }, [a, b, c])).toMatchObject({ hostId: 'c' });
    });
    it('is skipped when considerLastHost=false', () => {
      expect(plan({ lastHostId: 'c', considerLastHost: false }, [a, b, c])).toEqual({ hostId: 'a', candidates: ['a', 'b', 'c'], reason: 'allocator' });
    });
    it('is skipped when unsuitable, avoided or unknown', () => {
      expect(plan({ lastHostId: 'c' }, [a, b, host('c', { state: 'Disconnected' })])).toMatchObject({ hostId: 'a', reason: 'allocator' });
      expect(plan({ lastHostId: 'c', avoidHostIds: ['c'] }, [a, b, c])).toMatchObject({ hostId: 'a', reason: 'allocator' });
      expect(plan({ lastHostId: 'zz' }, [a, b, c])).toMatchObject({ hostId: 'a', reason: 'allocator' });
    });
  });

  describe('explicit host', () => {
    it('short-circuits ordering, last host, avoid set and cluster', () => {
      expect(plan({ explicitHostId: 'c', lastHostId: 'a', avoidHostIds: ['c'], clusterId: 'other', algorithm: 'random' }, [a, b, c])).toEqual({
        hostId: 'c',
        candidates: ['c'],
        reason: 'explicit',
      });
    });
    it('still has to fit', () => {
      const rejection = plan({ explicitHostId: 'b' }, [a, host('b', { usedMemory: 16000 })]) as Rejection;
      expect([rejection.code, rejection.field]).toEqual(['INSUFFICIENT_CAPACITY', 'hostId']);
      expect(rejection.message).toBe('Cannot deploy on host host-b which needs 1024 MiB memory but only 384 MiB is free; needed 2 × 1000 MHz CPU and 1024 MiB memory');
      expect(plan({ explicitHostId: 'b', hostTags: ['gpu'] }, [a, b])).toMatchObject({ code: 'INSUFFICIENT_CAPACITY' });
      expect(plan({ explicitHostId: 'b' }, [a, host('b', { state: 'Disabled' })])).toMatchObject({ code: 'INSUFFICIENT_CAPACITY' });
    });
    it('refuses an unknown host as bad input', () => {
      expect(plan({ explicitHostId: 'zz' }, [a])).toMatchObject({ code: 'BAD_USER_INPUT', field: 'hostId' });
    });
  });

  it.each([
    [{ cpuNumber: 0 }, 'cpuNumber'],
    [{ cpuSpeed: 1.5 }, 'cpuSpeed'],
    [{ memory: -1 }, 'memory'],
    [{ algorithm: 'roundrobin' as 'random' }, 'vm.allocation.algorithm'],
    [{ capacityType: 'DISK' as 'CPU' }, 'host.capacityType.to.order.clusters'],
    [{ cpuToMemoryWeight: 2 }, 'host.capacityType.to.order.clusters.cputomemoryweight'],
  ] as const)('rejects a request with %o', (change, field) => {
    const result = plan(change, [a]);
    expect(isRejection(result) && [result.code, result.field]).toEqual(['BAD_USER_INPUT', field]);
  });
});

describe('shuffle', () => {
  it('is a permutation, deterministic for a seed, and tolerates odd random values', () => {
    const items = [1, 2, 3, 4, 5, 6];
    const once = shuffle(items, seededRandom(3));
    expect([...once].sort()).toEqual(items);
    expect(shuffle(items, seededRandom(3))).toEqual(once);
    expect([...shuffle(items, () => 1)].sort()).toEqual(items);
    expect([...shuffle(items, () => Number.NaN)].sort()).toEqual(items);
    expect(items).toEqual([1, 2, 3, 4, 5, 6]);
  });
});

describe('allocationSettings and hostCandidate', () => {
  it('reads the algorithm and ordering keys from configuration', () => {
    expect(allocationSettings(configurationDecider.initialState)).toEqual({ algorithm: 'random', capacityType: 'CPU', cpuToMemoryWeight: 0.5 });
    const global = stateOf(configurationDecider, [
      { type: 'ConfigurationUpdated', data: { name: 'vm.allocation.algorithm', value: 'userdispersing', zoneId: null } },
      { type: 'ConfigurationUpdated', data: { name: 'host.capacityType.to.order.clusters', value: 'COMBINED', zoneId: null } },
    ]);
    expect(allocationSettings(global)).toEqual({ algorithm: 'userdispersing', capacityType: 'COMBINED', cpuToMemoryWeight: 0.5 });
  });
  it('projects a folded host into a candidate', () => {
    const events: HostEvent[] = [
      {
        type: 'HostAdded',
        data: {
          hostId: 'h1', zoneId: 'z1', clusterId: 'c1', hypervisor: 'KVM', name: 'sim-host-1', driver: 'simulator',
          cpuNumber: 16, cpuSpeed: 2000, memory: 65536, hostTags: ['ssd'], url: null, username: null, credentialRef: null,
          simulator: { startDelayMs: 0, stopDelayMs: 0, failOn: [] }, created: '2025-01-01T00:00:00Z',
        },
      },
      { type: 'HostCapacityReserved', data: { hostId: 'h1', instanceId: 'vm1', cpuNumber: 2, cpuSpeed: 1000, memory: 1024 } },
      { type: 'HostDisabled', data: { hostId: 'h1' } },
    ];
    const state = stateOf(hostDecider, events);
    if (state.kind !== 'host') throw new Error('host expected');
    expect(hostCandidate(state, 3)).toEqual({
      hostId: 'h1', name: 'sim-host-1', clusterId: 'c1', hypervisor: 'KVM', state: 'Disabled', hostTags: ['ssd'], cpuNumber: 16, cpuSpeed: 2000,
      memory: 65536, usedCpu: 2000, usedMemory: 1024, accountInstanceCount: 3,
    });
  });
});
