// A scripted EventStoreDB for the adapter's tests, since no server can run here.
//
// The fake stands where the adapter takes its client (`EsdbClient`). Reads and subscriptions answer with
// the gRPC messages (`ReadResp`) the server sends, in the order the server's source sends them, and
// those go through `@eventstore/db-client` 6.2.1's own `ReadStream` and `Subscription` classes: the
// adapter sees exactly what the library makes of them (its error conversion, its checkpoint callback,
// its buffering). Appends answer with the library's own result and error classes.
//
// Server behaviour modelled, with the source it follows (EventStore/EventStore, tags oss-v22.10.5,
// oss-v23.6.0, oss-v23.10.0, v24.10.0):
// - positions are byte offsets of records in the transaction log: sparse, increasing; each event written
//   by an append has its own commit position equal to its prepare position (StorageWriterService:
//   IsCommitted prepares; AllReader: `new TFPos(prepare.LogPosition, prepare.LogPosition)`);
// - appends follow IndexWriter.CheckCommit: exact revisions check the ids from expected+1 (idempotent
//   repeat), no id check when the expected revision is the current one; `any`/`stream_exists` check
//   the first id against recently committed ids only; hard-deleted streams refuse everything;
//   soft-deleted streams read as missing and take no_stream/exact appends at last+1;
// - the append size counted by the server is the sum of the events' data lengths (Event.SizeOnDisk,
//   whose operator precedence leaves metadata and type out) against MaxAppendSize, 1 MiB by default;
// - `$all` reads are inclusive of their start position (forwards) and exclusive (backwards);
// - filtered `$all` subscriptions (Enumerators.AllSubscriptionFiltered, Enumerator.AllSubscriptionFiltered
//   from 24.x) — see `subscribe` below for each version's message order.
import { Readable } from 'node:stream';
import streamsPb from '@eventstore/db-client/generated/streams_pb.js';
import sharedPb from '@eventstore/db-client/generated/shared_pb.js';
import { ReadStream } from '@eventstore/db-client/dist/streams/utils/ReadStream.js';
import { Subscription } from '@eventstore/db-client/dist/streams/utils/Subscription.js';
import { convertGrpcEvent } from '@eventstore/db-client/dist/utils/convertGrpcEvent.js';
import {
  BACKWARDS,
  END,
  MaxAppendSizeExceededError,
  START,
  StreamDeletedError,
  WrongExpectedVersionError,
  convertToCommandError,
  type AllStreamResolvedEvent,
  type AllStreamSubscription,
  type AppendExpectedRevision,
  type AppendResult,
  type AppendToStreamOptions,
  type EventData,
  type Filter,
  type GetStreamMetadataResult,
  type ReadAllOptions,
  type ReadStreamOptions,
  type ResolvedEvent,
  type StreamingRead,
  type SubscribeToAllOptions,
} from '@eventstore/db-client';
import type { EsdbClient } from '../../../../adapters/eventstore/esdb/esdb-client.js';

const { ReadResp } = streamsPb;
type ReadRespMessage = InstanceType<typeof ReadResp>;

export type ServerVersion = '21.10' | '22.6' | '22.10' | '23.6' | '23.10' | '24.10';

/** What the server reports through ServerFeatures; before 21.10 it has no such service. */
const REPORTED_VERSION: Record<ServerVersion, string> = {
  '21.10': '21.10.9.0',
  '22.6': '22.6.0.0',
  '22.10': '22.10.5.0',
  '23.6': '23.6.0.0',
  '23.10': '23.10.0.0',
  '24.10': '24.10.0.0',
};

/** Enumerators.ReadBatchSize: the page size of the server's catch-up reads, and the default search window. */
const READ_BATCH_SIZE = 32;
/** The ulong the server sends for "no position" on stream reads before 22.6. */
const NO_POSITION = '18446744073709551615';
/** What a soft delete writes as the stream's $tb (EventNumber.DeletedStream, long.MaxValue). */
const DELETED_STREAM = 9223372036854775807n;
/** How many recently committed event ids the server remembers for `any`/`stream_exists` repeats. */
const COMMITTED_IDS_REMEMBERED = 1000;

export interface FakeRecord {
  readonly position: number;
  readonly stream: string;
  readonly revision: number;
  readonly id: string;
  readonly type: string;
  readonly data: Buffer;
  readonly metadata: Buffer;
  readonly created: bigint;
}

