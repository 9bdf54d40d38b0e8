import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { describeBusConformance } from '../../adapters/bus/conformance.js';
import { MemoryBus } from '../../adapters/bus/memory-bus.js';
import { deadLetterQueue, type BusMessage, type Delivery } from '../../adapters/bus/port.js';

describeBusConformance('memory', async () => {
  const bus = new MemoryBus();
  return { bus, dispose: () => bus.close() };
});

// Guarantees of the in-memory bus that the port does not promise (RabbitMQ quorum queues may place
// returned messages elsewhere), so they are tested here rather than in the shared suite.
describe('memory bus specifics', () => {
  it('puts the deliveries returned by cancel back at the head, in their original order', async () => {
    const bus = new MemoryBus();
    try {
      await bus.declareQueue('q');
      const sent = Array.from({ length: 6 }, (_, i) => message(`M${i}`));
      for (const m of sent) await bus.publish('q', m);
      const held: Delivery[] = [];
      const first = await bus.consume('q', async (d) => void held.push(d), { prefetch: 3 });
      await waitUntil(() => held.length === 3);
      await first.cancel();
      const seen: Delivery[] = [];
      await bus.consume('q', async (d) => {
        seen.push(d);
        await d.ack();
      });
      await waitUntil(() => seen.length === 6);
      expect(seen.map((d) => [d.message.type, d.deliveryCount])).toEqual([
        ['M0', 2], ['M1', 2], ['M2', 2], ['M3', 1], ['M4', 1], ['M5', 1],
      ]);
    } finally {
      await bus.close();
    }
  });

  it('puts a nacked message back at the head', async () => {
    const bus = new MemoryBus();
    try {
      await bus.declareQueue('q');
      for (const type of ['A', 'B']) await bus.publish('q', message(type));
      const seen: string[] = [];
      await bus.consume(
        'q',
        async (d) => {
          seen.push(`${d.message.type}${d.deliveryCount}`);
          if (d.deliveryCount === 1 && d.message.type === 'A') await d.nack();
          else await d.ack();
        },
        { prefetch: 1 },
      );
      await waitUntil(() => seen.length === 3);
      expect(seen).toEqual(['A1', 'A2', 'B1']);
    } finally {
      await bus.close();
    }
  });

  it('dead-letters a message returned by cancel after its last allowed delivery', async () => {
    const bus = new MemoryBus();
    try {
      await bus.declareQueue('q', { deliveryLimit: 1 });
      await bus.publish('q', message('Last'));
      const held: Delivery[] = [];
      const consumer = await bus.consume('q', async (d) => void held.push(d));
      await waitUntil(() => held.length === 1);
      await consumer.cancel();
      const dead: Delivery[] = [];
      await bus.consume(deadLetterQueue('q'), async (d) => void dead.push(d));
      await waitUntil(() => dead.length === 1);
      expect(dead[0]!.message.headers).toEqual({ 'x-death-reason': 'delivery_limit' });
    } finally {
      await bus.close();
    }
  });

  it('drops what is rejected on a dead-letter queue and reports handler errors', async () => {
    const errors: unknown[] = [];
    const bus = new MemoryBus({ onHandlerError: (error) => errors.push(error) });
    try {
      await bus.declareQueue('q');
      await bus.publish('q', message('Bad'));
      await bus.consume('q', async () => {
        throw new Error('boom');
      });
      const dead: Delivery[] = [];
      await bus.consume(deadLetterQueue('q'), async (d) => {
        dead.push(d);
        await d.nack({ requeue: false });
      });
      await waitUntil(() => dead.length === 1);
      await new Promise((r) => setTimeout(r, 50));
      expect(dead).toHaveLength(1);
      expect(errors).toHaveLength(5);
      await expect(bus.declareQueue(deadLetterQueue('q'))).rejects.toThrow(/dead-letter queue/);
    } finally {
      await bus.close();
    }
  });
});

function message(type: string): BusMessage {
  return { id: randomUUID(), type, body: { type } };
}

async function waitUntil(condition: () => boolean): Promise<void> {
  const deadline = Date.now() + 5_000;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 2));
  }
}
