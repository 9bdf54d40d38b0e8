import {
  ANY,
  BACKWARDS,
  END,
  FORWARDS,
  MaxAppendSizeExceededError,
  NO_STREAM,
  START,
  STREAM_EXISTS,
  StreamDeletedError as EsdbStreamDeletedError,
  StreamNotFoundError,
  WrongExpectedVersionError,
  jsonEvent,
  type AppendExpectedRevision,
  type JSONType,
  type Position,
  type ReadPosition,
} from '@eventstore/db-client';
import {
  EventStoreClosedError,
  InvalidAppendError,
  StreamDeletedError,
  WrongExpectedRevisionError,
  type AppendResult,
  type EventData,
  type EventStore,
  type ExpectedRevision,
  type ReadAllOptions,
  type ReadStreamOptions,
  type RecordedEvent,
  type SubscribeOptions,
  type Subscription,
} from '../port.js';
import { GENESIS_HASH, chainContentOfText, seal, storedLink, type ChainContent } from '../hash-chain.js';
import { assertExpectedRevision, assertStreamName, serialiseEvents, type SerialisedEvent } from '../validation.js';
import { connectClient, type EsdbClient } from './esdb-client.js';
import { assertSupportedVersion, defaultRetryDelayMs, isTransient, sleep } from './esdb-errors.js';
import { isSystemRecord, matchesFilter, toRecorded } from './esdb-mapping.js';
import { EsdbSubscription } from './esdb-subscription.js';

/** How far back an 'any'/'stream_exists' append looks for its own ids, as the SQLite store does. */
const ANY_REPEAT_LOOKBACK = 100;
/** How often the positions of a committed append are read back before the store gives up on them. */
const READ_BACK_ATTEMPTS = 8;
/** Streams whose last revision and hash the store remembers, so that an exact append need not read its tip. */
const TIP_CACHE_SIZE = 100_000;
/** A soft delete sets the stream's $tb to long.MaxValue; JSON gives it back as a float beyond any revision. */
const SOFT_DELETED_FROM = Number.MAX_SAFE_INTEGER;

interface StreamTip {
  readonly revision: number;
  readonly hash: string;
}
const EMPTY_STREAM: StreamTip = { revision: -1, hash: GENESIS_HASH };

export interface EsdbEventStoreOptions {
  /** Page size of reads through `$all` (readAll, headPosition, catch-up). At least 2. */
  readonly readBatchSize?: number;
  /** How long to wait before the n-th retry (from 1) of something the server may do next time. */
  readonly retryDelayMs?: (attempt: number) => number;
  /**
   * Consecutive failed attempts to resume a dropped subscription before it ends with a retriable
   * SubscriptionDroppedError. Unbounded by default: the read model's runner has no way back from an
   * ended subscription but a restart.
   */
  readonly resubscribeAttempts?: number;
}

/**
 * The production event store: EventStoreDB (22.6 or later; see README) through `@eventstore/db-client`.
 *
 * Positions are ESDB commit positions (byte offsets into the transaction log: increasing, sparse,
 * opaque). Every event written without an explicit transaction, which is all of ours, has its own
 * commit position equal to its prepare position, so `{ commit: n, prepare: n }` names the event at n.
 *
 * Reads go to the leader: a command handler re-reads a stream after a conflict and must see the write
 * that beat it.
 */
export class EsdbEventStore implements EventStore {
  private closed = false;
  private readonly subscriptions = new Set<EsdbSubscription>();
  private readonly pageSize: number;
  private readonly retryDelayMs: (attempt: number) => number;
  private readonly resubscribeAttempts: number;
  /** The last revision and hash of streams this store wrote or read to their end. */
  private readonly tips = new Map<string, StreamTip>();
  private supported: Promise<void> | undefined;