interface StreamState {
  last: number;
  deleted?: 'hard' | 'soft';
  /** $tb: events below it are not read. */
  truncateBefore?: number;
}

/** A gRPC error as grpc-js hands it to the library, for the library's own conversion. */
export interface ServiceError extends Error {
  readonly code: number;
  readonly details: string;
  readonly metadata: { getMap(): Record<string, string> };
}

export function serviceError(code: number, details: string, metadata: Record<string, string> = {}): ServiceError {
  return Object.assign(new Error(`${code} ${details}`), { code, details, metadata: { getMap: () => metadata } });
}

/** What the server sends when a connection is lost or the node goes away. */
export const unavailable = (): ServiceError => serviceError(14, 'Connection dropped');
/** Enumerators.AllSubscriptionFiltered.ConsumerTooSlow (before 24.x): RpcExceptions.Timeout, status Aborted. */
export const consumerTooSlow = (): ServiceError =>
  serviceError(10, 'Operation timed out: Consumer too slow to handle event while live. Client resubscription required.');
/** A follower after a leader change, for a call that requires the leader. */
export const notLeader = (): ServiceError =>
  serviceError(14, 'Leader info available', { exception: 'not-leader', 'leader-endpoint-host': '10.0.0.2', 'leader-endpoint-port': '2113' });

type Call = 'append' | 'readStream' | 'readAll' | 'subscribe' | 'metadata' | 'serverVersion';

export class FakeEsdbServer {
  readonly records: FakeRecord[] = [];
  private readonly streams = new Map<string, StreamState>();
  private readonly committedIds: Array<{ readonly id: string; readonly stream: string; readonly revision: number }> = [];
  private readonly subscriptions = new Set<FakeSubscription>();
  private readonly hooks = new Map<Call, Array<() => void>>();
  private readonly faults = new Map<Call, ServiceError[]>();
  /** Where the next record goes: the end of the transaction log. */
  nextPosition = 0;
  maxAppendSize = 1024 * 1024;
  /** Every call the adapter made, in order: its round trips. */
  readonly calls: Call[] = [];

  constructor(readonly version: ServerVersion = '23.10') {
    // A log never starts empty: the server writes its epoch and stats records first.
    this.writeSystemRecord('$stats-127.0.0.1:2113', '$statsCollected');
  }

  client(): EsdbClient {
    return new FakeEsdbClient(this);
  }

  /** Runs `hook` just before the server answers the next call of that kind: another writer getting in first. */
  beforeNext(call: Call, hook: () => void): void {
    this.hooks.set(call, [...(this.hooks.get(call) ?? []), hook]);
  }

  /** The next call of that kind fails with `error` (after its hooks ran; an append then writes nothing). */
  failNext(call: Call, error: ServiceError = unavailable()): void {
    this.faults.set(call, [...(this.faults.get(call) ?? []), error]);
  }

  /** Every open subscription ends with `error`, as when the node restarts or the leader changes. */
  dropSubscriptions(error: ServiceError = unavailable()): void {
    for (const subscription of [...this.subscriptions]) subscription.fail(error);
  }

  get openSubscriptions(): number {
    return this.subscriptions.size;
  }

  /** A record of the server's own ($stats, $metadata, scavenge…), which `$all` carries too. */
  writeSystemRecord(stream: string, type: string): FakeRecord {
    const state = this.streams.get(stream) ?? { last: -1 };
    this.streams.set(stream, state);
    state.last += 1;
    return this.write(stream, state.last, crypto.randomUUID(), type, Buffer.from('{}'), Buffer.alloc(0));
  }

  /** Scavenging removes records from the log: what was at their positions is no longer there. */
  scavenge(predicate: (record: FakeRecord) => boolean): void {
    for (let i = this.records.length - 1; i >= 0; i--) if (predicate(this.records[i]!)) this.records.splice(i, 1);
  }

  /** `$tb` of the stream set to long.MaxValue, as DeleteStream with hardDelete=false does. */
  softDelete(stream: string): void {
    const state = this.streams.get(stream);
    if (!state) throw new Error(`no stream ${stream}`);
    state.deleted = 'soft';
    state.truncateBefore = Number(DELETED_STREAM);
    this.writeSystemRecord(`$$${stream}`, '$metadata');
  }

