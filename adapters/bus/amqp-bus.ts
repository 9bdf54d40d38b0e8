// The RabbitMQ bus (AMQP 0-9-1 through amqplib). It keeps the in-memory bus's semantics, which the
// shared conformance suite pins, on a broker that survives our process:
//
// - every queue is a durable quorum queue; its `x-delivery-limit` is deliveryLimit - 1 because
//   RabbitMQ counts *returns* (a message is dead-lettered when its count of returns exceeds the
//   limit), while the port counts deliveries; a delivery's deliveryCount is the queue's
//   `x-delivery-count` header (returns so far) plus one;
// - dead-lettering goes through the default exchange to `<queue>.dead`, itself a durable quorum queue
//   with no limit, using at-least-once dead-lettering so a message is not dropped between the two;
// - every publish goes through a confirm channel with `mandatory`, so it resolves only once the broker
//   holds the message and rejects when no queue of that name exists (basic.return) or on a nack;
// - each consumer has its own channel, so its prefetch is its own and cancelling it (closing the
//   channel) hands its unacked deliveries back to the queue;
// - after a lost connection (broker restart, network) the bus reconnects with backoff, redeclares its
//   queues, re-establishes its consumers, and publishes caught in flight are sent again with the same
//   message id until `publishTimeoutMs` runs out, when they reject with BusUnavailableError. A
//   publish is never reported as done without a confirm; a resend after an unconfirmed first attempt
//   may deliver twice, which consumers absorb by deduplicating on the message id.
import { IllegalOperationError, connect, type Channel, type ChannelModel, type ConfirmChannel, type ConsumeMessage, type Message } from 'amqplib';
import type { JsonValue } from '../eventstore/port.js';
import {
  BusClosedError,
  BusError,
  DEATH_REASON_HEADER,
  QueueConflictError,
  UnknownQueueError,
  assertQueueName,
  checkConsume,
  resolveQueueOptions,
  serialiseBusMessage,
  type SerialisedBusMessage,
} from './validation.js';
import {
  deadLetterQueue,
  type Bus,
  type BusMessage,
  type ConsumeOptions,
  type Consumer,
  type Delivery,
  type QueueOptions,
} from './port.js';

export class BusUnavailableError extends BusError {
  readonly code = 'BUS_UNAVAILABLE';
  constructor(message: string) {
    super(message);
    this.name = 'BusUnavailableError';
  }
}

/** The broker refused to take a message (basic.nack): it is not stored, and the caller decides whether to retry. */
export class PublishNackedError extends BusError {
  readonly code = 'PUBLISH_NACKED';
  constructor(readonly queue: string, readonly messageId: string) {
    super(`the broker refused message ${JSON.stringify(messageId)} for queue ${JSON.stringify(queue)} (nack)`);
    this.name = 'PublishNackedError';
  }
}

export type AmqpBusEvent =
  | { readonly type: 'disconnected'; readonly error: unknown }
  | { readonly type: 'reconnect-failed'; readonly attempt: number; readonly error: unknown; readonly retryInMs: number }
  | { readonly type: 'reconnected'; readonly attempts: number; readonly downForMs: number }
  | { readonly type: 'consumer-failed'; readonly queue: string; readonly error: unknown; readonly retryInMs: number }
  | { readonly type: 'redeclare-failed'; readonly queue: string; readonly error: unknown }
  | { readonly type: 'undecodable-message'; readonly queue: string; readonly error: unknown };

export interface AmqpBusOptions {
  /** Sees every error a handler throws (the delivery is then nacked with requeue); for logging. */
  readonly onHandlerError?: (error: unknown, delivery: Delivery) => void;
  /** Connection loss, reconnection and consumer trouble; defaults to console.warn. */
  readonly onEvent?: (event: AmqpBusEvent) => void;
  /** How long connect() keeps trying before it gives up. Default 15 s. */
  readonly connectTimeoutMs?: number;
  /** How long a publish or declareQueue waits for a (re)connection and retries before it rejects. Default 30 s. */
  readonly publishTimeoutMs?: number;
  /** Reconnect backoff: doubles from the first delay up to the maximum, with ±20 % jitter. Defaults 100 ms and 5 s. */
  readonly reconnectDelayMs?: { readonly initial?: number; readonly max?: number };
  /** AMQP heartbeat, which is what notices a broker that vanished without closing the socket. Default 10 s. */
  readonly heartbeatSeconds?: number;
}