  private constructor(
    private readonly client: EsdbClient,
    options: EsdbEventStoreOptions,
  ) {
    // A page re-reads the last event of the previous one (reads from a position are inclusive), so a
    // page of one would never move.
    this.pageSize = Math.max(2, options.readBatchSize ?? 500);
    this.retryDelayMs = options.retryDelayMs ?? defaultRetryDelayMs;
    this.resubscribeAttempts = options.resubscribeAttempts ?? Number.POSITIVE_INFINITY;
  }

  static connect(connectionString: string, options: EsdbEventStoreOptions = {}): EsdbEventStore {
    return new EsdbEventStore(connectClient(connectionString), options);
  }

  /** The store over a client already made: the tests' scripted fake of `@eventstore/db-client`. */
  static withClient(client: EsdbClient, options: EsdbEventStoreOptions = {}): EsdbEventStore {
    return new EsdbEventStore(client, options);
  }

  /**
   * Each event is sealed into its stream's hash chain, which needs the exact predecessor: an exact
   * append chains to the event it names (remembered from this store's last read or write of the
   * stream, else read), a no_stream append to the genesis hash. An 'any' or 'stream_exists' append
   * reads the stream's recent events once, for its own ids (a repeat) and for the tip, and is pinned
   * to that tip: the server then checks the ids after it, so an identical append that got in first
   * makes this one an idempotent repeat, never a duplicate. Another writer's events make it read and
   * try again, as long as it takes: 'any' never fails its expectation.
   */
  async append(stream: string, events: readonly EventData[], expected: ExpectedRevision): Promise<AppendResult> {
    this.assertOpen();
    assertStreamName(stream);
    assertExpectedRevision(expected);
    const serialised = serialiseEvents(events);
    await this.assertSupportedServer();
    if (serialised.length === 0) return this.appendNothing(stream, expected);
    const contents = serialised.map(chainContentOfText);

    if (expected === 'no_stream') {
      await this.assertNotSoftDeleted(stream);
      return this.appendSealed(stream, serialised, contents, expected, EMPTY_STREAM);
    }
    if (typeof expected === 'number') return this.appendSealed(stream, serialised, contents, expected, await this.tipAt(stream, expected));
    for (let attempt = 1; ; attempt++) {
      const recent = (await this.readStream(stream, { direction: 'backwards', maxCount: ANY_REPEAT_LOOKBACK })).reverse();
      const repeat = repeatAmong(recent, serialised);
      if (repeat) return repeat;
      const last = recent.at(-1);
      if (!last) await this.assertNotSoftDeleted(stream);
      if (!last && expected === 'stream_exists') throw new WrongExpectedRevisionError(stream, expected, 'no_stream');
      const tip = last ? tipOf(last) : EMPTY_STREAM;
      try {
        return await this.appendSealed(stream, serialised, contents, tip.revision === -1 ? 'no_stream' : tip.revision, tip);
      } catch (error) {
        if (!(error instanceof WrongExpectedRevisionError)) throw error;
        await sleep(this.retryDelayMs(attempt));
        this.assertOpen();
      }
    }
  }