  /** A tombstone: the stream can never be read or written again. */
  hardDelete(stream: string): void {
    const state = this.streams.get(stream) ?? { last: -1 };
    this.streams.set(stream, state);
    state.deleted = 'hard';
    this.write(stream, Number.MAX_SAFE_INTEGER, crypto.randomUUID(), '$streamDeleted', Buffer.alloc(0), Buffer.alloc(0));
  }

  /** The records of a stream that are there, in revision order. */
  streamRecords(stream: string): FakeRecord[] {
    return this.records.filter((record) => record.stream === stream && record.type !== '$streamDeleted');
  }

  // --- the server's side of each call -----------------------------------------------------------

  /** Runs `hook` just before the server answers the `n`-th call from now (1: the next), of whatever kind. */
  beforeCall(n: number, hook: () => void): void {
    this.numberedHooks.set(this.calls.length + n, hook);
  }

  private readonly numberedHooks = new Map<number, () => void>();

  call(call: Call): ServiceError | undefined {
    this.calls.push(call);
    this.numberedHooks.get(this.calls.length)?.();
    this.numberedHooks.delete(this.calls.length);
    const hooks = this.hooks.get(call);
    if (hooks?.length) hooks.shift()!();
    return this.faults.get(call)?.shift();
  }

  append(stream: string, events: EventData[], expected: AppendExpectedRevision): AppendResult {
    let size = 0;
    const encoded = events.map((event) => {
      const data = Buffer.from(JSON.stringify(event.data), 'utf8');
      const metadata = event.metadata === undefined ? Buffer.alloc(0) : Buffer.from(JSON.stringify(event.metadata), 'utf8');
      size += data.length;
      return { id: event.id, type: event.type, data, metadata };
    });
    if (size > this.maxAppendSize) throw MaxAppendSizeExceededError.fromMaxAppendSize(this.maxAppendSize);

    const state = this.streams.get(stream) ?? { last: -1 };
    const current = state.last;
    const softDeleted = state.deleted === 'soft';
    if (state.deleted === 'hard') throw StreamDeletedError.fromStreamName(stream);
    const wrong = () =>
      new WrongExpectedVersionError(undefined, {
        streamName: stream,
        expected,
        current: current === -1 || softDeleted ? 'no_stream' : BigInt(current),
      });
    const expectedNumber = expected === 'no_stream' ? -1 : typeof expected === 'bigint' ? Number(expected) : undefined;

    if (expected === 'stream_exists') {
      if (softDeleted) throw StreamDeletedError.fromStreamName(stream);
      if (current < 0) throw wrong();
    }
    if (expected === 'any' || expected === 'stream_exists') {
      // Only recently committed ids are checked, and only the first decides whether it is a repeat.
      const first = this.committedIds.find((c) => c.id === encoded[0]?.id && c.stream === stream);
      if (first) {
        const stored = this.streamRecords(stream).filter((r) => r.revision >= first.revision).slice(0, encoded.length);
        if (stored.length !== encoded.length || stored.some((r, i) => r.id !== encoded[i]!.id)) throw wrong();
        return this.result(stored[stored.length - 1]!);
      }
      return this.commit(stream, state, encoded);
    }
    if (expectedNumber! < current) {
      // An idempotent repeat when the ids from expected+1 on are these; otherwise a conflict, except
      // that a soft-deleted stream takes no_stream as a fresh start.
      const stored = this.streamRecords(stream).filter((r) => r.revision > expectedNumber!).slice(0, encoded.length);
      if (stored.length === encoded.length && stored.every((r, i) => r.id === encoded[i]!.id)) return this.result(stored[stored.length - 1]!);
      if (expectedNumber === -1 && softDeleted && stored[0]?.id !== encoded[0]?.id) return this.commit(stream, state, encoded);
      throw wrong();
    }
    if (expectedNumber! > current) throw wrong();
    return this.commit(stream, state, encoded);
  }

  private commit(stream: string, state: StreamState, events: ReadonlyArray<{ id: string; type: string; data: Buffer; metadata: Buffer }>): AppendResult {
    this.streams.set(stream, state);
    if (state.deleted === 'soft') {
      // Writing to a soft-deleted stream brings it back from the next revision on ($tb = last + 1).
      state.deleted = undefined;
      state.truncateBefore = state.last + 1;
      this.writeSystemRecord(`$$${stream}`, '$metadata');
    }
    let last: FakeRecord | undefined;
    for (const event of events) {
      state.last += 1;
      last = this.write(stream, state.last, event.id, event.type, event.data, event.metadata);
    }
    return last ? this.result(last) : { success: true, nextExpectedRevision: BigInt(state.last) };
  }