/** A closing bus waits this long for confirms of publishes already sent before it drops the connection. */
const CLOSE_GRACE_MS = 5_000;

interface Link {
  readonly model: ChannelModel;
  lost: boolean;
  publish: ConfirmChannel | null;
  publishOpening: Promise<ConfirmChannel> | null;
}

interface ConsumerState {
  readonly queue: string;
  readonly handler: (delivery: Delivery) => Promise<void>;
  readonly prefetch: number;
  channel: Channel | null;
  /** Deliveries of the current channel not yet acked on the wire, in delivery order. */
  unsettled: PendingAcks | null;
  establishing: boolean;
  failures: number;
  retryTimer: NodeJS.Timeout | null;
  active: boolean;
}

type Outcome = 'ack' | 'requeue' | 'reject';

interface UnsettledDelivery {
  readonly raw: ConsumeMessage;
  acked: boolean;
}

/**
 * Acks wait for the end of the tick and go out together: a run of acked deliveries from the oldest
 * unsettled one is one `basic.ack` with `multiple`, and only what an unfinished delivery separates
 * from that run is acked on its own. Each ack is a command in the quorum queue's log, so fewer of
 * them is broker work saved (raw amqplib consumers go ~25-50 % faster so on this machine).
 */
interface PendingAcks {
  readonly channel: Channel;
  deliveries: UnsettledDelivery[];
  flushScheduled: boolean;
}

export class AmqpBus implements Bus {
  private link: Link | null = null;
  private reconnecting = false;
  private closed = false;
  private publishSequence = 0;
  private lastError: unknown = null;
  private readonly returned = new Set<string>();
  private readonly declared = new Map<string, number>();
  private readonly consumers = new Set<ConsumerState>();
  private readonly inFlight = new Set<Promise<unknown>>();
  private readonly linkWaiters = new Set<() => void>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly publishTimeoutMs: number;
  private readonly initialDelayMs: number;
  private readonly maxDelayMs: number;

  private constructor(
    private readonly url: string,
    private readonly options: AmqpBusOptions,
  ) {
    this.publishTimeoutMs = options.publishTimeoutMs ?? 30_000;
    this.initialDelayMs = options.reconnectDelayMs?.initial ?? 100;
    this.maxDelayMs = options.reconnectDelayMs?.max ?? 5_000;
  }

  /** Connects (retrying with backoff for up to connectTimeoutMs) and returns the bus. */
  static async connect(url: string, options: AmqpBusOptions = {}): Promise<AmqpBus> {
    const bus = new AmqpBus(url, options);
    const deadline = Date.now() + (options.connectTimeoutMs ?? 15_000);
    for (let attempt = 0; ; attempt++) {
      try {
        await bus.openLink();
        return bus;
      } catch (error) {
        const delay = bus.backoff(attempt);
        if (Date.now() + delay > deadline) {
          throw new BusUnavailableError(`cannot connect to the broker at ${redact(url)}: ${errorText(error)}`);
        }
        await sleep(delay);
      }
    }
  }

  async declareQueue(queue: string, options?: QueueOptions): Promise<void> {
    this.assertOpen();
    assertQueueName(queue);
    const { deliveryLimit } = resolveQueueOptions(options);
    await this.withRetry(`declare queue ${JSON.stringify(queue)}`, (link) => this.declareOn(link, queue, deliveryLimit));
    this.declared.set(queue, deliveryLimit);
  }

  async publish(queue: string, message: BusMessage): Promise<void> {
    this.assertOpen();
    assertQueueName(queue);
    const serialised = serialiseBusMessage(message);
    const content = Buffer.from(serialised.body, 'utf8');
    const attempt = this.withRetry(`publish ${JSON.stringify(serialised.id)} to ${JSON.stringify(queue)}`, async (link) => {
      const channel = await this.publishChannel(link);
      await this.publishOnce(channel, queue, serialised, content);
    });
    this.inFlight.add(attempt);
    try {
      await attempt;
    } finally {
      this.inFlight.delete(attempt);
    }
  }

