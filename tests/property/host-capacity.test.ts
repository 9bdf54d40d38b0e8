// Host capacity under concurrency: reservations decided against stale reads and appended with an
// expected revision must never overcommit the host, and repeated reservations must not double-count.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { hostDecider, reservedInstanceIds, type HostCommand, type HostEvent } from '../../domain/host/index.js';
import { isRejection } from '../../domain/shared/decider.js';
import { runInterleaved, stateOf } from '../unit/infrastructure/support.js';

const at = '2025-01-01T00:00:00.000Z';

interface HostShape {
  readonly cpuNumber: number;
  readonly cpuSpeed: number;
  readonly memory: number;
}

const hostAdded = (shape: HostShape): HostEvent => ({
  type: 'HostAdded',
  data: {
    hostId: 'h1', zoneId: 'z1', clusterId: 'c1', hypervisor: 'KVM', name: 'h1', driver: 'simulator', ...shape, hostTags: [],
    url: null, username: null, credentialRef: null, simulator: { startDelayMs: 0, stopDelayMs: 0, failOn: [] }, created: at,
  },
});

const hostShape = fc.record({
  cpuNumber: fc.integer({ min: 1, max: 8 }),
  cpuSpeed: fc.integer({ min: 500, max: 3000 }),
  memory: fc.integer({ min: 512, max: 8192 }),
});

const instanceId = fc.constantFrom('i0', 'i1', 'i2', 'i3', 'i4', 'i5');
type CapacityCommand = Extract<HostCommand, { type: 'ReserveCapacity' | 'ReleaseCapacity' }>;
const command: fc.Arbitrary<CapacityCommand> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.record({
      type: fc.constant('ReserveCapacity' as const),
      instanceId,
      cpuNumber: fc.integer({ min: 1, max: 4 }),
      cpuSpeed: fc.integer({ min: 250, max: 2500 }),
      memory: fc.integer({ min: 128, max: 4096 }),
    }),
  },
  { weight: 1, arbitrary: fc.record({ type: fc.constant('ReleaseCapacity' as const), instanceId }) },
);

type Held = Map<string, { cpuNumber: number; cpuSpeed: number; memory: number }>;

/** Replays the log with an independent model and returns the first broken invariant, if any. */
function firstViolation(shape: HostShape, events: readonly HostEvent[]): string | undefined {
  const held: Held = new Map();
  for (const [index, event] of events.entries()) {
    if (event.type === 'HostCapacityReserved') {
      const { instanceId: id, cpuNumber, cpuSpeed, memory } = event.data;
      const previous = held.get(id);
      if (previous && previous.cpuNumber === cpuNumber && previous.cpuSpeed === cpuSpeed && previous.memory === memory) {
        return `event ${index}: ${id} reserved the same amounts twice`;
      }
      if (cpuNumber > shape.cpuNumber || cpuSpeed > shape.cpuSpeed) return `event ${index}: ${id} exceeds the host's cores`;
      held.set(id, { cpuNumber, cpuSpeed, memory });
    } else if (event.type === 'HostCapacityReleased') {
      if (!held.delete(event.data.instanceId)) return `event ${index}: released ${event.data.instanceId} which held nothing`;
    }
    const cpu = [...held.values()].reduce((sum, r) => sum + r.cpuNumber * r.cpuSpeed, 0);
    const memory = [...held.values()].reduce((sum, r) => sum + r.memory, 0);
    if (cpu > shape.cpuNumber * shape.cpuSpeed) return `event ${index}: ${cpu} MHz used of ${shape.cpuNumber * shape.cpuSpeed}`;
    if (memory > shape.memory) return `event ${index}: ${memory} MiB used of ${shape.memory}`;
  }
  return undefined;
}

