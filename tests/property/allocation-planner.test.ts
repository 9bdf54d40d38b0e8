// The host planner over arbitrary snapshots: it never picks a host that cannot take the instance, it
// considers exactly the suitable hosts, and its orderings are deterministic given the random source.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  leastConsumedMetric,
  planHost,
  type HostAllocationRequest,
  type HostCandidate,
  type HostPlan,
} from '../../domain/allocation/index.js';
import { VM_ALLOCATION_ALGORITHMS } from '../../domain/config/index.js';
import { capacityShortfall } from '../../domain/host/index.js';
import { isRejection } from '../../domain/shared/decider.js';
import { seededRandom } from '../unit/infrastructure/support.js';

const TAGS = ['ssd', 'gpu', 'fast'] as const;

const hostArb = (index: number): fc.Arbitrary<HostCandidate> =>
  fc
    .record({
      clusterId: fc.constantFrom('c1', 'c2'),
      hypervisor: fc.constantFrom('KVM', 'KVM', 'VMware'),
      state: fc.constantFrom('Up', 'Up', 'Up', 'Disconnected', 'Disabled', 'Maintenance', 'PrepareForMaintenance', 'Down'),
      hostTags: fc.subarray([...TAGS]),
      cpuNumber: fc.integer({ min: 1, max: 16 }),
      cpuSpeed: fc.integer({ min: 500, max: 3000 }),
      memory: fc.integer({ min: 512, max: 32768 }),
      cpuUsedFraction: fc.double({ min: 0, max: 1, noNaN: true }),
      memoryUsedFraction: fc.double({ min: 0, max: 1, noNaN: true }),
      accountInstanceCount: fc.integer({ min: 0, max: 5 }),
    })
    .map(({ cpuUsedFraction, memoryUsedFraction, ...h }) => ({
      ...h,
      hostId: `h${index}`,
      name: `host-${index}`,
      usedCpu: Math.floor(h.cpuNumber * h.cpuSpeed * cpuUsedFraction),
      usedMemory: Math.floor(h.memory * memoryUsedFraction),
    }));

const snapshotArb = fc.integer({ min: 0, max: 8 }).chain((n) => fc.tuple(...Array.from({ length: n }, (_, i) => hostArb(i))));

const requestArb = (hostCount: number): fc.Arbitrary<HostAllocationRequest> => {
  const hostId = fc.integer({ min: 0, max: Math.max(0, hostCount) }).map((i) => `h${i}`);
  return fc.record({
    cpuNumber: fc.integer({ min: 1, max: 8 }),
    cpuSpeed: fc.integer({ min: 250, max: 2500 }),
    memory: fc.integer({ min: 128, max: 16384 }),
    hostTags: fc.subarray([...TAGS], { maxLength: 2 }),
    algorithm: fc.constantFrom(...VM_ALLOCATION_ALGORITHMS),
    capacityType: fc.constantFrom('CPU', 'RAM', 'COMBINED'),
    cpuToMemoryWeight: fc.double({ min: 0, max: 1, noNaN: true }),
    lastHostId: fc.option(hostId, { nil: undefined }),
    considerLastHost: fc.option(fc.boolean(), { nil: undefined }),
    clusterId: fc.option(fc.constantFrom('c1', 'c2'), { nil: undefined }),
    hypervisorType: fc.option(fc.constantFrom('KVM', 'VMware'), { nil: undefined }),
    avoidHostIds: fc.option(fc.uniqueArray(hostId, { maxLength: 3 }), { nil: undefined }),
  });
};

const scenario = snapshotArb.chain((hosts) => fc.tuple(fc.constant(hosts), requestArb(hosts.length), fc.integer()));

/** The suitable set, computed independently of the planner. */
function oracle(hosts: readonly HostCandidate[], request: HostAllocationRequest): HostCandidate[] {
  const avoid = new Set(request.avoidHostIds ?? []);
  return hosts.filter(
    (h) =>
      h.state === 'Up' &&
      request.hostTags.every((t) => h.hostTags.includes(t)) &&
      h.cpuNumber >= request.cpuNumber &&
      h.cpuSpeed >= request.cpuSpeed &&
      h.cpuNumber * h.cpuSpeed - h.usedCpu >= request.cpuNumber * request.cpuSpeed &&
      h.memory - h.usedMemory >= request.memory &&
      !avoid.has(h.hostId) &&
      (request.clusterId === undefined || h.clusterId === request.clusterId) &&
      (request.hypervisorType === undefined || h.hypervisor === request.hypervisorType),
  );
}

