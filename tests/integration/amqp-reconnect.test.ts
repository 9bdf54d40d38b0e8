// The RabbitMQ bus across a broker restart: the broker's application is stopped and started again
// (`rabbitmqctl stop_app` / `start_app`) while messages are being published and consumed.
//
// Stopping a broker would disturb every other test using it, and test files run in parallel, so this
// file starts a broker of its own through the testbed script (port 5674) instead of the shared one in
// VMLEDGER_TEST_AMQP_URL; it runs whenever that variable says the testbed is available, and is skipped
// otherwise (the skip's title says what it needs).
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AmqpBus, BusUnavailableError, type AmqpBusEvent } from '../../adapters/bus/amqp-bus.js';

const run = promisify(execFile);
const testbed = fileURLToPath(new URL('../testbed/rabbitmq.sh', import.meta.url));
const PORT = '5674';
const enabled = (process.env.VMLEDGER_TEST_AMQP_URL ?? '') !== '';

async function broker(...args: string[]): Promise<string> {
  const { stdout } = await run('bash', [testbed, ...args], { timeout: 120_000 });
  return stdout.trim();
}

describe.skipIf(!enabled)('rabbitmq bus: broker restart (needs VMLEDGER_TEST_AMQP_URL and the testbed; npm run test:all; see README)', () => {
  let url: string;
  beforeAll(async () => {
    url = (await broker('start', PORT)).split('\n').pop()!;
  }, 180_000);
  afterAll(async () => {
    await broker('stop', PORT);
  }, 60_000);

  it('delivers every confirmed message after stop_app/start_app during publishing and consuming, each processed once', async () => {
    const events: AmqpBusEvent[] = [];
    const options = { onEvent: (event: AmqpBusEvent) => void events.push(event), reconnectDelayMs: { initial: 50, max: 500 }, publishTimeoutMs: 60_000 };
    const publisher = await AmqpBus.connect(url, options);
    const consumerBus = await AmqpBus.connect(url, options);
    try {
      const queue = `vmledger-test.${randomUUID()}`;
      await publisher.declareQueue(queue);

      // A consumer that dedupes by message id, as the orchestrator does by appending with the id.
      const processed = new Set<string>();
      let duplicates = 0;
      for (const prefetch of [1, 16]) {
        await consumerBus.consume(
          queue,
          async (delivery) => {
            if (processed.has(delivery.message.id)) duplicates++;
            else processed.add(delivery.message.id);
            await new Promise((resolve) => setTimeout(resolve, 2));
            await delivery.ack();
          },
          { prefetch },
        );
      }

      const sent: string[] = [];
      const confirmed = new Set<string>();
      const failed: unknown[] = [];
      const phase = { restarting: false, restarted: false, confirmedBefore: 0, sentDuring: 0, confirmedAfter: 0 };
      const restart = (async () => {
        while (confirmed.size < 100) await new Promise((resolve) => setTimeout(resolve, 5));
        phase.restarting = true;
        phase.confirmedBefore = confirmed.size;
        await broker('ctl', PORT, 'stop_app');
        await new Promise((resolve) => setTimeout(resolve, 1_000));
        await broker('ctl', PORT, 'start_app');
        phase.restarted = true;
      })();
      // Ten publishers, each with one publish in flight at a time, go on before, during and after
      // the outage: until the broker is back and another 100 messages have been confirmed.
      const publishers = Array.from({ length: 10 }, async () => {
        while (!phase.restarted || phase.confirmedAfter < 100) {
          const id = randomUUID();
          sent.push(id);
          if (phase.restarting && !phase.restarted) phase.sentDuring++;
          try {
            await publisher.publish(queue, { id, type: 'Restart', body: { n: sent.length } });
            confirmed.add(id);
            if (phase.restarted) phase.confirmedAfter++;
          } catch (error) {
            failed.push(error);
          }
          await new Promise((resolve) => setTimeout(resolve, 20));
        }
      });
      await Promise.all([restart, ...publishers]);

      // With a 60 s publish timeout nothing gives up over a restart of a few seconds.
      expect(failed).toEqual([]);
      expect(confirmed.size).toBe(sent.length);
      expect(phase.sentDuring).toBeGreaterThan(0);
      await waitUntil(() => sent.every((id) => processed.has(id)), () => `${processed.size} of ${sent.length} processed`);
      await new Promise((resolve) => setTimeout(resolve, 300));
      // Each message processed once: redeliveries (acks lost with the connection, resends of
      // publishes whose confirm was lost) stop at the dedupe.
      expect(processed.size).toBe(sent.length);
      console.info(
        `broker restart: ${phase.confirmedBefore} confirmed before, ${phase.sentDuring} sent during, ` +
          `${sent.length} in all, ${duplicates} duplicate deliveries deduplicated`,
      );
      expect(events.some((e) => e.type === 'disconnected')).toBe(true);
      expect(events.filter((e) => e.type === 'reconnected').length).toBeGreaterThanOrEqual(2);
    } finally {
      await publisher.close();
      await consumerBus.close();
    }
  }, 120_000);

  it('holds a publish made while the broker is down until it is back, and rejects clearly once the wait runs out', async () => {
    const patient = await AmqpBus.connect(url, { onEvent: () => undefined, reconnectDelayMs: { initial: 50, max: 300 }, publishTimeoutMs: 60_000 });
    const impatient = await AmqpBus.connect(url, { onEvent: () => undefined, reconnectDelayMs: { initial: 50, max: 300 }, publishTimeoutMs: 500 });
    try {
      const queue = `vmledger-test.${randomUUID()}`;
      await patient.declareQueue(queue);
      await broker('ctl', PORT, 'stop_app');
      let started = false;
      try {
        const held = { id: randomUUID(), type: 'Held', body: null };
        const waiting = patient.publish(queue, held);
        await expect(impatient.publish(queue, { id: randomUUID(), type: 'GivenUp', body: null })).rejects.toBeInstanceOf(
          BusUnavailableError,
        );
        await broker('ctl', PORT, 'start_app');
        started = true;
        await waiting;
        const seen: string[] = [];
        await patient.consume(queue, async (delivery) => {
          seen.push(delivery.message.id);
          await delivery.ack();
        });
        await waitUntil(() => seen.length >= 1, () => 'held publish not delivered');
        await new Promise((resolve) => setTimeout(resolve, 200));
        expect(seen).toEqual([held.id]);
      } finally {
        if (!started) await broker('ctl', PORT, 'start_app');
      }
    } finally {
      await patient.close();
      await impatient.close();
    }
  }, 120_000);
});

async function waitUntil(condition: () => boolean, message: () => string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out: ${message()}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
