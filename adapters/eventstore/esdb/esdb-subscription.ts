import {
  BACKWARDS,
  END,
  START,
  type AllStreamRecordedEvent,
  type AllStreamResolvedEvent,
  type AllStreamSubscription,
  type Position,
} from '@eventstore/db-client';
import { SubscriptionDroppedError, type SubscribeOptions, type Subscription, type SubscriptionMessage } from '../port.js';
import type { EsdbClient } from './esdb-client.js';
import { isTransient, sleep } from './esdb-errors.js';
import { isSystemRecord, matchesFilter, serverFilter, toRecorded } from './esdb-mapping.js';

// The client stream is paused while this many messages wait for the consumer, so a slow consumer of a
// long catch-up pushes back on the server instead of filling memory.
const HIGH_WATER = 512;
const LOW_WATER = 128;

export interface EsdbSubscriptionSettings {
  /** Records per `$all` page of the catch-up. */
  readonly pageSize: number;
  readonly retryDelayMs: (attempt: number) => number;
  /** Consecutive failed attempts to resume before the subscription ends with a retriable error. */
  readonly resubscribeAttempts: number;
  /** Resolves once the server is known to be one the adapter supports. */
  readonly ready: () => Promise<void>;
}

/**
 * A catch-up subscription to `$all` that behaves the same on every supported server (22.6 to 24.10),
 * whose own subscriptions differ in ways that lose events:
 *
 * - Catching up is done here with `readAll`, skipping by position what is at or before the start.
 *   Before 24.x a subscription's exclusive start reads the first record at or after the position and
 *   skips it; when the position's record was filtered out or has since been scavenged, the next
 *   surviving event was skipped silently.
 * - Then it subscribes from the last record the catch-up actually read, which is there (it was just
 *   read, at the log's live end, which scavenging never touches), so the server's exclusive start
 *   skips exactly that record. `caught_up` is signalled here, when the catch-up reaches the end.
 * - A server checkpoint is held until the next message: 22.6/23.6 send one at the position of an
 *   event not yet sent (the first beyond the last indexed position, or the end of the log where the
 *   next event will land). The next event covers it; a later checkpoint releases it. So no
 *   checkpoint ever passes an event not yet delivered.
 * - A dropped subscription (the node restarted, the leader changed, or, before 24.x, "consumer too
 *   slow": the pause below can cause it) is resumed from the last position delivered, catching up
 *   with `readAll` again, with backoff; a consumer sees no gap and no repeat. Errors that another try
 *   will not mend end it with a SubscriptionDroppedError.
 *
 * The client emits the checkpoint callback as soon as the server's message is transformed, while events
 * transformed before it may still sit in the client stream's buffer. A checkpoint is therefore held
 * back until every event pushed before it has been received, so it is seen in the server's order.
 */
export class EsdbSubscription implements Subscription {
  private readonly queue: SubscriptionMessage[] = [];
  private readonly heldBack: Array<{ readonly afterEvents: number; readonly apply: () => void }> = [];
  private inner: AllStreamSubscription | undefined;
  private wake: (() => void) | undefined;
  private drained: (() => void) | undefined;
  private failure: { readonly error: unknown } | undefined;
  private iterated = false;
  private closed = false;
  private paused = false;
  private caughtUp = false;
  private receivedEvents = 0;
  /** Every record at or before it has been delivered or passed over: where a resumption starts after. */
  private position = 0;
  /** Highest position given to the consumer (event, checkpoint or caught-up): checkpoints only move forwards. */
  private reported = 0;
  /** A server checkpoint not yet known to be behind every event still to come. */
  private held: number | undefined;
  /** Ends the live phase: with the error that dropped it, or without one when the server ended the call. */
  private dropped: ((error: unknown) => void) | undefined;

  constructor(
    private readonly client: EsdbClient,
    private readonly options: SubscribeOptions,
    private readonly settings: EsdbSubscriptionSettings,
    private readonly onClose: (subscription: EsdbSubscription) => void,
  ) {}

