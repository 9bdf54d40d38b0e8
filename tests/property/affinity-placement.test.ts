// Random deploys, stops, starts and migrations of members of strict and non-strict affinity groups,
// planned on stale snapshots (as the orchestrator's planner reads a read model that may lag) and
// placed through the real deciders: the groups' placement check and the hosts' capacity reservation.
// Whatever the staleness, no strict group is ever broken and no host is over-committed.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  affinityConstraints,
  affinityGroupDecider,
  type AffinityGroupCommand,
  type AffinityGroupState,
  type AffinityGroupType,
  type GroupMembership,
} from '../../domain/affinity/index.js';
import { hostCandidate, planHost } from '../../domain/allocation/index.js';
import { hostDecider, totalCpu, type HostAggregateState, type HostCommand } from '../../domain/host/index.js';
import { isRejection, type Decider, type DomainEvent } from '../../domain/shared/decider.js';
import { seededRandom } from '../unit/infrastructure/support.js';

const NOW = '2026-05-01T12:00:00.000Z';
const HOSTS = ['h1', 'h2', 'h3', 'h4'];
const GROUPS: ReadonlyArray<{ id: string; type: AffinityGroupType }> = [
  { id: 'apart', type: 'host anti-affinity' },
  { id: 'together', type: 'host affinity' },
  { id: 'soft', type: 'non-strict host anti-affinity' },
];
const SIZE = { cpuNumber: 2, cpuSpeed: 1000, memory: 2048 };

interface Vm {
  readonly id: string;
  readonly groups: readonly string[];
  hostId: string | null;
  lastHostId: string | null;
}

interface World {
  hosts: Map<string, HostAggregateState>;
  groups: Map<string, AffinityGroupState>;
  vms: Vm[];
}

function apply<C, S, E extends DomainEvent>(decider: Decider<C, S, E>, state: S, command: C): S | undefined {
  const decision = decider.decide(command, state);
  if (isRejection(decision)) return undefined;
  return decision.reduce((s, e) => decider.evolve(s, e), state);
}

function newWorld(): World {
  const hosts = new Map<string, HostAggregateState>();
  for (const hostId of HOSTS) {
    const command: HostCommand = { type: 'AddHost', hostId, zoneId: 'z1', clusterId: 'c1', hypervisor: 'KVM', name: hostId, driver: 'simulator', cpuNumber: 4, cpuSpeed: 2000, memory: 8192, at: NOW };
    hosts.set(hostId, apply(hostDecider, hostDecider.initialState, command)!);
  }
  const groups = new Map<string, AffinityGroupState>();
  for (const g of GROUPS) {
    const command: AffinityGroupCommand = { type: 'CreateAffinityGroup', groupId: g.id, name: g.id, groupType: g.type, description: null, accountId: 'a1', domainId: 'd1', at: NOW };
    groups.set(g.id, apply(affinityGroupDecider, affinityGroupDecider.initialState, command)!);
  }
  return { hosts, groups, vms: [] };
}

/** A copy of what the planner reads: the read model as of some earlier moment. */
function snapshot(world: World): World {
  return { hosts: new Map(world.hosts), groups: new Map(world.groups), vms: world.vms.map((vm) => ({ ...vm })) };
}

function memberships(view: World, vm: Vm): GroupMembership[] {
  return vm.groups.map((groupId) => {
    const group = view.groups.get(groupId)!;
    if (!group.exists) throw new Error('no group');
    const strict = group.type === 'host affinity' || group.type === 'host anti-affinity';
    const members = strict
      ? Object.entries(group.placements).map(([instanceId, hostIds]) => ({ instanceId, hostIds, lastHostId: null, state: 'Running', updatedAt: NOW }))
      : view.vms
          .filter((m) => m.groups.includes(groupId))
          .map((m) => ({ instanceId: m.id, hostIds: m.hostId ? [m.hostId] : [], lastHostId: m.lastHostId, state: m.hostId ? 'Running' : 'Stopped', updatedAt: NOW }));
    return { groupId, name: groupId, type: group.type, members };
  });
}

/** The orchestrator's start: plan on the stale view, place in the groups, reserve the host; a refusal avoids the host and plans again. */
function start(world: World, view: World, vm: Vm, considerLastHost: boolean, seed: number): boolean {
  const avoid: string[] = [];
  for (;;) {
    const affinity = affinityConstraints(vm.id, memberships(view, vm), NOW, 3600);
    const plan = planHost(
      { ...SIZE, hostTags: [], algorithm: 'random', capacityType: 'CPU', cpuToMemoryWeight: 0.5, lastHostId: vm.lastHostId, considerLastHost, avoidHostIds: avoid, affinity, hostPriorities: affinity.hostPriorities },
      { hosts: [...view.hosts.values()].flatMap((h) => (h.kind === 'host' ? [hostCandidate(h, 0)] : [])) },
      seededRandom(seed + avoid.length),
    );
    if (isRejection(plan)) return false;
    if (!place(world, vm, plan.hostId)) {
      avoid.push(plan.hostId);
      continue;
    }
    vm.hostId = plan.hostId;
    vm.lastHostId = plan.hostId;
    settle(world, vm);
    return true;
  }
}

