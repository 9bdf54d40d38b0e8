import {
  START,
  type AllStreamResolvedEvent,
  type AllStreamSubscription,
  type Position,
} from '@eventstore/db-client';
import type { SubscribeOptions, Subscription, SubscriptionMessage } from '../port.js';
import type { EsdbClient } from './esdb-client.js';
import { isSystemRecord, matchesFilter, serverFilter, toRecorded } from './esdb-mapping.js';

// The client stream is paused while this many messages wait for the consumer, so a slow consumer of a
// long catch-up pushes back on the server instead of filling memory.
const HIGH_WATER = 512;
const LOW_WATER = 128;

/**
 * A catch-up subscription over `subscribeToAll` with the filter applied by the server.
 *
 * Caught-up: servers from 23.10 send a caught-up signal; older ones do not, so the subscription also
 * counts itself caught up once it has passed the head position read before subscribing (an event or a
 * server checkpoint at or beyond it), or at once when it starts at or after that head.
 *
 * The client emits the caught-up signal and calls the checkpoint callback as soon as the server's message
 * is transformed, while events transformed before it may still sit in the client stream's buffer. Such a
 * signal is therefore held back until every event pushed before it has been received, so the consumer sees
 * them in the server's order.
 */
export class EsdbSubscription implements Subscription {
  private readonly queue: SubscriptionMessage[] = [];
  private readonly heldBack: Array<{ readonly afterEvents: number; readonly apply: () => void }> = [];
  private inner: AllStreamSubscription | undefined;
  private wake: (() => void) | undefined;
  private failure: { readonly error: unknown } | undefined;
  private iterated = false;
  private ended = false;
  private closed = false;
  private paused = false;
  private caughtUp = false;
  private receivedEvents = 0;
  private head = 0;
  /** Position of the last event the server sent, delivered or filtered out here: nothing at or before it is delivered again. */
  private lastSeen = 0;
  /** Highest position the consumer has been given (event, checkpoint or caught-up): checkpoints only move forwards. */
  private reported = 0;

  constructor(
    private readonly client: EsdbClient,
    private readonly options: SubscribeOptions,
    private readonly headPosition: () => Promise<number>,
    private readonly onClose: (subscription: EsdbSubscription) => void,
  ) {}

  async *[Symbol.asyncIterator](): AsyncIterator<SubscriptionMessage> {
    if (this.iterated) throw new Error('a subscription can be iterated only once');
    this.iterated = true;
    try {
      await this.start();
      for (;;) {
        if (this.closed) return;
        const message = this.queue.shift();
        if (message) {
          this.resumeIfDrained();
          yield message;
          continue;
        }
        if (this.failure) throw this.failure.error;
        if (this.ended) return;
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
    this.onClose(this);
    // The error listener stays attached: a late error from the cancelled call must not go unhandled.
    await this.inner?.unsubscribe().catch(() => undefined);
  }

  private async start(): Promise<void> {
    // Read before subscribing, so that a caught-up signal from the server covers everything up to it.
    const head = await this.headPosition();
    if (this.closed) return;
    const from = this.options.fromPosition ?? 'start';
    const start = from === 'start' ? 0 : from === 'end' ? head : from;
    this.head = head;
    this.lastSeen = start;
    this.reported = start;
    const inner = this.client.subscribeToAll({
      // The server starts after the given position (exclusive), like the port.
      fromPosition: start === 0 ? START : { commit: BigInt(start), prepare: BigInt(start) },
      filter: serverFilter(this.options.filter, (position) => this.onCheckpoint(position)),
      // A follower may lag the leader the head was read from; its caught-up would not cover that head.
      requiresLeader: true,
    });
    this.inner = inner;
    inner.on('data', (resolved: AllStreamResolvedEvent) => {
      // An exception here would escape through the client stream's emit and take the process down.
      try {
        this.onEvent(resolved);
      } catch (error) {
        this.fail(error);
      }
    });
    inner.on('caughtUp', () => this.afterPendingEvents(() => this.markCaughtUp(Math.max(this.head, this.lastSeen))));
    inner.on('error', (error: Error) => this.fail(error));
    inner.on('end', () => this.markEnded());
    inner.on('close', () => this.markEnded());
    if (start >= head) this.markCaughtUp(start);
  }

  private onEvent(resolved: AllStreamResolvedEvent): void {
    this.receivedEvents++;
    // After a failure nothing more is delivered: what follows would leave a gap behind the failed event.
    if (this.failure || this.closed) return;
    const record = resolved.event;
    if (record) {
      const position = Number(record.position.commit);
      if (position > this.lastSeen) {
        // The server filter may have skipped the head itself: passing it is enough.
        if (!this.caughtUp && position > this.head) this.markCaughtUp(this.head);
        this.lastSeen = position;
        if (!isSystemRecord(record) && matchesFilter(record, this.options.filter)) {
          this.reported = position;
          this.push({ kind: 'event', event: toRecorded(record) });
        }
        if (!this.caughtUp && position === this.head) this.markCaughtUp(this.head);
      }
    }
    while (this.heldBack.length > 0 && this.heldBack[0]!.afterEvents <= this.receivedEvents) {
      this.heldBack.shift()!.apply();
    }
  }

  /**
   * A server checkpoint: every event at or before it has been sent or was filtered out by the server
   * (its catch-up reports the start of a page it has fully considered), so it is safe to resume after it.
   */
  private onCheckpoint(position: Position): void {
    this.afterPendingEvents(() => {
      const at = Number(position.commit);
      if (!this.caughtUp && at >= this.head) {
        this.markCaughtUp(at);
        return;
      }
      if (at <= this.reported) return;
      this.reported = at;
      this.push({ kind: 'checkpoint', position: at });
    });
  }

  /** Runs `apply` once every event the client stream has pushed so far has reached `onEvent`. */
  private afterPendingEvents(apply: () => void): void {
    if (this.closed) return;
    const afterEvents = this.receivedEvents + (this.inner?.readableLength ?? 0);
    if (this.heldBack.length === 0 && afterEvents <= this.receivedEvents) apply();
    else this.heldBack.push({ afterEvents, apply });
  }

  private markCaughtUp(position: number): void {
    if (this.caughtUp) return;
    this.caughtUp = true;
    this.reported = Math.max(this.reported, position);
    this.push({ kind: 'caught_up', position });
  }

  private fail(error: unknown): void {
    this.failure ??= { error };
    this.notify();
  }

  private markEnded(): void {
    this.ended = true;
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

  private resumeIfDrained(): void {
    if (this.paused && this.queue.length <= LOW_WATER && this.inner) {
      this.paused = false;
      this.inner.resume();
    }
  }

  private notify(): void {
    this.wake?.();
  }
}