  async consume(
    queue: string,
    handler: (delivery: Delivery) => Promise<void>,
    options?: ConsumeOptions,
  ): Promise<Consumer> {
    this.assertOpen();
    const { prefetch } = checkConsume(queue, handler, options);
    const consumer: ConsumerState = {
      queue,
      handler,
      prefetch,
      channel: null,
      unsettled: null,
      establishing: false,
      failures: 0,
      retryTimer: null,
      active: true,
    };
    // The first subscription is made here so that an unknown queue rejects consume() itself; after
    // that the bus keeps the consumer alive across channel and connection losses on its own.
    await this.withRetry(`consume from ${JSON.stringify(queue)}`, async (link) => {
      if (consumer.channel) return;
      consumer.establishing = true;
      try {
        await this.subscribe(link, consumer);
      } finally {
        consumer.establishing = false;
      }
    });
    this.consumers.add(consumer);
    // Lost again between subscribing and joining the set: the reconnect may have missed it.
    if (!consumer.channel) this.ensureConsumer(consumer);
    return { cancel: () => this.cancel(consumer) };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const wake of this.linkWaiters) wake();
    this.linkWaiters.clear();
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    await Promise.all([...this.consumers].map((consumer) => this.cancel(consumer)));
    // Publishes already on the wire get their confirm (or their rejection) before the socket goes.
    if (this.inFlight.size > 0) {
      await Promise.race([Promise.allSettled([...this.inFlight]), sleep(CLOSE_GRACE_MS)]);
    }
    const link = this.link;
    this.link = null;
    if (link) await link.model.close().catch(() => undefined);
  }

  // ---- connection -------------------------------------------------------------------------------

  private async openLink(): Promise<Link> {
    // Nagle would hold small frames (acks, confirms) back for a delayed ACK: latency the round trips pay twice.
    const model = await connect(withHeartbeat(this.url, this.options.heartbeatSeconds ?? 10), { noDelay: true });
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
      // The queues are durable, so this only matters against a broker that lost its data; there a
      // queue another process redeclared differently must not keep the whole bus offline.
      for (const [queue, deliveryLimit] of this.declared) {
        await this.declareOn(link, queue, deliveryLimit).catch((error: unknown) => {
          if (!(error instanceof QueueConflictError)) throw error;
          this.emit({ type: 'redeclare-failed', queue, error });
        });
      }
      await this.publishChannel(link);
    } catch (error) {
      await model.close().catch(() => undefined);
      throw error;
    }
    if (this.closed) {
      await model.close().catch(() => undefined);
      throw new BusClosedError();
    }
    if (link.lost) throw new ConnectionLostError(this.lastError);
    this.link = link;
    this.lastError = null;
    for (const wake of this.linkWaiters) wake();
    this.linkWaiters.clear();
    for (const consumer of this.consumers) this.ensureConsumer(consumer);
    return link;
  }

  private linkLost(link: Link, error: unknown): void {
    if (this.link !== link) return;
    this.link = null;
    if (this.closed) return;
    this.emit({ type: 'disconnected', error });
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
          this.emit({ type: 'reconnected', attempts: attempt, downForMs: Date.now() - since });
          return;
        } catch (error) {
          this.lastError = error;
          if (!this.closed) this.emit({ type: 'reconnect-failed', attempt, error, retryInMs: this.backoff(attempt) });
        }
      }
    } finally {
      this.reconnecting = false;
    }
  }

  /**
   * Runs an idempotent broker operation, waiting out a lost connection and trying again on a new one,
   * until publishTimeoutMs. Errors that are answers (unknown queue, conflict, nack) end it at once.
   */
  private async withRetry(what: string, operation: (link: Link) => Promise<void>): Promise<void> {
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

  // ---- queues -----------------------------------------------------------------------------------

  private async declareOn(link: Link, queue: string, deliveryLimit: number): Promise<void> {
    const dead = deadLetterQueue(queue);
    // A channel of its own: a refused declaration (PRECONDITION_FAILED) closes the channel it ran on.
    const channel = await link.model.createChannel();
    channel.on('error', () => undefined);
    try {
      // The dead-letter queue first: if its name is taken by an incompatible queue, nothing is created.
      await declareOrExplain(channel, dead, queue, { 'x-queue-type': 'quorum' });
      await declareOrExplain(channel, queue, queue, {
        'x-queue-type': 'quorum',
        'x-delivery-limit': deliveryLimit - 1,
        'x-dead-letter-exchange': '',
        'x-dead-letter-routing-key': dead,
        // At-most-once (RabbitMQ's default) could drop a message whose dead-lettering is interrupted;
        // at-least-once needs reject-publish overflow, which only matters with a length limit (none).
        'x-dead-letter-strategy': 'at-least-once',
        'x-overflow': 'reject-publish',
      });
    } finally {
      await channel.close().catch(() => undefined);
    }
  }

  // ---- publishing -------------------------------------------------------------------------------

  private async publishChannel(link: Link): Promise<ConfirmChannel> {
    if (link.publish) return link.publish;
    if (!link.publishOpening) {
      link.publishOpening = (async () => {
        const channel = await link.model.createConfirmChannel();
        channel.on('error', () => undefined);
        channel.on('return', (message: Message) => {
          const token: unknown = message.properties.correlationId;
          if (typeof token === 'string') this.returned.add(token);
        });
        channel.on('close', () => {
          if (link.publish === channel) link.publish = null;
        });
        link.publish = channel;
        return channel;
      })().finally(() => {
        link.publishOpening = null;
      });
    }
    return link.publishOpening;
  }

  private publishOnce(channel: ConfirmChannel, queue: string, message: SerialisedBusMessage, content: Buffer): Promise<void> {
    const token = String(++this.publishSequence);
    return new Promise<void>((resolve, reject) => {
      // RabbitMQ sends the basic.return of an unroutable mandatory message before its basic.ack, so
      // by the time this runs the return, if any, has been recorded under the token.
      const settle = (error: unknown): void => {
        const wasReturned = this.returned.delete(token);
        if (error === null || error === undefined) {
          if (wasReturned) reject(new UnknownQueueError(queue));
          else resolve();
        } else if (error instanceof Error && error.message === 'message nacked') {
          reject(new PublishNackedError(queue, message.id));
        } else {
          reject(new ConnectionLostError(error));
        }
      };
      try {
        channel.publish(
          '',
          queue,
          content,
          {
            mandatory: true,
            persistent: true,
            messageId: message.id,
            type: message.type,
            contentType: 'application/json',
            // Names the attempt a basic.return belongs to. Message ids cannot: the same message can
            // be in flight twice (a resend), and a broker ack may cover several publishes at once.
            // The bus has no other use for correlation-id, and a basic property costs less to
            // write and read than a header table.
            correlationId: token,
            headers: Object.keys(message.headers).length > 0 ? message.headers : undefined,
          },
          settle,
        );
      } catch (error) {
        this.returned.delete(token);
        // amqplib throws this synchronously on a channel that has just closed; anything else (an
        // oversized header table, say) would fail again on a new channel.
        reject(error instanceof IllegalOperationError ? new ConnectionLostError(error) : error);
      }
    });
  }

  // ---- consuming --------------------------------------------------------------------------------

  private async subscribe(link: Link, consumer: ConsumerState): Promise<void> {
    const channel = await link.model.createChannel();
    channel.on('error', () => undefined);
    channel.on('close', () => this.consumerChannelClosed(consumer, channel, link));
    try {
      await channel.prefetch(consumer.prefetch, false);
      // Set before basic.consume: the first deliveries can be handled, and acked, before the
      // consume call below has resumed, and an ack only goes out on the consumer's current channel.
      consumer.channel = channel;
      consumer.unsettled = { channel, deliveries: [], flushScheduled: false };
      await channel.consume(
        consumer.queue,
        (message: ConsumeMessage | null) => {
          // null: the broker cancelled the subscription (queue deleted, say). Closing the channel
          // returns what it holds; the close handler subscribes again after a pause.
          if (message === null) void channel.close().catch(() => undefined);
          else this.deliver(consumer, channel, message);
        },
        { noAck: false },
      );
    } catch (error) {
      if (consumer.channel === channel) consumer.channel = null;
      await channel.close().catch(() => undefined);
      if (amqpReplyCode(error) === 404) throw new UnknownQueueError(consumer.queue);
      throw error;
    }
    if (!consumer.active || this.closed) {
      if (consumer.channel === channel) consumer.channel = null;
      await channel.close().catch(() => undefined);
      return;
    }
    consumer.failures = 0;
  }

  private consumerChannelClosed(consumer: ConsumerState, channel: Channel, link: Link): void {
    if (consumer.channel !== channel) return;
    consumer.channel = null;
    // While subscribing, whoever is subscribing sees the failure and decides. A lost connection is handled by the reconnect, which re-subscribes every consumer; a channel
    // lost on a live connection is re-subscribed here.
    if (this.link === link && !consumer.establishing) this.scheduleConsumerRetry(consumer, null);
  }

  private ensureConsumer(consumer: ConsumerState): void {
    const link = this.link;
    if (!consumer.active || this.closed || !link || consumer.channel || consumer.establishing) return;
    consumer.establishing = true;
    this.subscribe(link, consumer)
      .catch((error: unknown) => this.scheduleConsumerRetry(consumer, error))
      .finally(() => {
        consumer.establishing = false;
      });
  }

  private scheduleConsumerRetry(consumer: ConsumerState, error: unknown): void {
    if (!consumer.active || this.closed || consumer.retryTimer) return;
    const retryInMs = this.backoff(consumer.failures++);
    if (error !== null) this.emit({ type: 'consumer-failed', queue: consumer.queue, error, retryInMs });
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      consumer.retryTimer = null;
      this.ensureConsumer(consumer);
    }, retryInMs);
    consumer.retryTimer = timer;
    this.timers.add(timer);
  }

  private async cancel(consumer: ConsumerState): Promise<void> {
    if (!consumer.active) return;
    consumer.active = false;
    this.consumers.delete(consumer);
    if (consumer.retryTimer) {
      clearTimeout(consumer.retryTimer);
      this.timers.delete(consumer.retryTimer);
      consumer.retryTimer = null;
    }
    if (consumer.unsettled) this.flushAcks(consumer, consumer.unsettled);
    const channel = consumer.channel;
    consumer.channel = null;
    // basic.cancel alone would leave the unacked deliveries with this consumer; closing the channel
    // returns them to the queue, as the port promises.
    if (channel) await channel.close().catch(() => undefined);
  }

  private deliver(consumer: ConsumerState, channel: Channel, raw: ConsumeMessage): void {
    // Frames already received when cancel() began closing the channel: the close returns them.
    if (this.closed || !consumer.active || consumer.channel !== channel) return;
    let message: BusMessage;
    try {
      message = decodeMessage(raw);
    } catch (error) {
      // Not ours (someone published to the queue by hand): it can never be handled, so dead-letter it.
      this.emit({ type: 'undecodable-message', queue: consumer.queue, error });
      this.settle(consumer, channel, { raw, acked: false }, 'reject');
      return;
    }
    const unsettled: UnsettledDelivery = { raw, acked: false };
    consumer.unsettled?.deliveries.push(unsettled);
    let settled = false;
    const settleOnce = (outcome: Outcome): void => {
      if (settled) return;
      settled = true;
      this.settle(consumer, channel, unsettled, outcome);
    };
    const delivery: Delivery = {
      message,
      queue: consumer.queue,
      deliveryCount: deliveryCountOf(raw),
      ack: async () => settleOnce('ack'),
      nack: async (options) => settleOnce(options?.requeue === false ? 'reject' : 'requeue'),
    };
    // Through a promise so a handler that throws synchronously is treated like one that rejects.
    Promise.resolve()
      .then(() => consumer.handler(delivery))
      .catch((error: unknown) => {
        settleOnce('requeue');
        try {
          this.options.onHandlerError?.(error, delivery);
        } catch {
          // A failing logger must not become an unhandled rejection that takes the process down.
        }
      });
  }

  /**
   * Acks or nacks on the channel the message came on, if it is still the consumer's: a delivery
   * tag means nothing on another channel, and the broker has already requeued whatever a closed
   * channel held, so a late settle has nothing left to do.
   */
  private settle(consumer: ConsumerState, channel: Channel, delivery: UnsettledDelivery, outcome: Outcome): void {
    const pending = consumer.unsettled;
    if (this.closed || !consumer.active || consumer.channel !== channel || pending?.channel !== channel) return;
    if (outcome === 'ack') {
      delivery.acked = true;
      if (!pending.flushScheduled) {
        pending.flushScheduled = true;
        setImmediate(() => this.flushAcks(consumer, pending));
      }
      return;
    }
    const at = pending.deliveries.indexOf(delivery);
    if (at >= 0) pending.deliveries.splice(at, 1);
    try {
      channel.nack(delivery.raw, false, outcome === 'requeue');
    } catch {
      // The channel closed under us; the broker returns the message itself.
    }
  }

  /** Sends the acks settled since the last flush (see PendingAcks); nothing when the channel is gone, whose deliveries the broker has requeued. */
  private flushAcks(consumer: ConsumerState, pending: PendingAcks): void {
    pending.flushScheduled = false;
    if (consumer.channel !== pending.channel) return;
    const deliveries = pending.deliveries;
    let run = 0;
    while (run < deliveries.length && deliveries[run]!.acked) run++;
    try {
      if (run > 0) pending.channel.ack(deliveries[run - 1]!.raw, true);
      for (let i = run; i < deliveries.length; i++) if (deliveries[i]!.acked) pending.channel.ack(deliveries[i]!.raw);
    } catch {
      // The channel closed under us; the broker returns the messages itself.
    }
    pending.deliveries = deliveries.slice(run).filter((delivery) => !delivery.acked);
  }

  // ---- helpers ----------------------------------------------------------------------------------

  private assertOpen(): void {
    if (this.closed) throw new BusClosedError();
  }

  private backoff(attempt: number): number {
    const base = Math.min(this.maxDelayMs, this.initialDelayMs * 2 ** Math.min(attempt, 30));
    return Math.round(base * (0.8 + Math.random() * 0.4));
  }

  /** A sleep that close() cuts short. */
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

  private emit(event: AmqpBusEvent): void {
    try {
      if (this.options.onEvent) this.options.onEvent(event);
      else if (event.type !== 'reconnect-failed') console.warn(`amqp bus: ${describeEvent(event)}`);
    } catch {
      // Logging must not break the bus.
    }
  }
}