  private result(last: FakeRecord): AppendResult {
    return { success: true, nextExpectedRevision: BigInt(last.revision), position: { commit: BigInt(last.position), prepare: BigInt(last.position) } };
  }

  private write(stream: string, revision: number, id: string, type: string, data: Buffer, metadata: Buffer): FakeRecord {
    const record: FakeRecord = { position: this.nextPosition, stream, revision, id, type, data, metadata, created: BigInt(Date.now()) * 10_000n };
    // A prepare record's size on disk: a header, the stream name, the type, data and metadata.
    this.nextPosition += 90 + stream.length + 2 * type.length + data.length + metadata.length;
    this.records.push(record);
    if (!stream.startsWith('$')) {
      this.committedIds.push({ id, stream, revision });
      if (this.committedIds.length > COMMITTED_IDS_REMEMBERED) this.committedIds.shift();
    }
    for (const subscription of this.subscriptions) subscription.appeared(record);
    return record;
  }

  readStreamMessages(stream: string, options: ReadStreamOptions): ReadRespMessage[] | ServiceError {
    const state = this.streams.get(stream);
    if (state?.deleted === 'hard') return serviceError(9, `Event stream '${stream}' is deleted.`, { exception: 'stream-deleted', 'stream-name': stream });
    const visible = this.streamRecords(stream).filter((record) => record.revision >= (state?.truncateBefore ?? 0));
    if (!state || state.deleted === 'soft' || visible.length === 0) {
      const notFound = new ReadResp.StreamNotFound();
      const identifier = new sharedPb.StreamIdentifier();
      identifier.setStreamName(Buffer.from(stream));
      notFound.setStreamIdentifier(identifier);
      return [new ReadResp().setStreamNotFound(notFound)];
    }
    const backwards = options.direction === BACKWARDS;
    const from = options.fromRevision === undefined || options.fromRevision === START || options.fromRevision === END ? undefined : Number(options.fromRevision);
    let selected = backwards
      ? visible.filter((r) => from === undefined || r.revision <= from).reverse()
      : visible.filter((r) => from === undefined || r.revision >= from);
    if (options.maxCount !== undefined) selected = selected.slice(0, Number(options.maxCount));
    const positions = this.version !== '21.10';
    return selected.map((record) => eventMessage(record, positions));
  }

  readAllMessages(options: ReadAllOptions): ReadRespMessage[] {
    const backwards = options.direction === BACKWARDS;
    const from = options.fromPosition;
    let selected: FakeRecord[];
    if (backwards) {
      const before = from === undefined || from === END ? Number.POSITIVE_INFINITY : from === START ? 0 : Number(from.commit);
      selected = this.records.filter((r) => r.position < before).reverse();
    } else {
      const after = from === undefined || from === START ? 0 : from === END ? this.nextPosition : Number(from.commit);
      selected = this.records.filter((r) => r.position >= after);
    }
    if (options.maxCount !== undefined) selected = selected.slice(0, Number(options.maxCount));
    return selected.map((record) => eventMessage(record, true));
  }

  metadata(stream: string): GetStreamMetadataResult {
    const state = this.streams.get(stream);
    if (state?.truncateBefore === undefined) return { streamName: stream };
    return { streamName: stream, metadata: { truncateBefore: state.truncateBefore } };
  }

  subscribe(call: FakeCall, options: SubscribeToAllOptions): void {
    const subscription = new FakeSubscription(this, call, options);
    this.subscriptions.add(subscription);
    call.onCancel = () => this.subscriptions.delete(subscription);
    subscription.start();
  }

  forget(subscription: FakeSubscription): void {
    this.subscriptions.delete(subscription);
  }
}

/**
 * One filtered `$all` subscription, sending what the server's enumerator sends:
 *
 * - the start: from a position, 22.x–23.10 read the first record at or after it and start after that
 *   record (`_readIndex.ReadAllEventsForward(startPosition, 1)`, then its NextPos); 24.x start after
 *   the position itself (events at or before it are skipped by comparison);
 * - catch-up: pages of READ_BATCH_SIZE records; a checkpoint after every `checkpointInterval × window`
 *   records considered, at the last event of the page, or the page's start when it had none;
 * - the switch to live: 22.10 sends nothing; 22.6 and 23.6 send a checkpoint at the first event beyond the
 *   last indexed position, or at the end of the log (the position the next record will have), before
 *   that event; 23.10 sends CaughtUp; 24.x sends a checkpoint at the last event it sent, then CaughtUp;
 * - live: every appended event that passes the filter, and a checkpoint after every interval of
 *   records that do not, at the position of the record that completed it.
 */
