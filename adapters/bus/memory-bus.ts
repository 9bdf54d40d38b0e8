// The in-memory bus: the embedded default for one process and the reference for the conformance suite.
// Nothing survives the process, so at-least-once here only covers nacks, throwing handlers and
// cancelled consumers; the log (outbox + checkpoints) is what survives a crash.
import type { JsonValue } from '../eventstore/port.js';
import {
  deadLetterQueue,
  type Bus,
  type BusMessage,
  type ConsumeOptions,
  type Consumer,
  type Delivery,
  type QueueOptions,
} from './port.js';
import {
  BusClosedError,
  DEATH_REASON_HEADER,
  QueueConflictError,
  UnknownQueueError,
  assertQueueName,
  checkConsume,
  resolveQueueOptions,
  serialiseBusMessage,
  type DeathReason,
  type SerialisedBusMessage,
} from './validation.js';

export interface MemoryBusOptions {
  /** Sees every error a handler throws (the delivery is then nacked with requeue); for logging. */
  readonly onHandlerError?: (error: unknown, delivery: Delivery) => void;
}

interface StoredMessage extends SerialisedBusMessage {
  /** Deliveries so far; the next delivery's deliveryCount is this plus one. */
  deliveries: number;
}

interface QueueState {
  readonly name: string;
  readonly deliveryLimit: number;
  /** null for a dead-letter queue: what is rejected there is dropped, as a broker queue without a DLX does. */
  readonly deadLetter: string | null;
  readonly ready: MessageDeque;
  readonly consumers: ConsumerState[];
  nextConsumer: number;
  dispatchScheduled: boolean;
}

interface ConsumerState {
  readonly queue: QueueState;
  readonly handler: (delivery: Delivery) => Promise<void>;
  readonly prefetch: number;
  /** In delivery order, so cancel() can put them back at the head in the order they were taken. */
  readonly unacked: Set<DeliveryState>;
  active: boolean;
}

interface DeliveryState {
  readonly stored: StoredMessage;
  readonly consumer: ConsumerState;
  settled: boolean;
}

/** A FIFO with a cheap push-front for requeues; Array#shift would make a long queue quadratic. */
class MessageDeque {
  private items: StoredMessage[] = [];
  private head = 0;

  get length(): number {
    return this.items.length - this.head;
  }

  push(message: StoredMessage): void {
    this.items.push(message);
  }

  unshift(message: StoredMessage): void {
    if (this.head > 0) this.items[--this.head] = message;
    else this.items.unshift(message);
  }

  shift(): StoredMessage | undefined {
    if (this.head >= this.items.length) return undefined;
    const message = this.items[this.head]!;
    this.head++;
    if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    return message;
  }

  clear(): void {
    this.items = [];
    this.head = 0;
  }
}

export class MemoryBus implements Bus {
  private readonly queues = new Map<string, QueueState>();
  private closed = false;

  constructor(private readonly options: MemoryBusOptions = {}) {}

  async declareQueue(queue: string, options?: QueueOptions): Promise<void> {
    this.assertOpen();
    assertQueueName(queue);
    const { deliveryLimit } = resolveQueueOptions(options);
    const deadLetter = deadLetterQueue(queue);
    const existing = this.queues.get(queue);
    if (existing) {
      // RabbitMQ refuses a redeclaration with other arguments (PRECONDITION_FAILED); so do we, so that
      // code which only ever ran embedded does not break against the broker.
      if (existing.deliveryLimit !== deliveryLimit || existing.deadLetter !== deadLetter) {
        throw new QueueConflictError(
          queue,
          existing.deadLetter === null
            ? `queue ${JSON.stringify(queue)} already exists as a dead-letter queue`
            : `queue ${JSON.stringify(queue)} already exists with deliveryLimit ${existing.deliveryLimit}, not ${deliveryLimit}`,
        );
      }
    } else {
      this.queues.set(queue, newQueue(queue, deliveryLimit, deadLetter));
    }
    if (!this.queues.has(deadLetter)) {
      this.queues.set(deadLetter, newQueue(deadLetter, Number.POSITIVE_INFINITY, null));
    }
  }

  async publish(queue: string, message: BusMessage): Promise<void> {
    this.assertOpen();
    assertQueueName(queue);
    const serialised = serialiseBusMessage(message);
    const state = this.queueOf(queue);
    state.ready.push({ ...serialised, deliveries: 0 });
    this.scheduleDispatch(state);
  }