describe('host capacity properties', () => {
  it('decides each command exactly as an independent capacity model predicts', () => {
    fc.assert(
      fc.property(hostShape, fc.array(command, { maxLength: 40 }), (shape, commands) => {
        let events: HostEvent[] = [hostAdded(shape)];
        const held: Held = new Map();
        for (const cmd of commands) {
          const decision = hostDecider.decide(cmd, stateOf(hostDecider, events));
          const previous = held.get(cmd.instanceId);
          if (cmd.type === 'ReleaseCapacity') {
            expect(decision).toEqual(previous ? [{ type: 'HostCapacityReleased', data: { hostId: 'h1', instanceId: cmd.instanceId, ...previous } }] : []);
            held.delete(cmd.instanceId);
          } else {
            const want = { cpuNumber: cmd.cpuNumber, cpuSpeed: cmd.cpuSpeed, memory: cmd.memory };
            const others = [...held.entries()].filter(([id]) => id !== cmd.instanceId).map(([, r]) => r);
            const freeCpu = shape.cpuNumber * shape.cpuSpeed - others.reduce((s, r) => s + r.cpuNumber * r.cpuSpeed, 0);
            const freeMemory = shape.memory - others.reduce((s, r) => s + r.memory, 0);
            const same = previous && previous.cpuNumber === want.cpuNumber && previous.cpuSpeed === want.cpuSpeed && previous.memory === want.memory;
            const fits =
              want.cpuNumber <= shape.cpuNumber && want.cpuSpeed <= shape.cpuSpeed && want.cpuNumber * want.cpuSpeed <= freeCpu && want.memory <= freeMemory;
            if (same) expect(decision).toEqual([]);
            else if (fits) {
              expect(decision).toEqual([{ type: 'HostCapacityReserved', data: { hostId: 'h1', instanceId: cmd.instanceId, ...want } }]);
              held.set(cmd.instanceId, want);
            } else {
              expect(isRejection(decision) && decision.code).toBe('INSUFFICIENT_CAPACITY');
            }
          }
          if (!isRejection(decision)) events = [...events, ...decision];
        }
        const final = stateOf(hostDecider, events);
        const usedCpu = [...held.values()].reduce((s, r) => s + r.cpuNumber * r.cpuSpeed, 0);
        const usedMemory = [...held.values()].reduce((s, r) => s + r.memory, 0);
        expect(final.kind === 'host' && [final.usedCpu, final.usedMemory, [...reservedInstanceIds(final)].sort()]).toEqual([
          usedCpu,
          usedMemory,
          [...held.keys()].sort(),
        ]);
      }),
      { numRuns: 300 },
    );
  });

  it('never overcommits under any interleaving of stale reads with optimistic appends', () => {
    fc.assert(
      fc.property(
        hostShape,
        fc.array(command, { minLength: 2, maxLength: 12 }),
        fc.array(fc.nat(), { maxLength: 80 }),
        (shape, commands, schedule) => {
          const result = runInterleaved(hostDecider, [hostAdded(shape)], commands, schedule);
          expect(firstViolation(shape, result.events)).toBeUndefined();
          const final = stateOf(hostDecider, result.events);
          if (final.kind !== 'host') throw new Error('host expected');
          expect(final.usedCpu).toBeLessThanOrEqual(shape.cpuNumber * shape.cpuSpeed);
          expect(final.usedMemory).toBeLessThanOrEqual(shape.memory);
          expect(result.outcomes).not.toContain('gave-up');
        },
      ),
      { numRuns: 500 },
    );
  });

  it('concurrent reservations for one instance reserve it once', () => {
    fc.assert(
      fc.property(fc.integer({ min: 2, max: 6 }), fc.array(fc.nat(), { maxLength: 30 }), (copies, schedule) => {
        const shape = { cpuNumber: 4, cpuSpeed: 1000, memory: 4096 };
        const reserve: HostCommand = { type: 'ReserveCapacity', instanceId: 'vm', cpuNumber: 1, cpuSpeed: 1000, memory: 1024 };
        const result = runInterleaved(hostDecider, [hostAdded(shape)], Array.from({ length: copies }, () => reserve), schedule);
        expect(result.events.filter((e) => e.type === 'HostCapacityReserved')).toHaveLength(1);
        expect(result.outcomes.filter((o) => o === 'appended')).toHaveLength(1);
        expect(result.outcomes.filter((o) => o === 'no-op')).toHaveLength(copies - 1);
      }),
    );
  });

  it('the invariant check catches the overcommit that appends without a revision check allow', () => {
    const shape = { cpuNumber: 4, cpuSpeed: 1000, memory: 4096 };
    const commands: HostCommand[] = [
      { type: 'ReserveCapacity', instanceId: 'a', cpuNumber: 1, cpuSpeed: 1000, memory: 3000 },
      { type: 'ReserveCapacity', instanceId: 'b', cpuNumber: 1, cpuSpeed: 1000, memory: 3000 },
    ];
    const schedule = [0, 1, 0, 1];
    const blind = runInterleaved(hostDecider, [hostAdded(shape)], commands, schedule, { checkRevision: false });
    expect(firstViolation(shape, blind.events)).toBe('event 2: 6000 MiB used of 4096');
    const checked = runInterleaved(hostDecider, [hostAdded(shape)], commands, schedule);
    expect(firstViolation(shape, checked.events)).toBeUndefined();
    expect(checked.outcomes).toEqual(['appended', 'rejected']);
    expect(checked.conflicts).toBe(1);
  });
});
