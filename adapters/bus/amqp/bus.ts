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
//
// Each of these has a module of its own beside this one: queues.ts, publisher.ts, consumers.ts (with
// acks.ts and messages.ts), connection.ts. This class puts them together behind the port.
import { BusClosedError, assertQueueName, checkConsume, resolveQueueOptions, serialiseBusMessage } from '../validation.js';
import type { Bus, BusMessage, ConsumeOptions, Consumer, Delivery, QueueOptions } from '../port.js';
import { Connection, type Link } from './connection.js';
import { Consumers } from './consumers.js';
import { eventReporter, type ReportEvent } from './events.js';
import type { AmqpBusOptions } from './options.js';
import { ConfirmPublisher } from './publisher.js';
import { declareQueueOn, redeclareQueues } from './queues.js';

/** A closing bus waits this long for confirms of publishes already sent before it drops the connection. */
const CLOSE_GRACE_MS = 5_000;

export class AmqpBus implements Bus {
  /** The queues declared so far and their delivery limits, declared again on every new connection. */
  private readonly declared = new Map<string, number>();
  private readonly report: ReportEvent;
  private readonly connection: Connection;
  private readonly publisher: ConfirmPublisher;
  private readonly consumers: Consumers;

  private constructor(url: string, options: AmqpBusOptions) {
    this.report = eventReporter(options.onEvent);
    this.connection = new Connection(url, options, this.report, {
      prepare: (link) => this.prepare(link),
      established: () => this.consumers.ensureAll(),
    });
    this.publisher = new ConfirmPublisher(this.connection);
    this.consumers = new Consumers(this.connection, this.report, options);
  }

  /** Connects (retrying with backoff for up to connectTimeoutMs) and returns the bus. */
  static async connect(url: string, options: AmqpBusOptions = {}): Promise<AmqpBus> {
    const bus = new AmqpBus(url, options);
    await bus.connection.open(options.connectTimeoutMs ?? 15_000);
    return bus;
  }

  async declareQueue(queue: string, options?: QueueOptions): Promise<void> {
    this.assertOpen();
    assertQueueName(queue);
    const { deliveryLimit } = resolveQueueOptions(options);
    await this.connection.withRetry(`declare queue ${JSON.stringify(queue)}`, (link) => declareQueueOn(link.model, queue, deliveryLimit));
    this.declared.set(queue, deliveryLimit);
  }

  async publish(queue: string, message: BusMessage): Promise<void> {
    this.assertOpen();
    assertQueueName(queue);
    await this.publisher.publish(queue, serialiseBusMessage(message));
  }

  async consume(
    queue: string,
    handler: (delivery: Delivery) => Promise<void>,
    options?: ConsumeOptions,
  ): Promise<Consumer> {
    this.assertOpen();
    const { prefetch } = checkConsume(queue, handler, options);
    return this.consumers.start(queue, handler, prefetch);
  }

  async close(): Promise<void> {
    if (this.connection.closed) return;
    this.connection.markClosed();
    await this.consumers.cancelAll();
    // Publishes already on the wire get their confirm (or their rejection) before the socket goes.
    await this.publisher.settle(CLOSE_GRACE_MS);
    await this.connection.disconnect();
  }

  /** Readies a new connection: the queues declared so far, then the confirm channel publishes share. */
  private async prepare(link: Link): Promise<void> {
    await redeclareQueues(link.model, this.declared, this.report);
    await this.publisher.channel(link);
  }

  private assertOpen(): void {
    if (this.connection.closed) throw new BusClosedError();
  }
}
