import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import amqplib from 'amqplib';
import { AmqpBus, coalesceWrites } from '../../adapters/bus/amqp-bus.js';
import { describeBusConformance } from '../../adapters/bus/conformance.js';
import { UnknownQueueError } from '../../adapters/bus/validation.js';
import { deadLetterQueue, type BusMessage, type Delivery } from '../../adapters/bus/port.js';

// The suite needs a RabbitMQ broker (3.10 or later): `npm run test:all` starts a private one through
// tests/testbed/rabbitmq.sh. Every test declares queues of its own random names, so a shared broker
// will do too (the queues are left behind). Without one it is skipped, and the skip's title says what
// it needs.
const url = process.env.VMLEDGER_TEST_AMQP_URL ?? '';

describe.skipIf(url === '')('RabbitMQ bus (needs VMLEDGER_TEST_AMQP_URL; npm run test:all starts a broker; see README)', () => {
  describeBusConformance('rabbitmq', async () => {
    const bus = await AmqpBus.connect(url);
    return { bus, dispose: () => bus.close() };
  });

  // What the adapter adds to the port's promises, or how it maps them onto the broker.
  describe('rabbitmq bus specifics', () => {
    let bus: AmqpBus;
    beforeAll(async () => {
      bus = await AmqpBus.connect(url);
    });
    afterAll(async () => {
      await bus?.close();
    });

    it('sends the frames of one tick in one socket write (the amqplib internals it relies on are there)', async () => {
      const connection = await amqplib.connect(url, { noDelay: true });
      try {
        coalesceWrites(connection);
        const socket = (connection as unknown as { connection: { stream: import('node:net').Socket } }).connection.stream;
        const writes: number[] = [];
        const writev = socket._writev?.bind(socket);
        const write = socket._write.bind(socket);
        socket._writev = (chunks, callback) => {
          writes.push(chunks.length);
          writev!(chunks, callback);
        };
        socket._write = (chunk, encoding, callback) => {
          writes.push(1);
          write(chunk, encoding, callback);
        };
        const channel = await connection.createConfirmChannel();
        const queue = `vmledger-test.${randomUUID()}`;
        await channel.assertQueue(queue, { durable: true, arguments: { 'x-queue-type': 'quorum' } });
        writes.length = 0;
        for (let i = 0; i < 10; i++) channel.sendToQueue(queue, Buffer.from(`m${i}`), { persistent: true });
        await channel.waitForConfirms();
        // Ten publishes: one write of them all, not ten.
        expect(writes).toEqual([10]);
        await channel.deleteQueue(queue);
      } finally {
        await connection.close();
      }
    });

    it('rejects a publish to an undeclared queue with UnknownQueueError (basic.return)', async () => {
      const queue = `vmledger-test.${randomUUID()}`;
      await expect(bus.publish(queue, message('Lost'))).rejects.toBeInstanceOf(UnknownQueueError);
    });

    it('dead-letters a message with deliveryLimit 1 on its first requeue, and counts deliveries afresh in .dead', async () => {
      const queue = `vmledger-test.${randomUUID()}`;
      await bus.declareQueue(queue, { deliveryLimit: 1 });
      const sent = message('OneShot');
      await bus.publish(queue, sent);
      const counts: number[] = [];
      const consumer = await bus.consume(queue, async (delivery) => {
        counts.push(delivery.deliveryCount);
        await delivery.nack();
      });
      const dead: Delivery[] = [];
      const deadConsumer = await bus.consume(deadLetterQueue(queue), async (delivery) => {
        dead.push(delivery);
        await delivery.ack();
      });
      await waitUntil(() => dead.length >= 1);
      await consumer.cancel();
      await deadConsumer.cancel();
      expect(counts).toEqual([1]);
      expect(dead[0]!.message.headers).toEqual({ 'x-death-reason': 'delivery_limit' });
      expect(dead[0]!.deliveryCount).toBe(1);
    });

    it('acks what a tick settled together, yet never for a delivery still being handled', async () => {
      const queue = `vmledger-test.${randomUUID()}`;
      await bus.declareQueue(queue);
      const sent = Array.from({ length: 5 }, (_, i) => message(`M${i}`));
      for (const m of sent) await bus.publish(queue, m);
      // M2 is still being handled when the consumer goes: M0-M1 (a run from the oldest) and M3-M4
      // (past the unfinished one) are acked, M2 is handed back.
      const seen: string[] = [];
      let finishM2!: () => void;
      const consumer = await bus.consume(
        queue,
        async (delivery) => {
          seen.push(delivery.message.type);
          if (delivery.message.type === 'M2') await new Promise<void>((resolve) => (finishM2 = resolve));
          await delivery.ack();
        },
        { prefetch: 10 },
      );
      await waitUntil(() => seen.length === 5);
      await new Promise((resolve) => setTimeout(resolve, 100));
      await consumer.cancel();
      finishM2();

      const again: Delivery[] = [];
      const second = await bus.consume(queue, async (delivery) => {
        again.push(delivery);
        await delivery.ack();
      });
      await waitUntil(() => again.length >= 1);
      await new Promise((resolve) => setTimeout(resolve, 300));
      await second.cancel();
      expect(again.map((d) => [d.message.type, d.deliveryCount])).toEqual([['M2', 2]]);
    });

    it('sends the acks waiting for the end of the tick before a cancel in that tick hands the rest back', async () => {
      const queue = `vmledger-test.${randomUUID()}`;
      await bus.declareQueue(queue);
      await bus.publish(queue, message('AckedThenCancelled'));
      const held: Delivery[] = [];
      const consumer = await bus.consume(queue, async (delivery) => {
        held.push(delivery);
      });
      await waitUntil(() => held.length === 1);
      await held[0]!.ack();
      await consumer.cancel();

      const again: Delivery[] = [];
      const second = await bus.consume(queue, async (delivery) => {
        again.push(delivery);
        await delivery.ack();
      });
      await new Promise((resolve) => setTimeout(resolve, 500));
      await second.cancel();
      expect(again).toEqual([]);
    });

    it('keeps queues and messages across bus instances (durable queues, persistent messages)', async () => {
      const queue = `vmledger-test.${randomUUID()}`;
      const sent = message('Durable');
      const first = await AmqpBus.connect(url);
      try {
        await first.declareQueue(queue, { deliveryLimit: 2 });
        await first.publish(queue, sent);
      } finally {
        await first.close();
      }
      await expect(bus.declareQueue(queue, { deliveryLimit: 3 })).rejects.toThrow(queue);
      const seen: Delivery[] = [];
      const consumer = await bus.consume(queue, async (delivery) => {
        seen.push(delivery);
        await delivery.ack();
      });
      await waitUntil(() => seen.length >= 1);
      await consumer.cancel();
      expect(seen[0]!.message).toEqual({ ...sent, headers: {} });
    });

    it('refuses to connect to a broker that is not there, naming it without the password', async () => {
      await expect(AmqpBus.connect('amqp://guest:secret@127.0.0.1:1', { connectTimeoutMs: 300 })).rejects.toThrow(
        /cannot connect to the broker at amqp:\/\/guest:\*\*\*@127\.0\.0\.1:1/,
      );
    });
  });
});

function message(type: string): BusMessage {
  return { id: randomUUID(), type, body: { type } };
}

async function waitUntil(condition: () => boolean): Promise<void> {
  const deadline = Date.now() + 15_000;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}
