// The consumer side. Each consumer has its own channel, so its prefetch is its own and cancelling it
// (closing the channel) hands its unacked deliveries back to the queue. Deliveries are acked by hand
// (acks.ts). The bus keeps every consumer subscribed across channel and connection losses.
import type { Channel, ConsumeMessage } from 'amqplib';
import { UnknownQueueError } from '../validation.js';
import type { BusMessage, Consumer, Delivery } from '../port.js';
import { flushAcks, pendingAcks, settleDelivery, type Outcome, type PendingAcks, type UnsettledDelivery } from './acks.js';
import type { Connection, Link } from './connection.js';
import { amqpReplyCode } from './errors.js';
import type { ReportEvent } from './events.js';
import { decodeMessage, deliveryCountOf } from './messages.js';
import type { AmqpBusOptions } from './options.js';

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

export class Consumers {
  private readonly consumers = new Set<ConsumerState>();

  constructor(
    private readonly connection: Connection,
    private readonly report: ReportEvent,
    private readonly options: AmqpBusOptions,
  ) {}

  async start(queue: string, handler: (delivery: Delivery) => Promise<void>, prefetch: number): Promise<Consumer> {
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
    await this.connection.withRetry(`consume from ${JSON.stringify(queue)}`, async (link) => {
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

  /** Subscribes again every consumer that has no channel (after a reconnect). */
  ensureAll(): void {
    for (const consumer of this.consumers) this.ensureConsumer(consumer);
  }

  async cancelAll(): Promise<void> {
    await Promise.all([...this.consumers].map((consumer) => this.cancel(consumer)));
  }

  private async subscribe(link: Link, consumer: ConsumerState): Promise<void> {
    const channel = await link.model.createChannel();
    channel.on('error', () => undefined);
    channel.on('close', () => this.consumerChannelClosed(consumer, channel, link));
    try {
      await channel.prefetch(consumer.prefetch, false);
      // Set before basic.consume: the first deliveries can be handled, and acked, before the
      // consume call below has resumed, and an ack only goes out on the consumer's current channel.
      consumer.channel = channel;
      consumer.unsettled = pendingAcks(channel);
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
    if (!consumer.active || this.connection.closed) {
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
    if (this.connection.link === link && !consumer.establishing) this.scheduleConsumerRetry(consumer, null);
  }

  private ensureConsumer(consumer: ConsumerState): void {
    const link = this.connection.link;
    if (!consumer.active || this.connection.closed || !link || consumer.channel || consumer.establishing) return;
    consumer.establishing = true;
    this.subscribe(link, consumer)
      .catch((error: unknown) => this.scheduleConsumerRetry(consumer, error))
      .finally(() => {
        consumer.establishing = false;
      });
  }

  private scheduleConsumerRetry(consumer: ConsumerState, error: unknown): void {
    if (!consumer.active || this.connection.closed || consumer.retryTimer) return;
    const retryInMs = this.connection.backoff(consumer.failures++);
    if (error !== null) this.report({ type: 'consumer-failed', queue: consumer.queue, error, retryInMs });
    consumer.retryTimer = this.connection.schedule(() => {
      consumer.retryTimer = null;
      this.ensureConsumer(consumer);
    }, retryInMs);
  }

  private async cancel(consumer: ConsumerState): Promise<void> {
    if (!consumer.active) return;
    consumer.active = false;
    this.consumers.delete(consumer);
    if (consumer.retryTimer) {
      this.connection.unschedule(consumer.retryTimer);
      consumer.retryTimer = null;
    }
    if (consumer.unsettled) flushAcks(consumer, consumer.unsettled);
    const channel = consumer.channel;
    consumer.channel = null;
    // basic.cancel alone would leave the unacked deliveries with this consumer; closing the channel
    // returns them to the queue, as the port promises.
    if (channel) await channel.close().catch(() => undefined);
  }

  private deliver(consumer: ConsumerState, channel: Channel, raw: ConsumeMessage): void {
    // Frames already received when cancel() began closing the channel: the close returns them.
    if (this.connection.closed || !consumer.active || consumer.channel !== channel) return;
    let message: BusMessage;
    try {
      message = decodeMessage(raw);
    } catch (error) {
      // Not ours (someone published to the queue by hand): it can never be handled, so dead-letter it.
      this.report({ type: 'undecodable-message', queue: consumer.queue, error });
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
    if (this.connection.closed || !consumer.active || consumer.channel !== channel || pending?.channel !== channel) return;
    settleDelivery(consumer, pending, delivery, outcome);
  }
}
