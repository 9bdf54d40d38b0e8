// A host's stream restored from its snapshot: a cold commander (or command handler) reads only the
// events after the snapshot, and a snapshot the log no longer agrees with, of another version, or
// gone altogether, only costs reading the stream from its start.
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { StateCache, handleCommand, type CommandEnvelope } from '../../../adapters/eventstore/command-handler.js';
import { Commander } from '../../../adapters/eventstore/commander.js';
import type { EventStore, ReadStreamOptions, RecordedEvent } from '../../../adapters/eventstore/port.js';
import { SqliteEventStore } from '../../../adapters/eventstore/sqlite/sqlite-event-store.js';
import { SqliteStateSnapshotStore, STATE_SNAPSHOTS_FILE_NAME } from '../../../adapters/eventstore/sqlite-state-snapshots.js';
import { MemoryStateSnapshotStore, StateSnapshots, type StateSnapshot, type StateSnapshotStore } from '../../../adapters/eventstore/state-snapshots.js';
import {
  hostDecider,
  hostSnapshotting,
  hostStream,
  reservationCount,
  reservationOf,
  type HostAggregateState,
  type HostCommand,
  type HostEvent,
} from '../../../domain/host/index.js';
import { fold, type Decider } from '../../../domain/shared/decider.js';

const STREAM = hostStream('h1');
const at = '2026-11-21T09:00:00.000Z';
const envelope = (extra: Partial<CommandEnvelope> = {}): CommandEnvelope => ({ actor: { kind: 'system', component: 'test' }, correlationId: randomUUID(), occurredAt: at, ...extra });
const reserve = (instanceId: string): HostCommand => ({ type: 'ReserveCapacity', instanceId, cpuNumber: 1, cpuSpeed: 1, memory: 1 });

/** A host that took `reservations` instances and gave every other one back: 1 + n + n/2 events. */
function history(reservations: number): HostEvent[] {
  const events: HostEvent[] = [
    {
      type: 'HostAdded',
      data: {
        hostId: 'h1', zoneId: 'z1', clusterId: 'c1', hypervisor: 'KVM', name: 'h1', driver: 'simulator', cpuNumber: 64, cpuSpeed: 3000,
        memory: 1_000_000, hostTags: [], url: null, username: null, credentialRef: null, simulator: { startDelayMs: 0, stopDelayMs: 0, failOn: [] }, created: at,
      },
    },
  ];
  for (let i = 0; i < reservations; i++) events.push({ type: 'HostCapacityReserved', data: { hostId: 'h1', instanceId: `i-${i}`, cpuNumber: 1, cpuSpeed: 1, memory: 1 } });
  for (let i = 0; i < reservations; i += 2) events.push({ type: 'HostCapacityReleased', data: { hostId: 'h1', instanceId: `i-${i}`, cpuNumber: 1, cpuSpeed: 1, memory: 1 } });
  return events;
}

async function seed(store: EventStore, events: readonly HostEvent[]): Promise<void> {
  for (let from = 0; from < events.length; from += 400) {
    const chunk = events.slice(from, from + 400).map((event) => ({ id: randomUUID(), type: event.type, data: event.data }));
    await store.append(STREAM, chunk, from === 0 ? 'no_stream' : from - 1);
  }
}

/** The real store, counting what is read from the host's stream. */
class CountingStore implements EventStore {
  eventsRead = 0;
  readonly reads: Array<{ fromRevision: number | undefined; got: number }> = [];
  constructor(private readonly inner: EventStore) {}
  append: EventStore['append'] = (...args) => this.inner.append(...args);
  readAll: EventStore['readAll'] = (...args) => this.inner.readAll(...args);
  subscribe: EventStore['subscribe'] = (...args) => this.inner.subscribe(...args);
  headPosition: EventStore['headPosition'] = () => this.inner.headPosition();
  isPosition: EventStore['isPosition'] = (position) => this.inner.isPosition(position);
  close: EventStore['close'] = () => this.inner.close();
  async readStream(stream: string, options?: ReadStreamOptions): Promise<RecordedEvent[]> {
    const page = await this.inner.readStream(stream, options);
    if (stream === STREAM) {
      this.eventsRead += page.length;
      this.reads.push({ fromRevision: options?.fromRevision, got: page.length });
    }
    return page;
  }
}

