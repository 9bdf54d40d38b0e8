// `vmledger audit replay`: folds streams straight from the log, independent of every read model, as
// they stood at a moment (by the time each event says it happened, as virtualMachineAsOf counts it).
// Instance streams are folded with the instance decider; other streams are listed event by event.
// One JSON object per stream and line.
import { toDomainEvent } from '../../adapters/eventstore/domain-event.js';
import type { EventStore, JsonValue, RecordedEvent } from '../../adapters/eventstore/port.js';
import { INSTANCE_STREAM_PREFIX, instanceDecider, type InstanceEvent, type InstanceState } from '../../domain/instance/index.js';
import { toVirtualMachineView, type VirtualMachineView } from '../../projections/instances/view.js';

export interface ReplayOptions {
  readonly store: EventStore;
  /** One stream; all streams, in the order they first appear in the log, when absent. */
  readonly stream?: string;
  /** Epoch milliseconds; events that happened after it are left out. */
  readonly asOfMs?: number;
  readonly write: (line: string) => Promise<void>;
  readonly pageSize?: number;
}

export interface InstanceReplay {
  readonly stream: string;
  /** The last revision folded; -1 when nothing had happened yet. */
  readonly revision: number;
  readonly state: InstanceState;
  /** What virtualMachineAsOf answers: null before the deploy and once expunged. */
  readonly virtualMachine: VirtualMachineView | null;
}

/** A stream the instance decider could not fold: the log holds an event it does not understand. */
export interface FailedReplay {
  readonly stream: string;
  readonly revision: number;
  readonly error: string;
}

export interface StreamReplay {
  readonly stream: string;
  readonly revision: number;
  readonly events: ReadonlyArray<{ revision: number; position: number; id: string; type: string; occurredAt: string; data: JsonValue }>;
}

/** Replays and writes each stream; resolves with how many were written and how many could not be folded. */
export async function replayStreams(options: ReplayOptions): Promise<{ streams: number; failed: number }> {
  const streams = options.stream === undefined ? await streamNames(options.store, options.pageSize ?? 1000) : [options.stream];
  let failed = 0;
  for (const stream of streams) {
    const replayed = await replayStream(options.store, stream, options.asOfMs ?? Number.POSITIVE_INFINITY, options.pageSize ?? 1000);
    if ('error' in replayed) failed++;
    await options.write(`${JSON.stringify(replayed)}\n`);
  }
  return { streams: streams.length, failed };
}

export async function replayStream(
  store: EventStore,
  stream: string,
  asOfMs: number,
  pageSize = 1000,
): Promise<InstanceReplay | StreamReplay | FailedReplay> {
  const instance = stream.startsWith(INSTANCE_STREAM_PREFIX);
  let state: InstanceState = instanceDecider.initialState;
  const events: Array<StreamReplay['events'][number]> = [];
  let revision = -1;
  for await (const event of streamEvents(store, stream, pageSize)) {
    const occurredAt = occurredAtOf(event);
    // Stops at the first later event, as virtualMachineAsOf does: a stream is in the order things happened.
    if (Date.parse(occurredAt) > asOfMs) break;
    revision = event.revision;
    if (instance) {
      try {
        state = instanceDecider.evolve(state, toDomainEvent<InstanceEvent>(event));
      } catch (error) {
        // One unreadable stream must not hide the others from the auditor.
        return { stream, revision: event.revision, error: `cannot fold ${event.type}: ${error instanceof Error ? error.message : String(error)}` };
      }
    } else events.push({ revision: event.revision, position: event.position, id: event.id, type: event.type, occurredAt, data: event.data });
  }
  if (!instance) return { stream, revision, events };
  const virtualMachine = state.exists && !state.expunged ? toVirtualMachineView(state) : null;
  return { stream, revision, state, virtualMachine };
}

function occurredAtOf(event: RecordedEvent): string {
  return typeof event.metadata.occurredAt === 'string' ? event.metadata.occurredAt : event.recordedAt;
}

async function* streamEvents(store: EventStore, stream: string, pageSize: number): AsyncGenerator<RecordedEvent> {
  for (let from = 0; ; ) {
    const page = await store.readStream(stream, { fromRevision: from, maxCount: pageSize });
    yield* page;
    if (page.length < pageSize) return;
    from = page[page.length - 1]!.revision + 1;
  }
}

/** Every stream name once, in the order of its first event: memory grows with streams, not events. */
async function streamNames(store: EventStore, pageSize: number): Promise<string[]> {
  const names = new Set<string>();
  for (let from = 0; ; ) {
    const page = await store.readAll({ fromPosition: from, maxCount: pageSize });
    for (const event of page) names.add(event.stream);
    if (page.length < pageSize) return [...names];
    from = page[page.length - 1]!.position;
  }
}
