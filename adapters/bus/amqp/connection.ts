// The bus's connection to the broker, kept up. After a lost connection (broker restart, network) it
// reconnects with backoff and readies the new connection (the bus redeclares its queues and
// re-establishes its consumers); an operation caught by the loss is run again on the new connection
// until `publishTimeoutMs` runs out, when it rejects with BusUnavailableError.
import { connect, type ChannelModel, type ConfirmChannel } from 'amqplib';
import { BusClosedError, BusError } from '../validation.js';
import { BusUnavailableError, ConnectionLostError, errorText, isConnectionLoss } from './errors.js';
import type { ReportEvent } from './events.js';
import type { AmqpBusOptions } from './options.js';
import { coalesceWrites, redact, withHeartbeat } from './socket.js';
import { backoffDelay, sleep } from './timing.js';

/** One AMQP connection, and the confirm channel every publish on it shares (see publisher.ts). */
export interface Link {
  readonly model: ChannelModel;
  lost: boolean;
  publish: ConfirmChannel | null;
  publishOpening: Promise<ConfirmChannel> | null;
}

export interface LinkHooks {
  /** Readies a new connection before anything uses it; when it throws, the connection is dropped. */
  readonly prepare: (link: Link) => Promise<void>;
  /** A new connection is in use. */
  readonly established: () => void;
}

export class Connection {
  private currentLink: Link | null = null;
  private reconnecting = false;
  private isClosed = false;
  private lastError: unknown = null;
  private readonly linkWaiters = new Set<() => void>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly publishTimeoutMs: number;
  private readonly initialDelayMs: number;
  private readonly maxDelayMs: number;
  private readonly heartbeatSeconds: number;

  constructor(
    private readonly url: string,
    options: AmqpBusOptions,
    private readonly report: ReportEvent,
    private readonly hooks: LinkHooks,
  ) {
    this.publishTimeoutMs = options.publishTimeoutMs ?? 30_000;
    this.initialDelayMs = options.reconnectDelayMs?.initial ?? 100;
    this.maxDelayMs = options.reconnectDelayMs?.max ?? 5_000;
    this.heartbeatSeconds = options.heartbeatSeconds ?? 10;
  }

  /** The connection in use; null while it is lost. */
  get link(): Link | null {
    return this.currentLink;
  }

  get closed(): boolean {
    return this.isClosed;
  }

  /** Connects, retrying with backoff for up to timeoutMs. */
  async open(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (let attempt = 0; ; attempt++) {
      try {
        await this.openLink();
        return;
      } catch (error) {
        const delay = this.backoff(attempt);
        if (Date.now() + delay > deadline) {
          throw new BusUnavailableError(`cannot connect to the broker at ${redact(this.url)}: ${errorText(error)}`);
        }
        await sleep(delay);
      }
    }
  }

  /**
   * Runs an idempotent broker operation, waiting out a lost connection and trying again on a new one,
   * until publishTimeoutMs. Errors that are answers (unknown queue, conflict, nack) end it at once.
   */
  async withRetry(what: string, operation: (link: Link) => Promise<void>): Promise<void> {
    const deadline = Date.now() + this.publishTimeoutMs;
    for (;;) {
      if (this.closed) throw new BusClosedError();
      const link = this.link ?? (await this.waitForLink(deadline, what));
      try {
        await operation(link);
        return;
      } catch (error) {
        if (error instanceof BusError) throw error;
        if (this.closed) throw new BusClosedError();
        // The connection is still up, so this was no outage: a broker-side failure, say, or a bug.
        if (this.link === link && !isConnectionLoss(error)) throw error;
        this.lastError = error;
        if (Date.now() >= deadline) throw this.unavailable(what);
        if (this.link === link) await sleep(Math.min(100, Math.max(0, deadline - Date.now())));
      }
    }
  }

  /** The reconnect backoff for the given attempt (from 0). */
  backoff(attempt: number): number {
    return backoffDelay(attempt, this.initialDelayMs, this.maxDelayMs);
  }

