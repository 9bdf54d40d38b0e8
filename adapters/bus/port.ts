// The message bus port: at-least-once delivery of commands to agents and of their replies back.
// Implemented in memory (the embedded default, tests) and by RabbitMQ (amqplib). Consumers must be
// idempotent: a message can arrive again after a crash, a nack or a broker restart.
import type { JsonValue } from '../eventstore/port.js';

export interface BusMessage {
  /** Unique per logical message; a re-publish of the same message keeps its id so consumers dedupe. */
  readonly id: string;
  readonly type: string;
  readonly body: JsonValue;
  /**
   * Small string headers, e.g. correlationId. Names starting with `x-` are reserved for the bus; on
   * delivery this is always an object (`{}` when none were sent), and a dead-lettered message carries
   * `x-death-reason`: `delivery_limit` or `rejected`.
   */
  readonly headers?: Readonly<Record<string, string>>;
}

export interface Delivery {
  readonly message: BusMessage;
  readonly queue: string;
  /** Deliveries of this message so far, this one included: 1 the first time, never above the queue's deliveryLimit. */
  readonly deliveryCount: number;
  /**
   * Done with it: the bus forgets the message. The first ack/nack of a delivery wins; later ones, and
   * any after the consumer was cancelled or the bus closed, resolve without effect.
   */
  ack(): Promise<void>;
  /**
   * Not done. With requeue (the default) the bus delivers it again, unless it has been delivered
   * deliveryLimit times: then it goes to `<queue>.dead`. `requeue: false` dead-letters it at once.
   */
  nack(options?: { requeue?: boolean }): Promise<void>;
}

export interface ConsumeOptions {
  /** Deliveries handed out and not yet acked/nacked, at most. */
  readonly prefetch?: number;
}

export interface Consumer {
  /** Stops new deliveries; unacked ones go back to the queue for redelivery. Idempotent. */
  cancel(): Promise<void>;
}

export interface QueueOptions {
  /**
   * Deliveries of one message before it is dead-lettered to `<queue>.dead` (an integer >= 1): with 3, the
   * third nack goes to `.dead`. RabbitMQ's `x-delivery-limit` counts returns rather than deliveries, so
   * an adapter maps it (likely to deliveryLimit - 1); the conformance suite pins the exact count.
   */
  readonly deliveryLimit?: number;
}

export interface Bus {
  /**
   * Creates the queue (and its dead-letter queue) if missing; idempotent. Names are 1-200 characters of
   * `[A-Za-z0-9._-]`, not starting with `amq.`. Redeclaring with another deliveryLimit rejects.
   */
  declareQueue(queue: string, options?: QueueOptions): Promise<void>;
  /**
   * Resolves once the bus holds the message durably (broker confirm); rejects otherwise, and at once for
   * an undeclared queue or an invalid message (empty id or type, body that is not plain JSON).
   */
  publish(queue: string, message: BusMessage): Promise<void>;
  /**
   * Delivers the queue's messages to the handler, never synchronously inside publish or consume. A
   * handler that throws or rejects nacks with requeue; one that returns without settling leaves the
   * delivery unacked (holding a prefetch slot) until it does. Rejects for an undeclared queue.
   */
  consume(queue: string, handler: (delivery: Delivery) => Promise<void>, options?: ConsumeOptions): Promise<Consumer>;
  /** Cancels every consumer; later calls reject. Idempotent. */
  close(): Promise<void>;
}

export const DEFAULT_DELIVERY_LIMIT = 5;

export function deadLetterQueue(queue: string): string {
  return `${queue}.dead`;
}