  async consume(
    queue: string,
    handler: (delivery: Delivery) => Promise<void>,
    options?: ConsumeOptions,
  ): Promise<Consumer> {
    this.assertOpen();
    const { prefetch } = checkConsume(queue, handler, options);
    const state = this.queueOf(queue);
    const consumer: ConsumerState = { queue: state, handler, prefetch, unacked: new Set(), active: true };
    state.consumers.push(consumer);
    this.scheduleDispatch(state);
    return { cancel: async () => this.cancel(consumer) };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const queue of this.queues.values()) {
      for (const consumer of queue.consumers) {
        consumer.active = false;
        for (const delivery of consumer.unacked) delivery.settled = true;
        consumer.unacked.clear();
      }
      queue.consumers.length = 0;
      queue.ready.clear();
    }
    this.queues.clear();
  }

  private assertOpen(): void {
    if (this.closed) throw new BusClosedError();
  }

  private queueOf(queue: string): QueueState {
    const state = this.queues.get(queue);
    if (!state) throw new UnknownQueueError(queue);
    return state;
  }

  private cancel(consumer: ConsumerState): void {
    if (!consumer.active) return;
    consumer.active = false;
    const { queue } = consumer;
    queue.consumers.splice(queue.consumers.indexOf(consumer), 1);
    const returned = [...consumer.unacked];
    consumer.unacked.clear();
    // Back to front, so the returned messages sit at the head in the order they were first taken.
    for (let i = returned.length - 1; i >= 0; i--) {
      const delivery = returned[i]!;
      delivery.settled = true;
      this.requeue(queue, delivery.stored);
    }
    this.scheduleDispatch(queue);
  }

  /** Puts a message back at the head unless it has used all its deliveries: a message is never delivered more than deliveryLimit times. */
  private requeue(queue: QueueState, stored: StoredMessage): void {
    if (stored.deliveries >= queue.deliveryLimit) this.deadLetter(queue, stored, 'delivery_limit');
    else queue.ready.unshift(stored);
  }

  private deadLetter(queue: QueueState, stored: StoredMessage, reason: DeathReason): void {
    const target = queue.deadLetter === null ? undefined : this.queues.get(queue.deadLetter);
    if (!target) return;
    target.ready.push({
      id: stored.id,
      type: stored.type,
      body: stored.body,
      headers: { ...stored.headers, [DEATH_REASON_HEADER]: reason },
      deliveries: 0,
    });
    this.scheduleDispatch(target);
  }

  private settle(delivery: DeliveryState, outcome: 'ack' | 'requeue' | 'reject'): void {
    if (delivery.settled || this.closed) return;
    delivery.settled = true;
    const { consumer, stored } = delivery;
    consumer.unacked.delete(delivery);
    if (outcome === 'requeue') this.requeue(consumer.queue, stored);
    else if (outcome === 'reject') this.deadLetter(consumer.queue, stored, 'rejected');
    this.scheduleDispatch(consumer.queue);
  }

  // Dispatch runs on its own turn of the event loop: a handler never runs inside publish() or
  // consume(), and a burst of publishes is handed out in one pass.
  private scheduleDispatch(queue: QueueState): void {
    if (queue.dispatchScheduled || this.closed) return;
    queue.dispatchScheduled = true;
    setImmediate(() => {
      queue.dispatchScheduled = false;
      this.dispatch(queue);
    });
  }

  private dispatch(queue: QueueState): void {
    while (!this.closed && queue.ready.length > 0) {
      const consumer = this.nextConsumerWithRoom(queue);
      if (!consumer) return;
      const stored = queue.ready.shift()!;
      stored.deliveries++;
      this.deliver(consumer, stored);
    }
  }

  private nextConsumerWithRoom(queue: QueueState): ConsumerState | undefined {
    const count = queue.consumers.length;
    for (let i = 0; i < count; i++) {
      const index = (queue.nextConsumer + i) % count;
      const consumer = queue.consumers[index]!;
      if (consumer.unacked.size < consumer.prefetch) {
        queue.nextConsumer = (index + 1) % count;
        return consumer;
      }
    }
    return undefined;
  }

  private deliver(consumer: ConsumerState, stored: StoredMessage): void {
    const state: DeliveryState = { stored, consumer, settled: false };
    consumer.unacked.add(state);
    const message: BusMessage = {
      id: stored.id,
      type: stored.type,
      body: JSON.parse(stored.body) as JsonValue,
      headers: { ...stored.headers },
    };
    const delivery: Delivery = {
      message,
      queue: consumer.queue.name,
      deliveryCount: stored.deliveries,
      ack: async () => this.settle(state, 'ack'),
      nack: async (options) => this.settle(state, options?.requeue === false ? 'reject' : 'requeue'),
    };
    // Through a promise so a handler that throws synchronously is treated like one that rejects, and
    // so a handler that acks or cancels at once does not re-enter the dispatch loop.
    Promise.resolve()
      .then(() => consumer.handler(delivery))
      .catch((error: unknown) => {
        this.settle(state, 'requeue');
        try {
          this.options.onHandlerError?.(error, delivery);
        } catch {
          // A failing logger must not become an unhandled rejection that takes the process down.
        }
      });
  }
}

function newQueue(name: string, deliveryLimit: number, deadLetter: string | null): QueueState {
  return {
    name,
    deliveryLimit,
    deadLetter,
    ready: new MessageDeque(),
    consumers: [],
    nextConsumer: 0,
    dispatchScheduled: false,
  };
}