/** What the decider reads of a host, to compare a restored state with one folded from the start. */
function observed(state: HostAggregateState) {
  if (state.kind !== 'host') return state;
  const { reservations: _map, ...fields } = state;
  return { ...fields, count: reservationCount(state), sample: [0, 1, 2, 3, 1198, 1199, 1200].map((i) => reservationOf(state, `i-${i}`) ?? null) };
}

describe('state snapshots in the commander', () => {
  let dir: string;
  let log: SqliteEventStore;
  let snapshotFile: string;
  const opened: StateSnapshots[] = [];
  const errors: unknown[] = [];
  const openSnapshots = (store: StateSnapshotStore = SqliteStateSnapshotStore.open(snapshotFile)) => {
    const snapshots = new StateSnapshots(store, (error) => errors.push(error));
    opened.push(snapshots);
    return snapshots;
  };
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'vmledger-state-snapshots-'));
    log = SqliteEventStore.open(join(dir, 'events.sqlite'));
    snapshotFile = join(dir, STATE_SNAPSHOTS_FILE_NAME);
    errors.length = 0;
  });
  afterEach(async () => {
    for (const snapshots of opened.splice(0)) await snapshots.close();
    await log.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** 1,201 events (revisions 0–1200); a cold commander folds them all and leaves a snapshot at 1200. */
  async function snapshotted(): Promise<{ snapshots: StateSnapshots; events: HostEvent[] }> {
    const events = history(800);
    await seed(log, events);
    const snapshots = openSnapshots();
    const first = await new Commander(log, { snapshots }).execute(STREAM, hostDecider, reserve('i-2000'), envelope());
    events.push(...first.events);
    await snapshots.flush();
    return { snapshots, events };
  }

  it('takes a snapshot when a cold load folds past a multiple of `every`, at the last event it folded', async () => {
    await snapshotted();
    const stored = await readRaw(snapshotFile);
    expect(stored).toMatchObject({ kind: 'host', version: hostSnapshotting.version, revision: 1200 });
    expect(stored!.eventId).toBe((await log.readStream(STREAM, { fromRevision: 1200, maxCount: 1 }))[0]!.id);
    expect(errors).toEqual([]);
  });

  it('restores a cold stream from its snapshot and reads only the events from there on', async () => {
    const { events } = await snapshotted();
    const counting = new CountingStore(log);
    const cold = new Commander(counting, { snapshots: openSnapshots() });
    const result = await cold.execute(STREAM, hostDecider, reserve('i-2001'), envelope());
    // The snapshot's own event (its id checked) and the one appended after it; not 1,202 events.
    expect(counting.eventsRead).toBe(2);
    expect(counting.reads[0]).toEqual({ fromRevision: 1200, got: 2 });
    expect(result.revision).toBe(1202);
    expect(observed(result.state)).toEqual(observed(fold(hostDecider, [...events, ...result.events])));
  });

  it('ignores a snapshot whose event the log no longer holds (another log in the same directory) and folds from the start', async () => {
    await snapshotted();
    // The same stream in another log: same length, other events (a log restored from elsewhere).
    const other = SqliteEventStore.open(join(dir, 'other.sqlite'));
    try {
      const events = history(800).map((event) =>
        event.type === 'HostCapacityReserved' ? { ...event, data: { ...event.data, memory: 3 } } : event.type === 'HostCapacityReleased' ? { ...event, data: { ...event.data, memory: 3 } } : event,
      );
      await seed(other, [...events, { type: 'HostCapacityReserved', data: { hostId: 'h1', instanceId: 'i-2000', cpuNumber: 1, cpuSpeed: 1, memory: 3 } }]);
      const counting = new CountingStore(other);
      const result = await new Commander(counting, { snapshots: openSnapshots() }).execute(STREAM, hostDecider, reserve('i-2001'), envelope());
      expect(counting.eventsRead).toBeGreaterThan(1201);
      expect(result.state.kind === 'host' && result.state.usedMemory).toBe(400 * 3 + 3 + 1);
    } finally {
      await other.close();
    }
  });

  it('ignores a snapshot of another version of the state and takes one of its own', async () => {
    const { events } = await snapshotted();
    const reshaped: Decider<HostCommand, HostAggregateState, HostEvent> = { ...hostDecider, snapshot: { ...hostSnapshotting, version: hostSnapshotting.version + 1 } };
    const counting = new CountingStore(log);
    const snapshots = openSnapshots();
    const result = await new Commander(counting, { snapshots }).execute(STREAM, reshaped, reserve('i-2001'), envelope());
    expect(counting.eventsRead).toBe(1202);
    expect(observed(result.state)).toEqual(observed(fold(hostDecider, [...events, ...result.events])));
    await snapshots.flush();
    expect(await readRaw(snapshotFile)).toMatchObject({ version: hostSnapshotting.version + 1, revision: 1201 });
  });

  it('is none the worse for a deleted snapshots file', async () => {
    const { snapshots, events } = await snapshotted();
    await snapshots.close();
    rmSync(snapshotFile);
    const counting = new CountingStore(log);
    const result = await new Commander(counting, { snapshots: openSnapshots() }).execute(STREAM, hostDecider, reserve('i-2001'), envelope());
    expect(counting.eventsRead).toBe(1202);
    expect(observed(result.state)).toEqual(observed(fold(hostDecider, [...events, ...result.events])));
    expect(errors).toEqual([]);
  });

  it('reports a snapshot that cannot be written and still answers the command', async () => {
    const failing: StateSnapshotStore = {
      read: async () => undefined,
      write: async () => {
        throw new Error('disk full');
      },
      close: async () => undefined,
    };
    await seed(log, history(800));
    const result = await new Commander(log, { snapshots: openSnapshots(failing) }).execute(STREAM, hostDecider, reserve('i-2000'), envelope());
    expect(result.revision).toBe(1201);
    await opened.at(-1)!.flush();
    expect(errors.map((error) => (error as Error).message)).toEqual(['disk full']);
  });

  it('takes a snapshot when an append takes the stream across a multiple of `every`', async () => {
    await seed(log, history(332)); // 1 + 332 + 166 = 499 events: revisions 0–498
    const memory = new MemoryStateSnapshotStore();
    const snapshots = openSnapshots(memory);
    const commander = new Commander(log, { snapshots });
    await commander.execute(STREAM, hostDecider, reserve('i-1000'), envelope()); // revision 499: the 500th event
    await snapshots.flush();
    const written: StateSnapshot | undefined = await memory.read(STREAM, 'host');
    expect(written?.revision).toBe(499);
    expect(hostSnapshotting.fromJson(written!.state)).toSatisfy((state: HostAggregateState) => state.kind === 'host' && reservationOf(state, 'i-1000') !== undefined);
  });
});

