// What the groups ask of the planner (the processors of behaviour §6.3) and how planHost honours it:
// strict anti-affinity avoids members' hosts, strict affinity keeps to them, both failing with
// INSUFFICIENT_CAPACITY naming the group; non-strict groups reorder by summed priority; an explicit
// host bypasses groups; the last host goes first unless considerLastHost is false.
import { describe, expect, it } from 'vitest';
import { affinityConstraints, type AffinityMember, type GroupMembership } from '../../../domain/affinity/index.js';
import { planHost, type HostAllocationRequest, type HostCandidate } from '../../../domain/allocation/index.js';

const NOW = '2026-05-01T12:00:00.000Z';
const host = (hostId: string): HostCandidate => ({
  hostId,
  name: hostId,
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
});
const hosts = ['h1', 'h2', 'h3', 'h4'].map(host);
const running = (instanceId: string, hostId: string): AffinityMember => ({ instanceId, hostIds: [hostId], lastHostId: hostId, state: 'Running', updatedAt: NOW });
const stopped = (instanceId: string, lastHostId: string, secondsAgo: number): AffinityMember => ({
  instanceId,
  hostIds: [],
  lastHostId,
  state: 'Stopped',
  updatedAt: new Date(Date.parse(NOW) - secondsAgo * 1000).toISOString(),
});
const group = (name: string, type: GroupMembership['type'], members: AffinityMember[]): GroupMembership => ({ groupId: `id-${name}`, name, type, members });
const request = (overrides: Partial<HostAllocationRequest> = {}): HostAllocationRequest => ({
  cpuNumber: 1,
  cpuSpeed: 500,
  memory: 512,
  hostTags: [],
  algorithm: 'firstfit',
  capacityType: 'CPU',
  cpuToMemoryWeight: 0.5,
  ...overrides,
});
const plan = (groups: GroupMembership[], overrides: Partial<HostAllocationRequest> = {}) => {
  const affinity = affinityConstraints('vm-new', groups, NOW, 3600);
  return planHost(request({ affinity, hostPriorities: affinity.hostPriorities, ...overrides }), { hosts }, () => 0);
};

describe('affinity constraints', () => {
  it('strict anti-affinity avoids every other member’s hosts, a migrating member’s two included', () => {
    const c = affinityConstraints('vm-1', [group('web', 'host anti-affinity', [running('vm-1', 'h1'), running('vm-2', 'h2'), { ...running('vm-3', 'h3'), hostIds: ['h3', 'h4'] }])], NOW, 3600);
    expect(c.avoid).toEqual([{ groupName: 'web', type: 'host anti-affinity', hostIds: ['h2', 'h3', 'h4'] }]);
    expect(c.require).toEqual([]);
  });
  it('strict affinity requires the other members’ hosts, nothing while none is placed', () => {
    expect(affinityConstraints('vm-1', [group('db', 'host affinity', [running('vm-2', 'h3')])], NOW, 3600).require).toEqual([{ groupName: 'db', type: 'host affinity', hostIds: ['h3'] }]);
    expect(affinityConstraints('vm-1', [group('db', 'host affinity', [running('vm-1', 'h3')])], NOW, 3600).require).toEqual([]);
  });
  it('non-strict priorities sum per member and across groups: 2 affinity and 3 anti-affinity members make −1', () => {
    const c = affinityConstraints(
      'vm-new',
      [
        group('near', 'non-strict host affinity', [running('a1', 'h1'), running('a2', 'h1')]),
        group('far', 'non-strict host anti-affinity', [running('b1', 'h1'), running('b2', 'h1'), running('b3', 'h1'), running('b4', 'h2')]),
      ],
      NOW,
      3600,
    );
    expect(c.hostPriorities).toEqual({ h1: -1, h2: -1 });
  });
  it('a stopped member counts on its last host only within capacity.skipcounting.hours', () => {
    const members = [stopped('a1', 'h2', 3599), stopped('a2', 'h3', 3601)];
    expect(affinityConstraints('vm-new', [group('near', 'non-strict host affinity', members)], NOW, 3600).hostPriorities).toEqual({ h2: 1 });
    expect(affinityConstraints('vm-new', [group('near', 'non-strict host affinity', members)], NOW, 0).hostPriorities).toEqual({});
  });
});

describe('planHost with affinity groups', () => {
  it('strict anti-affinity: the first host no member runs on', () => {
    expect(plan([group('web', 'host anti-affinity', [running('vm-1', 'h1'), running('vm-2', 'h2')])])).toMatchObject({ hostId: 'h3', candidates: ['h3', 'h4'] });
  });
  it('strict anti-affinity with every host taken fails with INSUFFICIENT_CAPACITY naming the group', () => {
    const result = plan([group('web', 'host anti-affinity', hosts.map((h, i) => running(`vm-${i}`, h.hostId)))]);
    expect(result).toMatchObject({ kind: 'rejection', code: 'INSUFFICIENT_CAPACITY' });
    expect('message' in result && result.message).toContain('h1 is excluded by host anti-affinity group web (a member runs there)');
  });
  it('strict affinity: the members’ host, or INSUFFICIENT_CAPACITY naming the group when it is full', () => {
    expect(plan([group('db', 'host affinity', [running('vm-1', 'h3')])])).toMatchObject({ hostId: 'h3', candidates: ['h3'] });
    const full = planHost(
      request({ affinity: affinityConstraints('vm-new', [group('db', 'host affinity', [running('vm-1', 'h3')])], NOW, 3600) }),
      { hosts: hosts.map((h) => (h.hostId === 'h3' ? { ...h, usedCpu: 16000 } : h)) },
      () => 0,
    );
    expect(full).toMatchObject({ kind: 'rejection', code: 'INSUFFICIENT_CAPACITY' });
    expect('message' in full && full.message).toContain('h1 is not where the members of host affinity group db run');
  });
  it('an explicit host bypasses every group', () => {
    expect(plan([group('web', 'host anti-affinity', [running('vm-1', 'h1')])], { explicitHostId: 'h1' })).toMatchObject({ hostId: 'h1', reason: 'explicit' });
  });
  it('non-strict groups reorder hosts by priority, ties keeping the allocator’s order', () => {
    const result = plan([group('far', 'non-strict host anti-affinity', [running('b1', 'h1')]), group('near', 'non-strict host affinity', [running('a1', 'h3')])]);
    expect(result).toMatchObject({ hostId: 'h3', candidates: ['h3', 'h2', 'h4', 'h1'] });
  });
  it('the last host goes first unless considerLastHost is false', () => {
    const groups = [group('far', 'non-strict host anti-affinity', [running('b1', 'h1')])];
    expect(plan(groups, { lastHostId: 'h1' })).toMatchObject({ hostId: 'h1', reason: 'lastHost' });
    expect(plan(groups, { lastHostId: 'h1', considerLastHost: false })).toMatchObject({ hostId: 'h2', reason: 'allocator' });
    // A strict group rules the last host out.
    expect(plan([group('web', 'host anti-affinity', [running('b1', 'h1')])], { lastHostId: 'h1' })).toMatchObject({ hostId: 'h2', reason: 'allocator' });
  });
});
