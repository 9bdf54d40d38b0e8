// `vmledger usage tail`: usage events from the log, in log order, to NDJSON or CSV. It catches up
// page by page (unparsed, where the store allows), then with --follow subscribes from where it got
// to. Records are written in batches; after each batch is written (and, for a file, synced) the
// checkpoint moves to the last position the batch covered. A kill before the checkpoint moves leaves
// records past it in the output, which the next run cuts away (see output.ts), so the output of
// interrupted runs put together is the output of one run.
import type { EventFilter, EventStore, FromPosition, SubscriptionMessage } from '../../adapters/eventstore/port.js';
import { readCheckpoint, writeCheckpoint, type OutputMark } from './checkpoint.js';
import type { TailOutput } from './output.js';
import { USAGE_EVENT_PREFIX, USAGE_TYPES, isKnownUsageType, usageEventType, type KnownUsageType } from '../../domain/instance/index.js';
import { csvHeader, csvRow, ndjsonLine, payloadOf, toUsageLine, type TailEvent } from './record.js';

export type TailFormat = 'ndjson' | 'csv';

export interface TailOptions {
  readonly store: EventStore;
  /** Where to begin when there is no checkpoint yet (exclusive position). Default: start. */
  readonly from?: FromPosition;
  /** Read to resume from, and rewritten after every batch. */
  readonly checkpointFile?: string;
  /** Usage types without the `usage.` prefix; none means all. */
  readonly types?: readonly string[];
  readonly accountId?: string;
  /** Keep going after the end of the log, until `signal` aborts. */
  readonly follow?: boolean;
  readonly format?: TailFormat;
  /** CSV only: write the header line. Default: when the output file is empty, or (a stream) when not resuming. */
  readonly header?: boolean;
  /** Opens the output, told where the checkpoint says it stood. */
  readonly openOutput: (resume: OutputMark | null) => TailOutput;
  /** Records per write (and checkpoint) at most, default 5000; live records are also written whenever the log pauses. */
  readonly maxBatch?: number;
  readonly signal?: AbortSignal;
}

export interface TailResult {
  readonly records: number;
  /** The position read up to (and checkpointed). */
  readonly position: number;
}

export class UnknownUsageTypeError extends Error {
  constructor(readonly usageType: string) {
    super(`unknown usage type ${JSON.stringify(usageType)}; known types: ${USAGE_TYPES.join(', ')}`);
    this.name = 'UnknownUsageTypeError';
  }
}

/**
 * A start past the log's last event. Taken as given it would become the checkpoint, and every
 * event written below it later would be skipped without a word, so nothing is read or written.
 */
export class PositionBeyondHeadError extends Error {
  constructor(
    /** Where the position came from: the `from` option, or the checkpoint file. */
    readonly source: 'from' | 'checkpoint',
    readonly position: number,
    readonly head: number,
    checkpointFile?: string,
  ) {
    super(
      source === 'from'
        ? `start position ${position} is beyond the end of the log (its last position is ${head})`
        : `checkpoint ${checkpointFile} holds position ${position}, beyond the end of the log (its last position is ${head}): ` +
            'it was not taken from this log, and resuming from it would skip every event up to it',
    );
    this.name = 'PositionBeyondHeadError';
  }
}

/**
 * A start that is not a position of this log. Positions are opaque (sparse byte offsets on
 * EventStoreDB, where a number between two records reads garbage or fails): only one the store
 * handed out, as a record's `position` or a checkpoint, will do.
 */
export class UnknownPositionError extends Error {
  constructor(readonly position: number) {
    super(`start position ${position} is not a position in this log: give one it handed out (a record's position, or a checkpoint's)`);
    this.name = 'UnknownPositionError';
  }
}

const PAGE = 1000;

export async function tailUsage(options: TailOptions): Promise<TailResult> {
  const types = (options.types ?? []).map((type) => {
    if (!isKnownUsageType(type)) throw new UnknownUsageTypeError(type);
    return type;
  });
  const saved = options.checkpointFile === undefined ? undefined : readCheckpoint(options.checkpointFile);
  // Checked before the output is opened (which cuts a file back to the checkpoint's mark) and before
  // a first checkpoint is written: a refused start changes nothing. The head only grows, so a start
  // within it now stays within it.
  const head = await options.store.headPosition();
  if (saved !== undefined && saved.position > head) throw new PositionBeyondHeadError('checkpoint', saved.position, head, options.checkpointFile);
  const start = saved?.position ?? startPosition(options.from ?? 'start', head);
  if (start > head) throw new PositionBeyondHeadError('from', start, head);
  if (saved === undefined && typeof options.from === 'number' && !(await options.store.isPosition(start))) throw new UnknownPositionError(start);
  const output = options.openOutput(saved?.output ?? null);
  try {
    // Taken before anything is written, so that even the first batch can be cut back, and a run from
    // `end` killed early resumes from the same place.
    if (options.checkpointFile !== undefined && saved === undefined) writeCheckpoint(options.checkpointFile, { position: start, output: output.mark() });
    const batch = new Batch(output, options.checkpointFile, start);
    const mark = output.mark();
    const format = options.format ?? 'ndjson';
    if (format === 'csv' && (options.header ?? (mark ? mark.bytes === 0 : saved === undefined))) batch.add(csvHeader(), start, false);
    const reader: Reader = {
      store: options.store,
      filter: { eventTypePrefixes: types.length === 0 ? [USAGE_EVENT_PREFIX] : types.map((type) => usageEventType(type)) },
      keep: matcher(types, options.accountId),
      row: format === 'csv' ? (event) => csvRow(toUsageLine(event)) : ndjsonLine,
      batch,
      maxBatch: options.maxBatch ?? 5000,
      signal: options.signal,
    };
    const caughtUp = await catchUp(reader, start);
    await batch.write();
    if (options.follow && !options.signal?.aborted) await follow(reader, caughtUp);
    await batch.write();
    return { records: batch.written, position: batch.checkpointed };
  } finally {
    output.close();
  }
}