/** A publish whose channel went away before the broker confirmed it: unknown outcome, so it is sent again. */
class ConnectionLostError extends Error {
  constructor(cause: unknown) {
    super(`connection lost before the broker confirmed: ${errorText(cause)}`);
    this.name = 'ConnectionLostError';
  }
}

async function declareOrExplain(
  channel: Channel,
  name: string,
  declaring: string,
  args: Record<string, string | number>,
): Promise<void> {
  try {
    await channel.assertQueue(name, { durable: true, arguments: args });
  } catch (error) {
    if (amqpReplyCode(error) === 406) {
      throw new QueueConflictError(
        declaring,
        `queue ${JSON.stringify(name)} already exists with other settings than declaring ${JSON.stringify(declaring)} needs ` +
          `(another deliveryLimit, or a dead-letter queue of that name): ${errorText(error)}`,
      );
    }
    throw error;
  }
}

function decodeMessage(raw: ConsumeMessage): BusMessage {
  const { messageId, type } = raw.properties;
  if (typeof messageId !== 'string' || typeof type !== 'string') throw new Error('message has no message-id or type property');
  const body = JSON.parse(raw.content.toString('utf8')) as JsonValue;
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(raw.properties.headers ?? {})) {
    // x- headers belong to the broker and the bus (x-delivery-count, x-death);
    // the port hands out only the publisher's own, plus the death reason below.
    if (typeof value === 'string' && !name.toLowerCase().startsWith('x-')) headers[name] = value;
  }
  const reason = deathReasonOf(raw);
  if (reason !== undefined) headers[DEATH_REASON_HEADER] = reason;
  return { id: messageId, type, body, headers };
}