  /** A timer that closing the connection clears. */
  schedule(action: () => void, ms: number): NodeJS.Timeout {
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      action();
    }, ms);
    this.timers.add(timer);
    return timer;
  }

  unschedule(timer: NodeJS.Timeout): void {
    clearTimeout(timer);
    this.timers.delete(timer);
  }

  /** The first step of closing: no new operation starts, waits and timers end; the connection stays up. */
  markClosed(): void {
    this.isClosed = true;
    for (const wake of this.linkWaiters) wake();
    this.linkWaiters.clear();
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
  }

  /** The last step of closing: drops the connection. */
  async disconnect(): Promise<void> {
    const link = this.currentLink;
    this.currentLink = null;
    if (link) await link.model.close().catch(() => undefined);
  }

  private async openLink(): Promise<Link> {
    // Nagle would hold small frames (acks, confirms) back for a delayed ACK: latency the round trips pay twice.
    const model = await connect(withHeartbeat(this.url, this.heartbeatSeconds), { noDelay: true });
    coalesceWrites(model);
    const link: Link = { model, lost: false, publish: null, publishOpening: null };
    // amqplib emits 'error' before 'close' for a connection closed by an error; without a listener
    // the EventEmitter would throw it and take the process down.
    model.on('error', (error: unknown) => {
      this.lastError = error;
    });
    model.on('close', (error?: unknown) => {
      link.lost = true;
      this.linkLost(link, error ?? this.lastError);
    });
    try {
      await this.hooks.prepare(link);
    } catch (error) {
      await model.close().catch(() => undefined);
      throw error;
    }
    if (this.closed) {
      await model.close().catch(() => undefined);
      throw new BusClosedError();
    }
    if (link.lost) throw new ConnectionLostError(this.lastError);
    this.currentLink = link;
    this.lastError = null;
    for (const wake of this.linkWaiters) wake();
    this.linkWaiters.clear();
    this.hooks.established();
    return link;
  }

  private linkLost(link: Link, error: unknown): void {
    if (this.currentLink !== link) return;
    this.currentLink = null;
    if (this.closed) return;
    this.report({ type: 'disconnected', error });
    void this.reconnect();
  }

  private async reconnect(): Promise<void> {
    if (this.reconnecting) return;
    this.reconnecting = true;
    const since = Date.now();
    try {
      for (let attempt = 1; !this.closed; attempt++) {
        const delay = this.backoff(attempt - 1);
        await this.delay(delay);
        if (this.closed) return;
        try {
          await this.openLink();
          this.report({ type: 'reconnected', attempts: attempt, downForMs: Date.now() - since });
          return;
        } catch (error) {
          this.lastError = error;
          if (!this.closed) this.report({ type: 'reconnect-failed', attempt, error, retryInMs: this.backoff(attempt) });
        }
      }
    } finally {
      this.reconnecting = false;
    }
  }

  private async waitForLink(deadline: number, what: string): Promise<Link> {
    while (!this.link) {
      if (this.closed) throw new BusClosedError();
      const remaining = deadline - Date.now();
      if (remaining <= 0) throw this.unavailable(what);
      await new Promise<void>((resolve) => {
        const done = (): void => {
          clearTimeout(timer);
          this.linkWaiters.delete(done);
          resolve();
        };
        const timer = setTimeout(done, remaining);
        this.linkWaiters.add(done);
      });
    }
    return this.link;
  }

  private unavailable(what: string): BusUnavailableError {
    const cause = this.lastError === null ? '' : `: ${errorText(this.lastError)}`;
    return new BusUnavailableError(
      `could not ${what} within ${this.publishTimeoutMs} ms: no usable connection to the broker at ${redact(this.url)}${cause}`,
    );
  }

  /** A sleep that closing cuts short. */
  private delay(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.timers.delete(timer);
        this.linkWaiters.delete(resolve);
        resolve();
      }, ms);
      this.timers.add(timer);
      this.linkWaiters.add(resolve);
    });
  }
}