/** Group placements (checked), then the host's capacity; all or nothing. */
function place(world: World, vm: Vm, hostId: string): boolean {
  const before = new Map(world.groups);
  for (const groupId of vm.groups) {
    const after = apply(affinityGroupDecider, world.groups.get(groupId)!, { type: 'PlaceMember', groupId, instanceId: vm.id, hostId, enforce: true });
    if (!after) {
      world.groups = before;
      return false;
    }
    world.groups.set(groupId, after);
  }
  const host = apply(hostDecider, world.hosts.get(hostId)!, { type: 'ReserveCapacity', instanceId: vm.id, ...SIZE });
  if (!host) {
    world.groups = before;
    return false;
  }
  world.hosts.set(hostId, host);
  return true;
}

function settle(world: World, vm: Vm): void {
  for (const groupId of vm.groups) world.groups.set(groupId, apply(affinityGroupDecider, world.groups.get(groupId)!, { type: 'SettleMember', groupId, instanceId: vm.id, hostId: vm.hostId })!);
}

function release(world: World, vm: Vm, hostId: string): void {
  world.hosts.set(hostId, apply(hostDecider, world.hosts.get(hostId)!, { type: 'ReleaseCapacity', instanceId: vm.id })!);
}

type Action =
  | { kind: 'deploy'; groups: string[]; seed: number }
  | { kind: 'stop'; vm: number }
  | { kind: 'start'; vm: number; considerLastHost: boolean; seed: number }
  | { kind: 'migrate'; vm: number; target: number };

const actionArb: fc.Arbitrary<Action> = fc.oneof(
  fc.record({ kind: fc.constant('deploy' as const), groups: fc.subarray(GROUPS.map((g) => g.id), { maxLength: 2 }), seed: fc.nat() }),
  fc.record({ kind: fc.constant('stop' as const), vm: fc.nat() }),
  fc.record({ kind: fc.constant('start' as const), vm: fc.nat(), considerLastHost: fc.boolean(), seed: fc.nat() }),
  fc.record({ kind: fc.constant('migrate' as const), vm: fc.nat(), target: fc.nat() }),
);

function check(world: World): void {
  for (const host of world.hosts.values()) {
    if (host.kind !== 'host') continue;
    expect(host.usedCpu).toBeLessThanOrEqual(totalCpu(host));
    expect(host.usedMemory).toBeLessThanOrEqual(host.memory);
  }
  const running = world.vms.filter((vm) => vm.hostId !== null);
  const hostsOf = (groupId: string) => running.filter((vm) => vm.groups.includes(groupId)).map((vm) => vm.hostId);
  expect(new Set(hostsOf('apart')).size, 'host anti-affinity members share a host').toBe(hostsOf('apart').length);
  expect(new Set(hostsOf('together')).size, 'host affinity members are apart').toBeLessThanOrEqual(1);
}

describe('affinity placement under stale planning', () => {
  it('never breaks a strict group and never over-commits a host', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(actionArb, fc.nat({ max: 3 })), { minLength: 1, maxLength: 40 }), (script) => {
        const world = newWorld();
        const views: World[] = [snapshot(world)];
        for (const [action, staleness] of script) {
          // The planner reads the world as it was up to three actions ago.
          const view = views[Math.max(0, views.length - 1 - staleness)]!;
          const vm = world.vms.length > 0 && action.kind !== 'deploy' ? world.vms[action.vm % world.vms.length]! : undefined;
          switch (action.kind) {
            case 'deploy': {
              const created: Vm = { id: `vm-${world.vms.length}`, groups: action.groups, hostId: null, lastHostId: null };
              world.vms.push(created);
              start(world, view, created, true, action.seed);
              break;
            }
            case 'stop':
              if (vm?.hostId) {
                release(world, vm, vm.hostId);
                vm.hostId = null;
                settle(world, vm);
              }
              break;
            case 'start':
              if (vm && vm.hostId === null) start(world, view, vm, action.considerLastHost, action.seed);
              break;
            case 'migrate': {
              const target = HOSTS[action.target % HOSTS.length]!;
              if (vm?.hostId && vm.hostId !== target && place(world, vm, target)) {
                release(world, vm, vm.hostId);
                vm.hostId = target;
                vm.lastHostId = target;
                settle(world, vm);
              }
              break;
            }
          }
          check(world);
          views.push(snapshot(world));
        }
      }),
      { numRuns: 300 },
    );
  });
});