describe('host planner properties', () => {
  it('only ever chooses a suitable host, and considers exactly the suitable hosts', () => {
    fc.assert(
      fc.property(scenario, ([hosts, request, seed]) => {
        const result = planHost(request, { hosts }, seededRandom(seed));
        const suitable = oracle(hosts, request);
        if (suitable.length === 0) {
          expect(isRejection(result) && result.code).toBe('INSUFFICIENT_CAPACITY');
          if (isRejection(result)) expect(result.message).toContain(`${request.cpuNumber} × ${request.cpuSpeed} MHz CPU and ${request.memory} MiB memory`);
          return;
        }
        if (isRejection(result)) throw new Error(`unexpected rejection: ${result.message}`);
        const chosen = hosts.find((h) => h.hostId === result.hostId);
        if (!chosen) throw new Error('chosen host not in snapshot');
        expect(chosen.state).toBe('Up');
        expect(request.hostTags.every((t) => chosen.hostTags.includes(t))).toBe(true);
        expect(capacityShortfall(chosen, request)).toBeUndefined();
        expect(request.avoidHostIds ?? []).not.toContain(chosen.hostId);
        expect(result.candidates[0]).toBe(result.hostId);
        expect([...result.candidates].sort()).toEqual(suitable.map((h) => h.hostId).sort());
        const lastSuitable = suitable.some((h) => h.hostId === request.lastHostId);
        if (request.considerLastHost !== false && lastSuitable) expect(result).toMatchObject({ hostId: request.lastHostId, reason: 'lastHost' });
        else expect(result.reason).toBe('allocator');
      }),
      { numRuns: 1000 },
    );
  });

  it('an explicit host is chosen exactly when it is Up, tagged and fits', () => {
    fc.assert(
      fc.property(scenario, fc.nat(), ([hosts, request, seed], pick) => {
        fc.pre(hosts.length > 0);
        const target = hosts[pick % hosts.length]!;
        const result = planHost({ ...request, explicitHostId: target.hostId }, { hosts }, seededRandom(seed));
        const fits = oracle([target], { ...request, avoidHostIds: [], clusterId: undefined }).length === 1;
        if (fits) expect(result).toEqual({ hostId: target.hostId, candidates: [target.hostId], reason: 'explicit' });
        else expect(isRejection(result) && [result.code, result.field]).toEqual(['INSUFFICIENT_CAPACITY', 'hostId']);
      }),
      { numRuns: 500 },
    );
  });

  it('firstfit keeps snapshot order and ignores the random source', () => {
    fc.assert(
      fc.property(scenario, ([hosts, request]) => {
        const r = { ...request, algorithm: 'firstfit' as const, considerLastHost: false };
        const result = planHost(r, { hosts }, () => {
          throw new Error('firstfit must not draw random numbers');
        });
        const expected = oracle(hosts, r).map((h) => h.hostId);
        if (expected.length === 0) expect(isRejection(result)).toBe(true);
        else expect(result).toEqual({ hostId: expected[0], candidates: expected, reason: 'allocator' });
      }),
      { numRuns: 500 },
    );
  });

  it('random is deterministic for a fixed random source', () => {
    fc.assert(
      fc.property(scenario, ([hosts, request, seed]) => {
        const r = { ...request, algorithm: 'random' as const };
        const first = planHost(r, { hosts }, seededRandom(seed));
        const second = planHost(r, { hosts }, seededRandom(seed));
        expect(second).toEqual(first);
      }),
      { numRuns: 500 },
    );
  });

  it('random reaches every suitable host as first choice for some seed', () => {
    const hosts: HostCandidate[] = ['a', 'b', 'c', 'd'].map((id) => ({
      hostId: id, name: id, clusterId: 'c1', hypervisor: 'KVM', state: 'Up', hostTags: [], cpuNumber: 4, cpuSpeed: 1000, memory: 4096, usedCpu: 0, usedMemory: 0, accountInstanceCount: 0,
    }));
    const request: HostAllocationRequest = { cpuNumber: 1, cpuSpeed: 1000, memory: 512, hostTags: [], algorithm: 'random', capacityType: 'CPU', cpuToMemoryWeight: 0.5 };
    const firsts = new Set(Array.from({ length: 200 }, (_, seed) => (planHost(request, { hosts }, seededRandom(seed)) as HostPlan).hostId));
    expect([...firsts].sort()).toEqual(['a', 'b', 'c', 'd']);
  });

  it('userdispersing and firstfitleastconsumed produce monotone orders', () => {
    fc.assert(
      fc.property(scenario, fc.constantFrom('userdispersing' as const, 'firstfitleastconsumed' as const), ([hosts, request], algorithm) => {
        const r = { ...request, algorithm, considerLastHost: false };
        const result = planHost(r, { hosts }, () => 0);
        if (isRejection(result)) return;
        const ordered = result.candidates.map((id) => hosts.find((h) => h.hostId === id)!);
        const key = (h: HostCandidate) =>
          algorithm === 'userdispersing' ? h.accountInstanceCount : -leastConsumedMetric(h, r.capacityType, r.cpuToMemoryWeight);
        for (let i = 1; i < ordered.length; i++) expect(key(ordered[i - 1]!)).toBeLessThanOrEqual(key(ordered[i]!));
      }),
      { numRuns: 500 },
    );
  });
});