function deathReasonOf(raw: Message): string | undefined {
  const headers = raw.properties.headers;
  if (!headers) return undefined;
  // x-death lists the most recent death first: that is the one that put the message where it is now.
  const deaths: unknown = headers['x-death'];
  if (Array.isArray(deaths) && deaths.length > 0) {
    const latest: unknown = deaths[0];
    if (typeof latest === 'object' && latest !== null && 'reason' in latest && typeof latest.reason === 'string') {
      return latest.reason;
    }
  }
  const first: unknown = headers['x-first-death-reason'];
  return typeof first === 'string' ? first : undefined;
}

function deliveryCountOf(raw: Message): number {
  const returns: unknown = raw.properties.headers?.['x-delivery-count'];
  if (typeof returns === 'number' && Number.isSafeInteger(returns) && returns >= 0) return returns + 1;
  if (typeof returns === 'bigint' && returns >= 0n) return Number(returns) + 1;
  return 1;
}

function amqpReplyCode(error: unknown): number | undefined {
  if (typeof error !== 'object' || error === null || !('code' in error)) return undefined;
  return typeof error.code === 'number' ? error.code : undefined;
}

/**
 * Whether an operation failed because its channel or connection went away (so a retry on a new one
 * can succeed) rather than because the broker refused it.
 */