interface Reader {
  readonly store: EventStore;
  readonly filter: EventFilter;
  readonly keep: (event: TailEvent) => boolean;
  readonly row: (event: TailEvent) => string;
  readonly batch: Batch;
  readonly maxBatch: number;
  readonly signal: AbortSignal | undefined;
}

/** Reads pages up to the head the log had when each page was read; resolves with the position reached. */
async function catchUp(reader: Reader, start: number): Promise<number> {
  const { store, filter, batch } = reader;
  const read = store.readAllText
    ? (from: number) => store.readAllText!({ fromPosition: from, maxCount: PAGE, filter })
    : (from: number) => store.readAll({ fromPosition: from, maxCount: PAGE, filter });
  let position = start;
  while (!reader.signal?.aborted) {
    // Read first: every event up to this head is committed, so a short page has them all.
    const head = await store.headPosition();
    const page = await read(position);
    for (const event of page) await take(reader, event);
    position = page.at(-1)?.position ?? position;
    if (page.length < PAGE) {
      position = Math.max(position, head);
      batch.skipTo(position);
      break;
    }
    // Pages are read synchronously: let signals in between them.
    await new Promise((resolve) => setImmediate(resolve));
  }
  return position;
}

/** Live events from `position` until aborted. */
async function follow(reader: Reader, position: number): Promise<void> {
  const { batch } = reader;
  const subscription = reader.store.subscribe({ fromPosition: position, filter: reader.filter });
  const stop = () => void subscription.close();
  reader.signal?.addEventListener('abort', stop);
  if (reader.signal?.aborted) stop();
  // Records waiting while the log has nothing more at once (the subscription waits for I/O or a poll,
  // so a macrotask runs) are written then, not held until the next event arrives.
  let waiting = false;
  let scheduled = false;
  let failure: { cause: unknown } | undefined;
  const rethrow = () => {
    if (failure) throw failure.cause;
  };
  const writeWhileWaiting = () => {
    scheduled = false;
    if (!waiting || batch.records === 0) return;
    batch.write().catch((error: unknown) => {
      failure ??= { cause: error };
      stop();
    });
  };
  try {
    const iterator = subscription[Symbol.asyncIterator]();
    for (;;) {
      if (batch.records > 0 && !scheduled) {
        scheduled = true;
        setImmediate(writeWhileWaiting);
      }
      waiting = true;
      const result = await iterator.next();
      waiting = false;
      rethrow();
      if (result.done) break;
      const message: SubscriptionMessage = result.value;
      if (message.kind === 'event') {
        await take(reader, message.event);
        continue;
      }
      batch.skipTo(message.position);
      if (batch.records === 0) await batch.write();
    }
    await batch.write();
    rethrow();
  } finally {
    reader.signal?.removeEventListener('abort', stop);
    await subscription.close();
  }
}

async function take(reader: Reader, event: TailEvent): Promise<void> {
  if (reader.keep(event)) reader.batch.add(reader.row(event), event.position, true);
  else reader.batch.skipTo(event.position);
  if (reader.batch.records >= reader.maxBatch) await reader.batch.write();
}

/** `end` is the head read once for the whole start, so it cannot differ from the one checked against. */
function startPosition(from: FromPosition, head: number): number {
  if (from === 'start') return 0;
  if (from === 'end') return head;
  return from;
}

function matcher(types: readonly KnownUsageType[], accountId: string | undefined): (event: TailEvent) => boolean {
  const wanted = new Set<string>(types.map((type) => usageEventType(type)));
  return (event) => {
    // The store filters by prefix; a type that merely starts with a wanted one is not it.
    if (wanted.size > 0 && !wanted.has(event.type)) return false;
    return accountId === undefined || payloadOf(event).accountId === accountId;
  };
}

/**
 * Text waiting to be written and the position it covers. Writes run one after another; each
 * checkpoints the position its own text reached, never one read after the text was taken.
 */
class Batch {
  private text = '';
  records = 0;
  written = 0;
  private position: number;
  checkpointed: number;
  private queue: Promise<void> = Promise.resolve();

  constructor(
    private readonly output: TailOutput,
    private readonly checkpointFile: string | undefined,
    start: number,
  ) {
    this.position = start;
    this.checkpointed = start;
  }

  add(text: string, position: number, isRecord: boolean): void {
    this.text += text;
    if (isRecord) this.records++;
    this.position = Math.max(this.position, position);
  }

  skipTo(position: number): void {
    this.position = Math.max(this.position, position);
  }

  write(): Promise<void> {
    const text = this.text;
    const records = this.records;
    const position = this.position;
    this.text = '';
    this.records = 0;
    this.queue = this.queue.then(async () => {
      if (text.length > 0) {
        await this.output.write(text);
        this.written += records;
      }
      if (position !== this.checkpointed) {
        if (this.checkpointFile !== undefined) writeCheckpoint(this.checkpointFile, { position, output: this.output.mark() });
        this.checkpointed = position;
      }
    });
    return this.queue;
  }
}