class FakeSubscription {
  private readonly filter: Filter | undefined;
  private readonly interval: number;
  private live = false;
  private liveCounter = 0;
  /** 22.6 and 23.6: the position of the checkpoint sent on the switch to live. */
  private switchedAt: number | undefined;
  private ended = false;

  constructor(
    private readonly server: FakeEsdbServer,
    private readonly call: FakeCall,
    options: SubscribeToAllOptions,
  ) {
    this.filter = options.filter;
    this.interval = (this.filter?.checkpointInterval ?? 1) * (this.filter?.maxSearchWindow ?? READ_BATCH_SIZE);
    this.from = options.fromPosition;
  }

  private readonly from: SubscribeToAllOptions['fromPosition'];

  start(): void {
    const confirmation = new ReadResp.SubscriptionConfirmation();
    confirmation.setSubscriptionId(crypto.randomUUID());
    this.send(new ReadResp().setConfirmation(confirmation));
    const version = this.server.version;
    const end = this.server.nextPosition;
    if (this.from === END) {
      if (version === '22.6' || version === '23.6') this.switchedAt = end;
      if (this.switchedAt !== undefined) this.send(checkpointMessage(end));
      if (version === '23.10' || version === '24.10') this.send(new ReadResp().setCaughtUp(new ReadResp.CaughtUp()));
      this.live = true;
      return;
    }
    let startAfter: number;
    if (this.from === undefined || this.from === START) {
      startAfter = -1;
    } else {
      const at = Number(this.from.commit);
      if (version === '24.10') {
        startAfter = at;
      } else {
        const first = this.server.records.find((r) => r.position >= at);
        startAfter = first ? first.position : end;
      }
    }
    const history = this.server.records.filter((r) => r.position > startAfter);
    let lastSent = startAfter;
    let counter = 0;
    for (let page = 0; page < history.length; page += READ_BATCH_SIZE) {
      const records = history.slice(page, page + READ_BATCH_SIZE);
      let position = records[0]!.position;
      for (const record of records) {
        if (!this.passes(record)) continue;
        this.send(eventMessage(record, true));
        position = record.position;
        lastSent = record.position;
      }
      counter += records.length;
      const endOfStream = page + READ_BATCH_SIZE >= history.length;
      if (!endOfStream && counter >= this.interval) {
        counter %= this.interval;
        this.send(checkpointMessage(position));
      }
    }
    // Going live: nothing beyond the last indexed position is waiting here, so 23.6 reports the end
    // of the log, where the next record will be written.
    if (version === '22.6' || version === '23.6') {
      this.switchedAt = this.server.nextPosition;
      this.send(checkpointMessage(this.switchedAt));
    }
    if (version === '23.10') this.send(new ReadResp().setCaughtUp(new ReadResp.CaughtUp()));
    if (version === '24.10') {
      this.send(checkpointMessage(Math.max(lastSent, 0)));
      this.send(new ReadResp().setCaughtUp(new ReadResp.CaughtUp()));
    }
    this.live = true;
  }

  appeared(record: FakeRecord): void {
    if (!this.live || this.ended) return;
    if (this.passes(record)) {
      this.send(eventMessage(record, true));
      return;
    }
    this.liveCounter++;
    if (this.liveCounter >= this.interval) {
      this.liveCounter = 0;
      // 22.6 sends the switch-to-live position again in every live checkpoint (fixed in 22.10).
      this.send(checkpointMessage(this.server.version === '22.6' ? this.switchedAt! : record.position));
    }
  }

  fail(error: ServiceError): void {
    if (this.ended) return;
    this.ended = true;
    this.server.forget(this);
    this.call.destroy(error);
  }

  private passes(record: FakeRecord): boolean {
    const filter = this.filter;
    if (!filter) return true;
    const subject = filter.filterOn === 'streamName' ? record.stream : record.type;
    if ('prefixes' in filter) return filter.prefixes.some((prefix) => subject.startsWith(prefix));
    return new RegExp(filter.regex).test(subject);
  }