function isConnectionLoss(error: unknown): boolean {
  if (error instanceof ConnectionLostError) return true;
  const code = amqpReplyCode(error);
  // 320 CONNECTION_FORCED (broker shutting down), 504 CHANNEL_ERROR, 505 UNEXPECTED_FRAME,
  // 541 INTERNAL_ERROR: what a stopping broker answers to operations in flight. Any other reply
  // code is the broker refusing the operation itself (403, 404, 406, …), which a retry will not fix.
  if (code !== undefined) return code === 320 || code === 504 || code === 505 || code === 541;
  if (error instanceof Error) {
    const text = error.message.toLowerCase();
    return text.includes('closed') || text.includes('econnreset') || text.includes('socket') || text.includes('epipe');
  }
  return false;
}

function describeEvent(event: AmqpBusEvent): string {
  switch (event.type) {
    case 'disconnected':
      return `connection lost (${errorText(event.error)}); reconnecting`;
    case 'reconnect-failed':
      return `reconnect attempt ${event.attempt} failed (${errorText(event.error)}); next in ${event.retryInMs} ms`;
    case 'reconnected':
      return `reconnected after ${event.downForMs} ms (${event.attempts} attempt${event.attempts === 1 ? '' : 's'})`;
    case 'consumer-failed':
      return `consumer of ${event.queue} failed (${errorText(event.error)}); retrying in ${event.retryInMs} ms`;
    case 'redeclare-failed':
      return `could not redeclare ${event.queue} after reconnecting: ${errorText(event.error)}`;
    case 'undecodable-message':
      return `dead-lettered an undecodable message from ${event.queue}: ${errorText(event.error)}`;
  }
}