  private async appendSealed(
    stream: string,
    serialised: readonly SerialisedEvent[],
    contents: readonly ChainContent[],
    expected: 'no_stream' | number,
    tip: StreamTip,
  ): Promise<AppendResult> {
    let previous = tip.hash;
    const proposed = serialised.map((event, i) => {
      const sealed = seal(previous, stream, tip.revision + 1 + i, contents[i]!);
      previous = sealed.link.hash;
      return jsonEvent({
        id: event.id,
        type: event.type,
        // The client JSON.stringify()s whatever it is given, which gives back the canonical texts the
        // objects were parsed from; its JSONType merely leaves out the scalars (numbers, booleans,
        // null) that our data may also be.
        data: JSON.parse(sealed.data) as JSONType,
        metadata: JSON.parse(sealed.metadata) as JSONType,
      });
    });
    let lastRevision: number;
    try {
      const result = await this.client.appendToStream(stream, proposed, {
        expectedRevision: toEsdbExpected(expected),
        requiresLeader: true,
      });
      if (!result.success) {
        // Only with `throwOnAppendFailure=false` in the connection string; the client's batch append
        // then reports the actual revision wrongly, so ask the stream.
        throw new WrongExpectedRevisionError(stream, expected, toActual(await this.lastRevision(stream)));
      }
      lastRevision = Number(result.nextExpectedRevision);
    } catch (error) {
      this.tips.delete(stream);
      throw translateAppendError(error, stream, expected);
    }
    const firstRevision = lastRevision - serialised.length + 1;
    if (firstRevision !== tip.revision + 1) {
      // The events were sealed for the revisions after the tip they were appended to; the server
      // placed them elsewhere only if the stream was deleted and written again under this append.
      this.tips.delete(stream);
      throw new Error(
        `append to ${stream} was placed at revisions ${firstRevision}..${lastRevision}, not after revision ${tip.revision} ` +
          'as its hash chain says: the stream was deleted and written again meanwhile (audit verify will name the events)',
      );
    }

    // The server answers with the position of the write only (and, for an idempotent repeat, with the
    // stored events' revisions): read the events back for each one's own position. The append is
    // committed whatever happens to this read, so it is retried rather than reported as a failure.
    const stored = await this.readBack(stream, firstRevision, serialised.length);
    if (stored.length !== serialised.length || stored.some((event, i) => event.id !== serialised[i]!.id)) {
      throw new Error(
        `append to ${stream} succeeded, but revisions ${firstRevision}..${lastRevision} do not hold the appended events`,
      );
    }
    this.remember(stream, tipOf(stored.at(-1)!));
    return { revision: lastRevision, positions: stored.map((event) => event.position) };
  }