describe('state snapshots in handleCommand', () => {
  let dir: string;
  let log: SqliteEventStore;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'vmledger-state-snapshots-'));
    log = SqliteEventStore.open(join(dir, 'events.sqlite'));
  });
  afterEach(async () => {
    await log.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('restores an unkeyed command\'s stream from the snapshot, while a keyed one reads from the start and still finds its earlier run', async () => {
    await seed(log, history(665)); // 1 + 665 + 333 = 999 events: revisions 0–998
    const snapshots = new StateSnapshots(new MemoryStateSnapshotStore());
    const keyed = envelope({ idempotencyKey: 'retry-me' });
    const run = (store: EventStore, command: HostCommand, env: CommandEnvelope) =>
      handleCommand(store, { stream: STREAM, decider: hostDecider, command, envelope: env, newEventId: randomUUID, cache: new StateCache(), snapshots });
    const first = await run(log, reserve('i-5000'), keyed);
    expect(first.revision).toBe(999);
    await snapshots.flush();
    // Its event is the 1,000th, so the snapshot now stands at the keyed command's own event.
    const unkeyed = new CountingStore(log);
    await run(unkeyed, reserve('i-5001'), envelope());
    expect(unkeyed.reads[0]).toEqual({ fromRevision: 999, got: 1 });
    expect(unkeyed.eventsRead).toBe(1);
    // Had the retry started from the snapshot, it would not have seen its earlier run and reserved again.
    const again = new CountingStore(log);
    const repeat = await run(again, reserve('i-5000'), keyed);
    expect(repeat.duplicate).toBe(true);
    expect(again.eventsRead).toBe(1001);
    expect((await log.readStream(STREAM, { fromRevision: 999 })).length).toBe(2);
  });
});

async function readRaw(path: string): Promise<StateSnapshot | undefined> {
  const store = SqliteStateSnapshotStore.open(path);
  try {
    return await store.read(STREAM, 'host');
  } finally {
    await store.close();
  }
}