function errorText(error: unknown): string {
  if (error instanceof Error) return error.message;
  return error === null || error === undefined ? 'no error given' : String(error);
}

/** amqplib takes the heartbeat from the URL; one the caller put there wins. */
function withHeartbeat(url: string, seconds: number): string {
  const parsed = new URL(url);
  if (parsed.searchParams.has('heartbeat')) return url;
  parsed.searchParams.set('heartbeat', String(seconds));
  return parsed.toString();
}

/** Connection URLs carry the password; error messages and logs must not. */
function redact(url: string): string {
  return url.replace(/\/\/([^:/@]*):[^@/]*@/, '//$1:***@');
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * amqplib writes every frame of a tick to the socket one by one: with Nagle off, one syscall and one
 * TCP segment each (a publish is three frames). Corking the socket around amqplib's write pass sends
 * them with one writev. This reaches into amqplib's connection (its `muxer` and `stream`); when those
 * are not there, as in another amqplib version, nothing changes but the number of syscalls.
 */
export function coalesceWrites(model: unknown): void {
  const connection = (model as { connection?: { muxer?: { _readIncoming?: () => void }; stream?: { cork?: () => void; uncork?: () => void } } }).connection;
  const muxer = connection?.muxer;
  const stream = connection?.stream;
  const writePass = muxer?._readIncoming;
  if (!muxer || typeof writePass !== 'function' || typeof stream?.cork !== 'function' || typeof stream.uncork !== 'function') return;
  muxer._readIncoming = function corkedWritePass(this: unknown) {
    stream.cork!();
    try {
      writePass.call(this);
    } finally {
      stream.uncork!();
    }
  };
}