  private async readBack(stream: string, fromRevision: number, count: number): Promise<RecordedEvent[]> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.readStream(stream, { fromRevision, maxCount: count });
      } catch (error) {
        if (!isTransient(error) || attempt >= READ_BACK_ATTEMPTS || this.closed) {
          throw new Error(`append to ${stream} was committed at revisions ${fromRevision}..${fromRevision + count - 1}, but reading back its positions failed`, { cause: error });
        }
        await sleep(this.retryDelayMs(attempt));
      }
    }
  }

  /** The event an exact-revision append follows; when it is missing ESDB refuses the append anyway. */
  private async tipAt(stream: string, revision: number): Promise<StreamTip> {
    const known = this.tips.get(stream);
    if (known?.revision === revision) return known;
    const [event] = await this.readStream(stream, { fromRevision: revision, maxCount: 1 });
    return event && event.revision === revision ? tipOf(event) : { revision, hash: GENESIS_HASH };
  }

  /**
   * A soft-deleted stream reads as missing, yet EventStoreDB takes a no_stream append into it at its
   * old last revision + 1, where a chain sealed from revision 0 would not hold: refuse it instead.
   */
  private async assertNotSoftDeleted(stream: string): Promise<void> {
    const { metadata } = await this.client.getStreamMetadata(stream, { requiresLeader: true });
    const truncateBefore = metadata?.truncateBefore;
    if (typeof truncateBefore === 'number' && truncateBefore >= SOFT_DELETED_FROM) throw new StreamDeletedError(stream, 'soft');
  }

  private remember(stream: string, tip: StreamTip): void {
    if (this.tips.size >= TIP_CACHE_SIZE) this.tips.clear();
    this.tips.set(stream, tip);
  }

  /** An empty append writes nothing, so ESDB would not check the expected revision: check it here. */
  private async appendNothing(stream: string, expected: ExpectedRevision): Promise<AppendResult> {
    const current = await this.lastRevision(stream);
    const holds =
      expected === 'any' ||
      (expected === 'stream_exists' && current !== -1) ||
      (expected === 'no_stream' && current === -1) ||
      expected === current;
    if (!holds) throw new WrongExpectedRevisionError(stream, expected, toActual(current));
    return { revision: current, positions: [] };
  }

  /** The stream's last revision, -1 when it does not exist. */
  private async lastRevision(stream: string): Promise<number> {
    const [last] = await this.readStream(stream, { direction: 'backwards', maxCount: 1 });
    return last?.revision ?? -1;
  }

  /**
   * Asked once per store (again after a failure to ask): servers before 22.6 leave the log position
   * out of stream reads, and their subscriptions differ; the store refuses them by name at once.
   */
  private assertSupportedServer(): Promise<void> {
    this.supported ??= this.client.serverVersion().then(assertSupportedVersion, (error: unknown) => {
      this.supported = undefined;
      throw error;
    });
    return this.supported;
  }

  async readStream(stream: string, options: ReadStreamOptions = {}): Promise<RecordedEvent[]> {
    this.assertOpen();
    assertStreamName(stream);
    const forwards = (options.direction ?? 'forwards') === 'forwards';
    const maxCount = options.maxCount ?? -1;
    if (maxCount === 0) return [];
    await this.assertSupportedServer();
    const read = this.client.readStream(stream, {
      direction: forwards ? FORWARDS : BACKWARDS,
      fromRevision: options.fromRevision === undefined ? (forwards ? START : END) : BigInt(options.fromRevision),
      ...(maxCount > 0 ? { maxCount } : {}),
      requiresLeader: true,
    });
    const events: RecordedEvent[] = [];
    try {
      for await (const resolved of read) {
        if (resolved.event) events.push(toRecorded(resolved.event));
      }
    } catch (error) {
      if (error instanceof StreamNotFoundError) return [];
      if (error instanceof EsdbStreamDeletedError) {
        this.tips.delete(stream);
        throw new StreamDeletedError(stream, 'hard');
      }
      throw error;
    }
    // A read that ran to the stream's end has seen its tip: the next exact append needs not read it.
    const last = forwards ? (maxCount < 0 || events.length < maxCount ? events.at(-1) : undefined) : options.fromRevision === undefined ? events[0] : undefined;
    if (last) this.remember(stream, tipOf(last));
    return events;
  }

  /**
   * Pages through `$all` and filters here: this client's `readAll` takes no server-side filter (only
   * subscriptions do).
   */
  async readAll(options: ReadAllOptions = {}): Promise<RecordedEvent[]> {
    this.assertOpen();
    const from = options.fromPosition === undefined || options.fromPosition === 'start' ? 0 : options.fromPosition;
    const limit = options.maxCount === undefined || options.maxCount < 0 ? Number.POSITIVE_INFINITY : options.maxCount;
    const events: RecordedEvent[] = [];
    if (limit === 0) return events;
    await this.assertSupportedServer();
    // ESDB reads from a position inclusively; the port's position is exclusive, hence `after`.
    let after = from;
    let cursor: ReadPosition = from === 0 ? START : { commit: BigInt(from), prepare: BigInt(from) };
    for (;;) {
      const read = this.client.readAll({ fromPosition: cursor, maxCount: this.pageSize, requiresLeader: true });
      let received = 0;
      let last: Position | undefined;
      for await (const resolved of read) {
        received++;
        const record = resolved.event;
        if (!record) continue;
        last = record.position;
        const position = Number(record.position.commit);
        if (position <= after) continue;
        after = position;
        if (isSystemRecord(record) || !matchesFilter(record, options.filter)) continue;
        events.push(toRecorded(record));
        if (events.length >= limit) {
          await read.cancel();
          return events;
        }
      }
      if (received < this.pageSize || !last) return events;
      cursor = last;
    }
  }

  subscribe(options: SubscribeOptions = {}): Subscription {
    this.assertOpen();
    const subscription = new EsdbSubscription(
      this.client,
      options,
      {
        pageSize: this.pageSize,
        retryDelayMs: this.retryDelayMs,
        resubscribeAttempts: this.resubscribeAttempts,
        ready: () => this.assertSupportedServer(),
      },
      (closed) => this.subscriptions.delete(closed),
    );
    this.subscriptions.add(subscription);
    return subscription;
  }

  /** The position of the last event that is not ESDB's own: reads `$all` backwards past its `$` events. */
  async headPosition(): Promise<number> {
    this.assertOpen();
    await this.assertSupportedServer();
    let cursor: ReadPosition = END;
    for (;;) {
      const read = this.client.readAll({ direction: BACKWARDS, fromPosition: cursor, maxCount: this.pageSize, requiresLeader: true });
      let received = 0;
      let last: Position | undefined;
      for await (const resolved of read) {
        received++;
        const record = resolved.event;
        if (!record) continue;
        last = record.position;
        if (!isSystemRecord(record)) {
          await read.cancel();
          return Number(record.position.commit);
        }
      }
      if (received < this.pageSize || !last) return 0;
      cursor = last;
    }
  }

  /** 0, or the position of a record that is there: reading `$all` from it finds that very record. */
  async isPosition(position: number): Promise<boolean> {
    this.assertOpen();
    if (position === 0) return true;
    if (!Number.isSafeInteger(position) || position < 0) return false;
    await this.assertSupportedServer();
    const read = this.client.readAll({ fromPosition: { commit: BigInt(position), prepare: BigInt(position) }, maxCount: 1, requiresLeader: true });
    let found: number | undefined;
    for await (const resolved of read) if (resolved.event) found = Number(resolved.event.position.commit);
    return found === position;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.all([...this.subscriptions].map((subscription) => subscription.close()));
    await this.client.dispose();
  }

  private assertOpen(): void {
    if (this.closed) throw new EventStoreClosedError();
  }
}

