// The one conformance suite every Bus implementation passes (in memory, RabbitMQ). It speaks only the
// port: each test declares queues of its own random names, so it also runs against a shared broker;
// every wait is bounded, and nothing asserts how fast anything is. "Nothing more arrives" is checked
// after a short quiet period, which can only let a bug slip through, never fail a correct bus.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_DELIVERY_LIMIT, deadLetterQueue, type Bus, type BusMessage, type Consumer, type Delivery } from './port.js';

export interface BusConformanceTarget {
  readonly bus: Bus;
  readonly dispose: () => Promise<void>;
}

const WAIT_MS = 15_000;
const QUIET_MS = 200;

export function describeBusConformance(label: string, open: () => Promise<BusConformanceTarget>): void {
  describe(`bus conformance: ${label}`, () => {
    let target: BusConformanceTarget;
    let bus: Bus;
    const consumers: Consumer[] = [];
    beforeAll(async () => {
      target = await open();
      bus = target.bus;
    });
    afterAll(async () => {
      for (const consumer of consumers) await consumer.cancel().catch(() => undefined);
      await target?.dispose();
    });

    /** Declares a fresh queue; consumers started through `consume` are cancelled after the suite. */
    async function freshQueue(deliveryLimit?: number): Promise<string> {
      const queue = newQueueName();
      await bus.declareQueue(queue, deliveryLimit === undefined ? undefined : { deliveryLimit });
      return queue;
    }

    async function consume(
      queue: string,
      handler: (delivery: Delivery) => Promise<void>,
      prefetch?: number,
    ): Promise<Consumer> {
      const consumer = await bus.consume(queue, handler, prefetch === undefined ? undefined : { prefetch });
      consumers.push(consumer);
      return consumer;
    }

    /** A consumer that records every delivery and acks it at once. */
    async function collectAcking(queue: string, prefetch?: number): Promise<Delivery[]> {
      const seen: Delivery[] = [];
      await consume(
        queue,
        async (delivery) => {
          seen.push(delivery);
          await delivery.ack();
        },
        prefetch,
      );
      return seen;
    }

    describe('delivery', () => {
      it('delivers each published message exactly once, in publish order, to an acking consumer', async () => {
        const queue = await freshQueue();
        const sent = Array.from({ length: 20 }, (_, i) => message(`Step${i}`, { i }));
        for (const m of sent) await bus.publish(queue, m);
        const seen = await collectAcking(queue);
        await waitUntil(() => seen.length >= sent.length, `got ${seen.length} of ${sent.length} messages`);
        await quiet();
        expect(seen.map((d) => d.message.id)).toEqual(sent.map((m) => m.id));
        expect(seen.every((d) => d.deliveryCount === 1 && d.queue === queue)).toBe(true);
      });

      it('keeps messages published before anyone consumes until a consumer comes', async () => {
        const queue = await freshQueue();
        const sent = [message('A'), message('B'), message('C')];
        for (const m of sent) await bus.publish(queue, m);
        await quiet();
        const seen = await collectAcking(queue);
        await waitUntil(() => seen.length >= 3, `got ${seen.length} of 3 waiting messages`);
        expect(seen.map((d) => d.message.id)).toEqual(sent.map((m) => m.id));
      });

      it('never runs a handler synchronously inside publish or consume', async () => {
        const queue = await freshQueue();
        await bus.publish(queue, message('Waiting'));
        let calls = 0;
        const handler = async (delivery: Delivery): Promise<void> => {
          calls++;
          await delivery.ack();
        };
        const consuming = bus.consume(queue, handler);
        expect(calls).toBe(0);
        consumers.push(await consuming);
        const before = calls;
        const publishing = bus.publish(queue, message('Live'));
        expect(calls).toBe(before);
        await publishing;
        await waitUntil(() => calls >= 2, `handler called ${calls} times, expected 2`);
      });
    });

    describe('payloads', () => {
      it('round-trips id, type, unicode and nested JSON bodies and headers exactly', async () => {
        const queue = await freshQueue();
        const sent: BusMessage[] = [
          {
            id: randomUUID(),
            type: 'agent.StartInstance',
            body: {
              name: 'ünïcødé – 名前 – 🚀',
              nested: { list: [1, 2.5, -3, null, true, 'x', { deep: [[]] }], empty: {} },
              zero: 0,
              quote: '"\\\n\t',
            },
            headers: { correlationId: 'c-ü-名前', 'reply-to': 'replies.host-1', empty: '' },
          },
          { id: 'custom id ✓', type: 'Null', body: null, headers: {} },
          { id: randomUUID(), type: 'Scalar', body: 'just a string' },
          { id: randomUUID(), type: 'Array', body: [0, false, ''] },
          { id: randomUUID(), type: 'Number', body: -1.5e-7 },
        ];
        for (const m of sent) await bus.publish(queue, m);
        const seen = await collectAcking(queue);
        await waitUntil(() => seen.length >= sent.length, `got ${seen.length} of ${sent.length} messages`);
        // Headers always arrive as an object, `{}` when none were sent.
        expect(seen.map((d) => d.message)).toEqual(sent.map((m) => ({ ...m, headers: m.headers ?? {} })));
      });

      it('copies the body: neither the publisher nor a consumer can change what a later delivery sees', async () => {
        const queue = await freshQueue();
        const body = { list: [1, 2], nested: { state: 'original' } };
        await bus.publish(queue, { id: randomUUID(), type: 'Copy', body });
        body.list.push(3);
        body.nested.state = 'changed by publisher';
        const seen: Delivery[] = [];
        await consume(queue, async (delivery) => {
          seen.push(delivery);
          if (delivery.deliveryCount === 1) {
            const received = delivery.message.body as { list: number[]; nested: { state: string } };
            received.list.push(99);
            received.nested.state = 'changed by consumer';
            await delivery.nack({ requeue: true });
          } else {
            await delivery.ack();
          }
        });
        await waitUntil(() => seen.length >= 2, `got ${seen.length} of 2 deliveries`);
        expect(seen[1]!.message.body).toEqual({ list: [1, 2], nested: { state: 'original' } });
      });
    });

    describe('prefetch and sharing', () => {
      it('hands a consumer at most prefetch unacked deliveries', async () => {
        const queue = await freshQueue();
        const total = 10;
        for (let i = 0; i < total; i++) await bus.publish(queue, message(`M${i}`));
        const held: Delivery[] = [];
        let acked = 0;
        let outstanding = 0;
        let maxOutstanding = 0;
        let releaseAll = false;
        await consume(
          queue,
          async (delivery) => {
            outstanding++;
            maxOutstanding = Math.max(maxOutstanding, outstanding);
            if (releaseAll) {
              outstanding--;
              acked++;
              await delivery.ack();
            } else {
              held.push(delivery);
            }
          },
          3,
        );
        await waitUntil(() => held.length >= 3, `got ${held.length} of 3 deliveries`);
        await quiet();
        expect(held).toHaveLength(3);

        outstanding--;
        acked++;
        await held.shift()!.ack();
        await waitUntil(() => held.length >= 3, 'no new delivery after an ack freed a slot');
        await quiet();
        expect(held).toHaveLength(3);

        releaseAll = true;
        for (const delivery of held.splice(0)) {
          outstanding--;
          acked++;
          await delivery.ack();
        }
        await waitUntil(() => acked >= total, `acked ${acked} of ${total}`);
        expect(maxOutstanding).toBeLessThanOrEqual(3);
      });

      it('shares one queue between two consumers without duplicates', async () => {
        const queue = await freshQueue();
        const total = 20;
        const sent = Array.from({ length: total }, (_, i) => message(`M${i}`));
        for (const m of sent) await bus.publish(queue, m);
        const byConsumer: string[][] = [[], []];
        const held: Delivery[] = [];
        let release = false;
        const handlerFor = (index: number) => async (delivery: Delivery) => {
          byConsumer[index]!.push(delivery.message.id);
          if (release) await delivery.ack();
          else held.push(delivery);
        };
        // Both hold their first deliveries unacked, so neither can drain the queue before the other starts.
        await consume(queue, handlerFor(0), 5);
        await waitUntil(() => byConsumer[0]!.length >= 5, 'first consumer got no deliveries');
        await consume(queue, handlerFor(1), 5);
        await waitUntil(() => byConsumer[1]!.length >= 5, 'second consumer got no deliveries');
        release = true;
        for (const delivery of held.splice(0)) await delivery.ack();
        await waitUntil(
          () => byConsumer[0]!.length + byConsumer[1]!.length >= total,
          `got ${byConsumer[0]!.length + byConsumer[1]!.length} of ${total}`,
        );
        await quiet();
        const all = [...byConsumer[0]!, ...byConsumer[1]!];
        expect(all).toHaveLength(total);
        expect(new Set(all)).toEqual(new Set(sent.map((m) => m.id)));
      });

      it('moves 1,000 messages through concurrent publishers and consumers exactly once', async () => {
        const queue = await freshQueue();
        const total = 1000;
        const sent = Array.from({ length: total }, (_, i) => message('Bulk', { i }));
        const counts = new Map<string, number>();
        let deliveries = 0;
        let redeliveries = 0;
        for (const prefetch of [1, 8, 32, undefined]) {
          await consume(
            queue,
            async (delivery) => {
              deliveries++;
              if (delivery.deliveryCount !== 1) redeliveries++;
              counts.set(delivery.message.id, (counts.get(delivery.message.id) ?? 0) + 1);
              // Yield so deliveries of different consumers interleave with each other and with publishes.
              await new Promise((resolve) => setImmediate(resolve));
              await delivery.ack();
            },
            prefetch,
          );
        }
        const publishers = 4;
        await Promise.all(
          Array.from({ length: publishers }, async (_, p) => {
            const mine = sent.filter((_, i) => i % publishers === p);
            for (let i = 0; i < mine.length; i += 50) await Promise.all(mine.slice(i, i + 50).map((m) => bus.publish(queue, m)));
          }),
        );
        await waitUntil(() => deliveries >= total, `got ${deliveries} of ${total} deliveries`, 30_000);
        await quiet();
        expect(deliveries).toBe(total);
        expect(redeliveries).toBe(0);
        expect(sent.every((m) => counts.get(m.id) === 1)).toBe(true);
      });
    });

    describe('redelivery', () => {
      it('redelivers a message nacked with requeue, with deliveryCount 2', async () => {
        const queue = await freshQueue();
        const sent = message('Retry', { n: 1 }, { correlationId: 'c-1' });
        await bus.publish(queue, sent);
        const seen: Delivery[] = [];
        await consume(queue, async (delivery) => {
          seen.push(delivery);
          if (delivery.deliveryCount === 1) await delivery.nack({ requeue: true });
          else await delivery.ack();
        });
        await waitUntil(() => seen.length >= 2, `got ${seen.length} of 2 deliveries`);
        await quiet();
        expect(seen.map((d) => d.deliveryCount)).toEqual([1, 2]);
        expect(seen[1]!.message).toEqual(sent);
      });

      it('treats nack() without options as nack with requeue', async () => {
        const queue = await freshQueue();
        await bus.publish(queue, message('Retry'));
        const seen: Delivery[] = [];
        await consume(queue, async (delivery) => {
          seen.push(delivery);
          if (delivery.deliveryCount === 1) await delivery.nack();
          else await delivery.ack();
        });
        await waitUntil(() => seen.length >= 2, `got ${seen.length} of 2 deliveries`);
        expect(seen.map((d) => d.deliveryCount)).toEqual([1, 2]);
      });

      it('redelivers a message whose handler rejects or throws synchronously', async () => {
        const queue = await freshQueue();
        const asyncFailure = message('AsyncFailure');
        const syncFailure = message('SyncFailure');
        await bus.publish(queue, asyncFailure);
        await bus.publish(queue, syncFailure);
        const seen: Array<[string, number]> = [];
        const handler = (delivery: Delivery): Promise<void> => {
          seen.push([delivery.message.type, delivery.deliveryCount]);
          if (delivery.deliveryCount > 1) return delivery.ack();
          if (delivery.message.type === 'SyncFailure') throw new Error('handler failed synchronously');
          return Promise.reject(new Error('handler failed'));
        };
        await consume(queue, handler);
        await waitUntil(() => seen.length >= 4, `got ${seen.length} of 4 deliveries`);
        await quiet();
        expect(seen).toHaveLength(4);
        expect(seen.filter(([type]) => type === 'AsyncFailure').map(([, count]) => count)).toEqual([1, 2]);
        expect(seen.filter(([type]) => type === 'SyncFailure').map(([, count]) => count)).toEqual([1, 2]);
      });

      it('ignores a second ack or nack of the same delivery', async () => {
        const queue = await freshQueue();
        await bus.publish(queue, message('Once'));
        const seen: Delivery[] = [];
        await consume(queue, async (delivery) => {
          seen.push(delivery);
          await delivery.ack();
          await delivery.ack();
          await delivery.nack({ requeue: true });
          await delivery.nack({ requeue: false });
        });
        await waitUntil(() => seen.length >= 1, 'no delivery');
        const dead: Delivery[] = await collectAcking(deadLetterQueue(queue));
        await quiet();
        expect(seen).toHaveLength(1);
        expect(dead).toHaveLength(0);
      });
    });

    describe('dead-lettering', () => {
      it('dead-letters a message to <queue>.dead once it has been delivered deliveryLimit times', async () => {
        const queue = await freshQueue(3);
        const sent = message('Poison', { nested: { ok: false } }, { correlationId: 'c-poison' });
        await bus.publish(queue, sent);
        const counts: number[] = [];
        await consume(queue, async (delivery) => {
          counts.push(delivery.deliveryCount);
          await delivery.nack({ requeue: true });
        });
        const dead = await collectAcking(deadLetterQueue(queue));
        await waitUntil(() => dead.length >= 1, 'nothing reached the dead-letter queue');
        await quiet();
        expect(counts).toEqual([1, 2, 3]);
        expect(dead).toHaveLength(1);
        expectDeadLetter(dead[0]!, sent, deadLetterQueue(queue), 'delivery_limit');
      });

      it('applies the default delivery limit to a handler that always throws', async () => {
        const queue = await freshQueue();
        const sent = message('AlwaysFails');
        await bus.publish(queue, sent);
        const counts: number[] = [];
        await consume(queue, async (delivery) => {
          counts.push(delivery.deliveryCount);
          throw new Error('always fails');
        });
        const dead = await collectAcking(deadLetterQueue(queue));
        await waitUntil(() => dead.length >= 1, 'nothing reached the dead-letter queue');
        await quiet();
        expect(counts).toEqual(Array.from({ length: DEFAULT_DELIVERY_LIMIT }, (_, i) => i + 1));
        expectDeadLetter(dead[0]!, sent, deadLetterQueue(queue), 'delivery_limit');
      });

      it('dead-letters at once on nack without requeue', async () => {
        const queue = await freshQueue();
        const sent = message('Rejected', { why: 'unparseable' }, { correlationId: 'c-2' });
        const kept = message('Kept');
        await bus.publish(queue, sent);
        await bus.publish(queue, kept);
        const seen: Delivery[] = [];
        await consume(queue, async (delivery) => {
          seen.push(delivery);
          if (delivery.message.id === sent.id) await delivery.nack({ requeue: false });
          else await delivery.ack();
        });
        const dead = await collectAcking(deadLetterQueue(queue));
        await waitUntil(() => dead.length >= 1 && seen.length >= 2, 'rejected message not dead-lettered');
        await quiet();
        expect(seen.map((d) => [d.message.id, d.deliveryCount])).toEqual([
          [sent.id, 1],
          [kept.id, 1],
        ]);
        expect(dead).toHaveLength(1);
        expectDeadLetter(dead[0]!, sent, deadLetterQueue(queue), 'rejected');
      });
    });

    describe('cancel', () => {
      it('returns unacked deliveries for redelivery to the next consumer and stops delivering', async () => {
        const queue = await freshQueue();
        const sent = Array.from({ length: 5 }, (_, i) => message(`M${i}`));
        for (const m of sent) await bus.publish(queue, m);
        const held: Delivery[] = [];
        const first = await consume(queue, async (delivery) => void held.push(delivery), 3);
        await waitUntil(() => held.length >= 3, `got ${held.length} of 3 deliveries`);
        await first.cancel();
        await first.cancel();
        // The late ack of a handler still running after cancel must not swallow the returned message.
        await held[0]!.ack();
        const afterCancel = message('AfterCancel');
        await bus.publish(queue, afterCancel);

        const seen = await collectAcking(queue);
        await waitUntil(() => seen.length >= 6, `got ${seen.length} of 6 deliveries`);
        await quiet();
        expect(held).toHaveLength(3);
        expect(seen).toHaveLength(6);
        expect(new Set(seen.map((d) => d.message.id))).toEqual(new Set([...sent, afterCancel].map((m) => m.id)));
        const heldIds = new Set(held.map((d) => d.message.id));
        for (const delivery of seen) {
          expect(delivery.deliveryCount).toBe(heldIds.has(delivery.message.id) ? 2 : 1);
        }
      });
    });

    describe('queues', () => {
      it('declares idempotently without losing waiting messages', async () => {
        const queue = await freshQueue(4);
        const sent = message('Kept');
        await bus.publish(queue, sent);
        await bus.declareQueue(queue, { deliveryLimit: 4 });
        const seen = await collectAcking(queue);
        await waitUntil(() => seen.length >= 1, 'message lost on redeclare');
        expect(seen[0]!.message.id).toBe(sent.id);
      });

      it('refuses to redeclare a queue with another delivery limit', async () => {
        const queue = await freshQueue(4);
        await expect(bus.declareQueue(queue, { deliveryLimit: 7 })).rejects.toThrow(queue);
      });

      it('declares the dead-letter queue with its queue', async () => {
        const queue = await freshQueue();
        const dead = deadLetterQueue(queue);
        expect(dead).toBe(`${queue}.dead`);
        const consumer = await bus.consume(dead, async (delivery) => delivery.ack());
        await consumer.cancel();
      });

      it('accepts a queue name of 200 characters', async () => {
        const queue = newQueueName().padEnd(200, 'x');
        await bus.declareQueue(queue);
        await bus.publish(queue, message('Long'));
        const seen = await collectAcking(queue);
        await waitUntil(() => seen.length >= 1, 'no delivery from a long-named queue');
      });

      it('rejects publish and consume on an undeclared queue, naming it', async () => {
        const queue = newQueueName();
        await expect(bus.publish(queue, message('Lost'))).rejects.toThrow(queue);
        await expect(bus.consume(queue, async (delivery) => delivery.ack())).rejects.toThrow(queue);
      });

      const badNames: unknown[] = ['', ' ', 'a b', 'a/b', 'queue*', 'é', 'q\n', 'x'.repeat(201), 'amq.reserved', 42, null, undefined];
      for (const bad of badNames) {
        it(`rejects the queue name ${describeValue(bad)}`, async () => {
          const name = bad as string;
          await expect(bus.declareQueue(name)).rejects.toThrow();
          await expect(bus.publish(name, message('Bad'))).rejects.toThrow();
          await expect(bus.consume(name, async (delivery) => delivery.ack())).rejects.toThrow();
        });
      }

      for (const bad of [0, -1, 1.5, Number.NaN, '3']) {
        it(`rejects the delivery limit ${describeValue(bad)}`, async () => {
          await expect(bus.declareQueue(newQueueName(), { deliveryLimit: bad as number })).rejects.toThrow(/deliveryLimit/);
        });
      }

      for (const bad of [0, -1, 1.5, Number.NaN, 65_536]) {
        it(`rejects the prefetch ${describeValue(bad)}`, async () => {
          const queue = await freshQueue();
          await expect(bus.consume(queue, async (d) => d.ack(), { prefetch: bad })).rejects.toThrow(/prefetch/);
        });
      }
    });

    describe('bad messages are refused and nothing is enqueued', () => {
      const cyclic: Record<string, unknown> = {};
      cyclic.self = cyclic;
      const badMessages: Array<[string, unknown]> = [
        ['null', null],
        ['an array', []],
        ['no id', { type: 'A', body: {} }],
        ['an empty id', { id: '', type: 'A', body: {} }],
        ['a numeric id', { id: 7, type: 'A', body: {} }],
        ['an id over 255 bytes', { id: 'é'.repeat(128), type: 'A', body: {} }],
        ['no type', { id: randomUUID(), body: {} }],
        ['an empty type', { id: randomUUID(), type: '', body: {} }],
        ['no body', { id: randomUUID(), type: 'A' }],
        ['a function body', { id: randomUUID(), type: 'A', body: () => 1 }],
        ['a NaN in the body', { id: randomUUID(), type: 'A', body: { n: Number.NaN } }],
        ['Infinity in the body', { id: randomUUID(), type: 'A', body: [Number.POSITIVE_INFINITY] }],
        ['a bigint in the body', { id: randomUUID(), type: 'A', body: { n: 10n } }],
        ['a Date in the body', { id: randomUUID(), type: 'A', body: { at: new Date() } }],
        ['an undefined field in the body', { id: randomUUID(), type: 'A', body: { x: undefined } }],
        ['a cycle in the body', { id: randomUUID(), type: 'A', body: cyclic }],
        ['a body over 1 MiB', { id: randomUUID(), type: 'A', body: 'x'.repeat(1024 * 1024 + 1) }],
        ['array headers', { id: randomUUID(), type: 'A', body: {}, headers: ['a'] }],
        ['a numeric header', { id: randomUUID(), type: 'A', body: {}, headers: { n: 1 } }],
        ['a reserved x- header', { id: randomUUID(), type: 'A', body: {}, headers: { 'x-death-reason': 'forged' } }],
      ];
      for (const [what, bad] of badMessages) {
        it(`refuses a message with ${what}`, async () => {
          const queue = await freshQueue();
          await expect(bus.publish(queue, bad as BusMessage)).rejects.toThrow();
        });
      }

      it('leaves the queue untouched after refused publishes', async () => {
        const queue = await freshQueue();
        for (const [, bad] of badMessages) await bus.publish(queue, bad as BusMessage).catch(() => undefined);
        const good = message('Good');
        await bus.publish(queue, good);
        const seen = await collectAcking(queue);
        await waitUntil(() => seen.length >= 1, 'good message not delivered');
        await quiet();
        expect(seen.map((d) => d.message.id)).toEqual([good.id]);
      });
    });

    describe('close', () => {
      it('stops everything: later calls reject, late settles and a second close are harmless', async () => {
        const other = await open();
        try {
          const queue = newQueueName();
          await other.bus.declareQueue(queue);
          await other.bus.publish(queue, message('Held'));
          const held: Delivery[] = [];
          const consumer = await other.bus.consume(queue, async (delivery) => void held.push(delivery));
          await waitUntil(() => held.length >= 1, 'no delivery before close');
          await other.bus.close();
          await expect(other.bus.declareQueue(newQueueName())).rejects.toThrow();
          await expect(other.bus.publish(queue, message('Late'))).rejects.toThrow();
          await expect(other.bus.consume(queue, async (d) => d.ack())).rejects.toThrow();
          await held[0]!.ack();
          await held[0]!.nack();
          await consumer.cancel();
          await other.bus.close();
        } finally {
          await other.dispose();
        }
      });
    });
  });
}

function expectDeadLetter(delivery: Delivery, original: BusMessage, queue: string, reason: string): void {
  expect(delivery.queue).toBe(queue);
  expect(delivery.message.id).toBe(original.id);
  expect(delivery.message.type).toBe(original.type);
  expect(delivery.message.body).toEqual(original.body);
  // A broker may add headers of its own (`x-…`); the original ones and the reason must be there.
  expect(delivery.message.headers).toEqual(expect.objectContaining({ ...original.headers, 'x-death-reason': reason }));
}

function newQueueName(): string {
  return `vmledger-test.${randomUUID()}`;
}

function message(type: string, body: BusMessage['body'] = { type }, headers?: Record<string, string>): BusMessage {
  return headers === undefined ? { id: randomUUID(), type, body } : { id: randomUUID(), type, body, headers };
}

function describeValue(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value.length > 30 ? `${value.slice(0, 30)}… (${value.length})` : value);
  return String(value);
}

async function quiet(): Promise<void> {
  await new Promise((resolve) => setTimeout(resolve, QUIET_MS));
}

async function waitUntil(condition: () => boolean, message: string, timeoutMs = WAIT_MS): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms: ${message}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}