  async *[Symbol.asyncIterator](): AsyncIterator<SubscriptionMessage> {
    if (this.iterated) throw new Error('a subscription can be iterated only once');
    this.iterated = true;
    void this.run();
    try {
      for (;;) {
        if (this.closed) return;
        const message = this.queue.shift();
        if (message) {
          this.resumeIfDrained();
          yield message;
          continue;
        }
        if (this.failure) throw this.failure.error;
        await new Promise<void>((resolve) => {
          this.wake = resolve;
        });
        this.wake = undefined;
      }
    } finally {
      await this.close();
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.notify();
    this.drained?.();
    this.dropped?.(undefined);
    this.onClose(this);
    // The error listener stays attached: a late error from the cancelled call must not go unhandled.
    await this.inner?.unsubscribe().catch(() => undefined);
  }

  /** Catch up, go live, and on a drop do both again from where the consumer got to. */
  private async run(): Promise<void> {
    // Consecutive failures without progress: a resumption that delivers anything starts the count anew.
    let failed = 0;
    let failedAt = -1;
    try {
      await this.settings.ready();
      const from = this.options.fromPosition ?? 'start';
      this.position = from === 'start' ? 0 : from === 'end' ? ((await this.lastRecordPosition()) ?? 0) : from;
      this.reported = this.position;
    } catch (error) {
      this.fail(error);
      return;
    }
    while (!this.closed) {
      try {
        const anchor = await this.catchUp();
        if (this.closed) return;
        if (!this.caughtUp) {
          this.caughtUp = true;
          this.push({ kind: 'caught_up', position: this.position });
          this.reported = this.position;
        }
        await this.live(anchor);
      } catch (error) {
        if (this.closed) return;
        failed = this.position > failedAt && failedAt !== -1 ? 1 : failed + 1;
        failedAt = this.position;
        const retriable = isTransient(error) || error instanceof ServerEndedError;
        if (!retriable || failed > this.settings.resubscribeAttempts) {
          this.fail(new SubscriptionDroppedError(retriable, error));
          return;
        }
        await sleep(this.settings.retryDelayMs(failed));
      }
    }
  }

  /**
   * Reads `$all` from the position to its end, delivering what passes the filter. Returns the position
   * of the last record read, to subscribe after; when the log holds nothing after the position, that
   * of its last record (START when it is empty).
   */
  private async catchUp(): Promise<number | undefined> {
    for (;;) {
      let lastRead: number | undefined;
      for (;;) {
        await this.roomInQueue();
        if (this.closed) return lastRead;
        const page = await this.readPage(this.position);
        let delivered = false;
        for (const record of page.records) {
          lastRead = Number(record.position.commit);
          if (lastRead <= this.position) continue;
          this.position = lastRead;
          if (isSystemRecord(record) || !matchesFilter(record, this.options.filter)) continue;
          this.push({ kind: 'event', event: toRecorded(record) });
          this.reported = this.position;
          delivered = true;
        }
        // A page the filter emptied still moves the consumer's checkpoint, to a record that is there.
        if (!delivered && this.caughtUp && this.position > this.reported) this.checkpoint(this.position);
        if (page.complete) break;
      }
      if (lastRead !== undefined) return lastRead;
      const last = await this.lastRecordPosition();
      // Nothing was appended since the catch-up looked: subscribe after the log's last record.
      if (last === undefined || last <= this.position) return last;
    }
  }

  private async readPage(fromPosition: number): Promise<{ records: AllStreamRecordedEvent[]; complete: boolean }> {
    const read = this.client.readAll({
      // Inclusive: the record at the position, if it is still there, is read again and skipped.
      fromPosition: fromPosition === 0 ? START : { commit: BigInt(fromPosition), prepare: BigInt(fromPosition) },
      maxCount: this.settings.pageSize,
      requiresLeader: true,
    });
    const records: AllStreamRecordedEvent[] = [];
    let received = 0;
    for await (const resolved of read) {
      received++;
      if (resolved.event) records.push(resolved.event);
    }
    return { records, complete: received < this.settings.pageSize };
  }

  /** The position of the log's last record of any kind; undefined when the log is empty. */
  private async lastRecordPosition(): Promise<number | undefined> {
    const read = this.client.readAll({ direction: BACKWARDS, fromPosition: END, maxCount: 1, requiresLeader: true });
    let last: number | undefined;
    for await (const resolved of read) if (resolved.event) last = Number(resolved.event.position.commit);
    return last;
  }

  /** Subscribes after `anchor` (a record that is there) and delivers until the subscription drops. */
  private async live(anchor: number | undefined): Promise<void> {
    this.held = undefined;
    this.heldBack.length = 0;
    this.receivedEvents = 0;
    const ended = new Promise<void>((resolve, reject) => {
      this.dropped = (error) => (error === undefined ? resolve() : reject(error));
    });
    const inner = this.client.subscribeToAll({
      fromPosition: anchor === undefined ? START : { commit: BigInt(anchor), prepare: BigInt(anchor) },
      filter: serverFilter(this.options.filter, (position) => this.onCheckpoint(position)),
      // A follower may lag the leader the catch-up read from.
      requiresLeader: true,
    });
    this.inner = inner;
    this.paused = false;
    inner.on('data', (resolved: AllStreamResolvedEvent) => {
      // An exception here would escape through the client stream's emit and take the process down.
      try {
        this.onEvent(resolved);
      } catch (error) {
        this.drop(inner, error);
      }
    });
    inner.on('error', (error: Error) => this.drop(inner, error));
    // The server ended the call without an error (a node shutting down): resume as after a drop.
    inner.on('end', () => this.drop(inner, new ServerEndedError()));
    inner.on('close', () => this.drop(inner, new ServerEndedError()));
    if (this.closed) await inner.unsubscribe().catch(() => undefined);
    try {
      await ended;
    } finally {
      this.dropped = undefined;
    }
  }

  private drop(inner: AllStreamSubscription, error: unknown): void {
    if (this.inner !== inner) return;
    this.inner = undefined;
    // The cancelled call may still report; its listeners stay, and are ignored from now on.
    void inner.unsubscribe().catch(() => undefined);
    this.dropped?.(this.closed ? undefined : error);
  }

  private onEvent(resolved: AllStreamResolvedEvent): void {
    this.receivedEvents++;
    if (this.closed) return;
    const record = resolved.event;
    if (record) {
      const position = Number(record.position.commit);
      if (position > this.position) {
        this.position = position;
        // The event is at or after a held checkpoint: it covers it.
        if (this.held !== undefined && this.held <= position) this.held = undefined;
        if (!isSystemRecord(record) && matchesFilter(record, this.options.filter)) {
          this.push({ kind: 'event', event: toRecorded(record) });
          this.reported = position;
        }
      }
    }
    while (this.heldBack.length > 0 && this.heldBack[0]!.afterEvents <= this.receivedEvents) {
      this.heldBack.shift()!.apply();
    }
  }

  /**
   * A server checkpoint: every record before it has been sent or filtered out, but (22.6, 23.6) the
   * event at it may still be on its way. It is passed on when the next checkpoint shows the
   * subscription went past it; an event at or after it makes it moot.
   */
  private onCheckpoint(position: Position): void {
    this.afterPendingEvents(() => {
      const at = Number(position.commit);
      if (at <= this.position) return;
      if (this.held !== undefined && this.held < at) {
        this.position = this.held;
        this.checkpoint(this.held);
      }
      if (this.held === undefined || this.held < at) this.held = at;
    });
  }

  private checkpoint(position: number): void {
    if (position <= this.reported) return;
    this.reported = position;
    this.push({ kind: 'checkpoint', position });
  }

  /** Runs `apply` once every event the client stream has pushed so far has reached `onEvent`. */
  private afterPendingEvents(apply: () => void): void {
    if (this.closed) return;
    const afterEvents = this.receivedEvents + (this.inner?.readableLength ?? 0);
    if (this.heldBack.length === 0 && afterEvents <= this.receivedEvents) apply();
    else this.heldBack.push({ afterEvents, apply });
  }

  private fail(error: unknown): void {
    this.failure ??= { error };
    this.notify();
  }

  private push(message: SubscriptionMessage): void {
    this.queue.push(message);
    this.notify();
    if (!this.paused && this.queue.length >= HIGH_WATER && this.inner) {
      this.paused = true;
      this.inner.pause();
    }
  }

  /** Resolves when the consumer has taken enough that another catch-up page may be read. */
  private roomInQueue(): Promise<void> {
    if (this.queue.length < HIGH_WATER || this.closed) return Promise.resolve();
    return new Promise((resolve) => {
      this.drained = resolve;
    });
  }

  private resumeIfDrained(): void {
    if (this.queue.length > LOW_WATER) return;
    if (this.drained) {
      const drained = this.drained;
      this.drained = undefined;
      drained();
    }
    if (this.paused && this.inner) {
      this.paused = false;
      this.inner.resume();
    }
  }

  private notify(): void {
    this.wake?.();
  }
}

/** The server ended a subscription call without saying why: resumed like any dropped subscription. */
class ServerEndedError extends Error {
  constructor() {
    super('EventStoreDB ended the subscription');
    this.name = 'ServerEndedError';
  }
}