/** The stored result when these ids already follow one another among the stream's recent events (oldest first). */
function repeatAmong(recent: readonly RecordedEvent[], events: readonly SerialisedEvent[]): AppendResult | undefined {
  const start = recent.findIndex((event) => event.id === events[0]!.id);
  if (start === -1) return undefined;
  const stored = recent.slice(start, start + events.length);
  if (stored.length !== events.length || stored.some((event, i) => event.id !== events[i]!.id)) return undefined;
  return { revision: stored.at(-1)!.revision, positions: stored.map((event) => event.position) };
}

function tipOf(event: RecordedEvent): StreamTip {
  // An event written before the chain existed is followed from the genesis hash; verify reports it.
  return { revision: event.revision, hash: storedLink(event.metadata)?.hash ?? GENESIS_HASH };
}

function toEsdbExpected(expected: ExpectedRevision): AppendExpectedRevision {
  switch (expected) {
    case 'no_stream':
      return NO_STREAM;
    case 'stream_exists':
      return STREAM_EXISTS;
    case 'any':
      return ANY;
    default:
      // Exact revisions, not ANY: ESDB's event-id deduplication is only guaranteed for them.
      return BigInt(expected);
  }
}

function toActual(lastRevision: number): number | 'no_stream' {
  return lastRevision === -1 ? 'no_stream' : lastRevision;
}

function translateAppendError(error: unknown, stream: string, expected: ExpectedRevision): unknown {
  if (error instanceof WrongExpectedVersionError) {
    const actual = error.actualVersion;
    return new WrongExpectedRevisionError(stream, expected, actual === NO_STREAM ? 'no_stream' : Number(actual));
  }
  if (error instanceof EsdbStreamDeletedError) {
    // A tombstone refuses every append; a soft-deleted stream refuses only 'stream_exists' this way.
    return new StreamDeletedError(stream, expected === 'stream_exists' ? 'soft' : 'hard');
  }
  if (error instanceof MaxAppendSizeExceededError) {
    // Refused by the server before anything was written, as our own size checks would have.
    return new InvalidAppendError(
      'events',
      `the append to ${stream} is over EventStoreDB's maximum append size of ${error.maxAppendSize} bytes`,
    );
  }
  return error;
}
