// A host's snapshot: restoring what toJson wrote (through JSON text, as the store keeps it) and
// folding the rest of the stream gives the state a fold from the start gives, in everything the
// decider reads; and deciding on it gives the same decisions.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { HOST_CAPABILITIES } from '../../domain/agent-protocol/index.js';
import {
  hostDecider,
  hostSnapshotting,
  hostState,
  reservationCount,
  reservationOf,
  reservedInstanceIds,
  type HostAggregateState,
  type HostCommand,
  type HostEvent,
} from '../../domain/host/index.js';
import { fold } from '../../domain/shared/decider.js';

const at = '2025-01-01T00:00:00.000Z';
const hostId = 'h1';
const added: HostEvent = {
  type: 'HostAdded',
  data: {
    hostId, zoneId: 'z1', clusterId: 'c1', hypervisor: 'KVM', name: 'h1', driver: 'simulator', cpuNumber: 8, cpuSpeed: 2000, memory: 16384,
    hostTags: ['ssd'], url: null, username: null, credentialRef: null, simulator: { startDelayMs: 5, stopDelayMs: 0, failOn: ['STOP'] }, created: at,
  },
};

const instanceId = fc.constantFrom('i0', 'i1', 'i2', 'i3', 'i4', 'i5', 'i6', 'i7');
const resources = fc.record({ cpuNumber: fc.integer({ min: 1, max: 4 }), cpuSpeed: fc.integer({ min: 100, max: 2000 }), memory: fc.integer({ min: 64, max: 4096 }) });
const later: fc.Arbitrary<HostEvent> = fc.oneof(
  { weight: 6, arbitrary: fc.record({ type: fc.constant('HostCapacityReserved' as const), data: fc.tuple(instanceId, resources).map(([id, r]) => ({ hostId, instanceId: id, ...r })) }) },
  { weight: 3, arbitrary: fc.record({ type: fc.constant('HostCapacityReleased' as const), data: fc.tuple(instanceId, resources).map(([id, r]) => ({ hostId, instanceId: id, ...r })) }) },
  {
    weight: 1,
    arbitrary: fc.constantFrom('Up', 'Disconnected', 'Down').map((to): HostEvent => ({ type: 'HostStatusChanged', data: { hostId, from: 'Up', to } })),
  },
  {
    weight: 1,
    arbitrary: fc
      .constantFrom('HostDisabled', 'HostEnabled', 'HostMaintenancePrepared', 'HostEnteredMaintenance', 'HostMaintenanceCancelled', 'HostRemoved')
      .map((type) => ({ type, data: { hostId } }) as HostEvent),
  },
  { weight: 1, arbitrary: fc.uniqueArray(fc.constantFrom('ssd', 'gpu', 'fast')).map((hostTags): HostEvent => ({ type: 'HostTagsUpdated', data: { hostId, hostTags } })) },
  {
    weight: 1,
    arbitrary: fc.subarray([...HOST_CAPABILITIES]).map((capabilities): HostEvent => ({ type: 'HostCapabilitiesReported', data: { hostId, capabilities } })),
  },
);
const history = fc.tuple(fc.boolean(), fc.array(later, { maxLength: 60 })).map(([withHost, rest]) => (withHost ? [added, ...rest] : rest));

/** Everything the decider and the API read of a host, the reservations as a sorted list. */
function observed(state: HostAggregateState) {
  if (state.kind !== 'host') return state;
  const { reservations: _map, ...fields } = state;
  const ids = [...reservedInstanceIds(state)].sort();
  return { ...fields, state: hostState(state), count: reservationCount(state), reservations: ids.map((id) => reservationOf(state, id)) };
}

const viaJson = (state: HostAggregateState): HostAggregateState => hostSnapshotting.fromJson(JSON.parse(JSON.stringify(hostSnapshotting.toJson(state))));

const commands: readonly HostCommand[] = [
  { type: 'ReserveCapacity', instanceId: 'i3', cpuNumber: 2, cpuSpeed: 1000, memory: 2048 },
  { type: 'ReleaseCapacity', instanceId: 'i1' },
  { type: 'CompleteHostMaintenance' },
  { type: 'RemoveHost' },
  { type: 'DisableHost' },
];

describe('host snapshots', () => {
  it('restores what it wrote: folding all equals restoring a prefix and folding the rest', () => {
    fc.assert(
      fc.property(history, fc.nat(), (events, cut) => {
        const split = events.length === 0 ? 0 : cut % (events.length + 1);
        const whole = fold(hostDecider, events);
        const resumed = events.slice(split).reduce(hostDecider.evolve, viaJson(fold(hostDecider, events.slice(0, split))));
        expect(observed(resumed)).toEqual(observed(whole));
        for (const command of commands) expect(hostDecider.decide(command, resumed)).toEqual(hostDecider.decide(command, whole));
      }),
      { numRuns: 300 },
    );
  });

  it('given a host holding two instances, when it is snapshotted, then the snapshot is plain JSON with the reservations as a list', () => {
    const state = fold<HostAggregateState, HostEvent>(hostDecider, [
      added,
      { type: 'HostCapacityReserved', data: { hostId, instanceId: 'i1', cpuNumber: 1, cpuSpeed: 500, memory: 256 } },
      { type: 'HostCapacityReserved', data: { hostId, instanceId: 'i2', cpuNumber: 2, cpuSpeed: 1000, memory: 512 } },
    ]);
    const json = hostSnapshotting.toJson(state) as { reservations: unknown; usedCpu: number; usedMemory: number };
    expect(json.reservations).toEqual([
      { instanceId: 'i1', cpuNumber: 1, cpuSpeed: 500, memory: 256 },
      { instanceId: 'i2', cpuNumber: 2, cpuSpeed: 1000, memory: 512 },
    ]);
    expect([json.usedCpu, json.usedMemory]).toEqual([2500, 768]);
    expect(JSON.parse(JSON.stringify(json))).toEqual(json);
  });

  it('given a snapshot of an absent host, when it is restored, then the host is absent', () => {
    expect(viaJson(hostDecider.initialState)).toEqual({ kind: 'absent' });
  });

  it('refuses to restore what no host snapshot looks like', () => {
    expect(() => hostSnapshotting.fromJson(null)).toThrow(/object/);
    expect(() => hostSnapshotting.fromJson({ kind: 'host', reservations: {} })).toThrow(/reservations/);
  });
});