  private send(message: ReadRespMessage): void {
    if (!this.ended) this.call.push(message);
  }
}

/** The client end of a gRPC call: an object stream of ReadResp that the library pipes from. */
class FakeCall extends Readable {
  onCancel: (() => void) | undefined;

  constructor() {
    super({ objectMode: true, highWaterMark: 16 });
  }

  override _read(): void {}

  cancel(): void {
    this.onCancel?.();
    if (!this.destroyed) this.destroy(Object.assign(new Error('1 CANCELLED: Cancelled on client'), { code: 1, details: 'Cancelled on client', metadata: { getMap: () => ({}) } }));
  }
}

class FakeEsdbClient implements EsdbClient {
  constructor(private readonly server: FakeEsdbServer) {}

  async appendToStream(stream: string, events: EventData[], options: AppendToStreamOptions): Promise<AppendResult> {
    const fault = this.server.call('append');
    if (fault) throw convertToCommandError(fault as never);
    return this.server.append(stream, events, options.expectedRevision ?? 'any');
  }

  readStream(stream: string, options: ReadStreamOptions): StreamingRead<ResolvedEvent> {
    const fault = this.server.call('readStream');
    return this.read(fault ?? this.server.readStreamMessages(stream, options)) as StreamingRead<ResolvedEvent>;
  }

  readAll(options: ReadAllOptions): StreamingRead<AllStreamResolvedEvent> {
    const fault = this.server.call('readAll');
    return this.read(fault ?? this.server.readAllMessages(options)) as StreamingRead<AllStreamResolvedEvent>;
  }

  subscribeToAll(options: SubscribeToAllOptions): AllStreamSubscription {
    const fault = this.server.call('subscribe');
    const call = new FakeCall();
    if (fault) setImmediate(() => call.destroy(fault));
    else this.server.subscribe(call, options);
    return new Subscription(() => Promise.resolve(call as never), convertGrpcEvent, {}, options.filter?.checkpointReached) as unknown as AllStreamSubscription;
  }

  async getStreamMetadata(stream: string): Promise<GetStreamMetadataResult> {
    const fault = this.server.call('metadata');
    if (fault) throw convertToCommandError(fault as never);
    return this.server.metadata(stream);
  }

  async serverVersion(): Promise<string> {
    this.server.call('serverVersion');
    return REPORTED_VERSION[this.server.version];
  }

  async dispose(): Promise<void> {
    this.server.dropSubscriptions(serviceError(1, 'Cancelled on client'));
  }

  private read(answer: ReadRespMessage[] | ServiceError): ReadStream<unknown> {
    const call = new FakeCall();
    // Answered on a later turn, as the network does.
    setImmediate(() => {
      if (!Array.isArray(answer)) {
        call.destroy(answer);
        return;
      }
      for (const message of answer) call.push(message);
      call.push(null);
    });
    return new ReadStream(() => Promise.resolve(call as never), convertGrpcEvent, {});
  }
}

function eventMessage(record: FakeRecord, withPosition: boolean): ReadRespMessage {
  const recorded = new ReadResp.ReadEvent.RecordedEvent();
  const id = new sharedPb.UUID();
  id.setString(record.id);
  recorded.setId(id);
  const identifier = new sharedPb.StreamIdentifier();
  identifier.setStreamName(Buffer.from(record.stream));
  recorded.setStreamIdentifier(identifier);
  recorded.setStreamRevision(String(record.revision));
  recorded.setCommitPosition(withPosition ? String(record.position) : NO_POSITION);
  recorded.setPreparePosition(withPosition ? String(record.position) : NO_POSITION);
  recorded.getMetadataMap().set('type', record.type).set('content-type', 'application/json').set('created', String(record.created));
  recorded.setData(record.data);
  recorded.setCustomMetadata(record.metadata);
  const read = new ReadResp.ReadEvent();
  read.setEvent(recorded);
  read.setCommitPosition(String(record.position));
  return new ReadResp().setEvent(read);
}

function checkpointMessage(position: number): ReadRespMessage {
  const checkpoint = new ReadResp.Checkpoint();
  checkpoint.setCommitPosition(String(position));
  checkpoint.setPreparePosition(String(position));
  return new ReadResp().setCheckpoint(checkpoint);
}
