// The bus through RabbitMQ: commands an orchestrator sends to one agent and the replies it gets back,
// per second, beside amqplib's own publish→consume rate on the same broker in the same run (the limit).
// Both keep the same number of messages in flight, on durable quorum queues with publisher confirms
// and manual acks. A round trip is two messages (command and reply), so half the raw rate is par.
import { randomUUID } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import amqplib from 'amqplib';
import { AmqpBus } from '../../adapters/bus/amqp-bus.js';
import { startAgent } from '../../adapters/hypervisor/agent.js';
import { ORCHESTRATOR_REPLIES, agentQueue, toBusMessage, type AgentCommand } from '../../adapters/hypervisor/protocol.js';
import { SimulatedCloud } from '../../adapters/hypervisor/simulator/index.js';
import { perSecond, type Figure } from './report.js';

const MESSAGES = Number(process.env.BENCH_BUS_MESSAGES ?? 5_000);
const IN_FLIGHT = Number(process.env.BENCH_BUS_IN_FLIGHT ?? 64);
const BENCH_BROKER_PORT = 5675;

export async function busFigures(): Promise<Figure[]> {
  const broker = await benchBroker();
  try {
    const raw = await rawPublishConsume(broker.url);
    const roundTrip = await agentRoundTrip(broker.url);
    return [
      { name: `amqplib raw publish→consume, ${IN_FLIGHT} in flight (limit)`, value: raw, unit: 'msg/s' },
      { name: `bus round trip to one agent, ${IN_FLIGHT} in flight`, value: roundTrip, unit: 'commands/s', ratio: roundTrip / raw },
    ];
  } finally {
    broker.stop();
  }
}

/** The broker of VMLEDGER_BENCH_AMQP_URL (an idle one: the benchmark consumes orchestrator.replies), or a private one for this run. */
async function benchBroker(): Promise<{ url: string; stop: () => void }> {
  const given = process.env.VMLEDGER_BENCH_AMQP_URL;
  if (given) return { url: given, stop: () => undefined };
  const script = new URL('../testbed/rabbitmq.sh', import.meta.url).pathname;
  const out = execFileSync('bash', [script, 'start', String(BENCH_BROKER_PORT)], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  const url = out.trim().split('\n').at(-1)!;
  return { url, stop: () => execFileSync('bash', [script, 'stop', String(BENCH_BROKER_PORT)], { stdio: 'inherit' }) };
}

async function rawPublishConsume(url: string): Promise<number> {
  const connection = await amqplib.connect(url, { noDelay: true });
  try {
    const queue = `bench.raw.${randomUUID()}`;
    const publisher = await connection.createConfirmChannel();
    await publisher.assertQueue(queue, { durable: true, arguments: { 'x-queue-type': 'quorum' } });
    const consumer = await connection.createChannel();
    await consumer.prefetch(IN_FLIGHT);
    const body = Buffer.from(JSON.stringify({ type: 'StopDomain', hostId: randomUUID(), instanceName: 'i-2-14-VM', forced: true, timeoutMs: 0 }));
    let consumed = 0;
    let sent = 0;
    const started = performance.now();
    await new Promise<void>((resolve, reject) => {
      const publishOne = (): void => {
        if (sent >= MESSAGES) return;
        sent++;
        publisher.sendToQueue(queue, body, { persistent: true, messageId: randomUUID(), contentType: 'application/json' }, (error) => {
          if (error) reject(error instanceof Error ? error : new Error(String(error)));
        });
      };
      void consumer.consume(queue, (message) => {
        if (!message) return;
        JSON.parse(message.content.toString('utf8'));
        consumer.ack(message);
        consumed++;
        if (consumed === MESSAGES) resolve();
        else publishOne();
      });
      for (let i = 0; i < IN_FLIGHT; i++) publishOne();
    });
    const rate = perSecond(consumed, started);
    await publisher.deleteQueue(queue);
    return rate;
  } finally {
    await connection.close();
  }
}

async function agentRoundTrip(url: string): Promise<number> {
  const orchestratorBus = await AmqpBus.connect(url, { onEvent: () => undefined });
  const hostId = randomUUID();
  await orchestratorBus.declareQueue(agentQueue(hostId));
  const agent = await startBenchAgent(url, hostId);
  try {
    // A stop of a domain the host does not have: a full trip through agent and driver that changes
    // nothing. One domain each, as in a real workload: commands for one domain run one at a time.
    const command = (n: number): AgentCommand => ({ type: 'StopDomain', commandId: randomUUID(), hostId, instanceName: `i-2-${n}-VM`, forced: true, timeoutMs: 0 });
    let replies = 0;
    let sent = 0;
    const started = performance.now();
    await new Promise<void>((resolve, reject) => {
      const sendOne = (): void => {
        if (sent >= MESSAGES) return;
        sent++;
        const next = command(sent);
        orchestratorBus.publish(agentQueue(hostId), toBusMessage(randomUUID(), next)).catch(reject);
      };
      void orchestratorBus
        .consume(
          ORCHESTRATOR_REPLIES,
          async (delivery) => {
            await delivery.ack();
            replies++;
            if (replies === MESSAGES) resolve();
            else sendOne();
          },
          { prefetch: IN_FLIGHT },
        )
        .catch(reject);
      for (let i = 0; i < IN_FLIGHT; i++) sendOne();
    });
    return perSecond(replies, started);
  } finally {
    await agent.stop();
    await orchestratorBus.close();
  }
}

/** The agent on a connection of its own, as if it ran elsewhere; in this process, so the figure is the bus's and not the CPU two processes and the broker fight over on a small machine. */
async function startBenchAgent(url: string, hostId: string): Promise<{ stop: () => Promise<void> }> {
  const bus = await AmqpBus.connect(url, { onEvent: () => undefined });
  const driver = new SimulatedCloud().addHost(hostId, { cpuNumber: 64, cpuSpeed: 2000, memory: 262_144, startDelayMs: 0, stopDelayMs: 0, failOn: [] });
  const agent = await startAgent({
    bus,
    drivers: new Map([[hostId, driver]]),
    clock: () => new Date(),
    newId: randomUUID,
    heartbeatIntervalMs: 3_600_000,
    powerSyncIntervalMs: 3_600_000,
    prefetch: IN_FLIGHT,
  });
  return {
    async stop() {
      await agent.stop();
      await bus.close();
    },
  };
}
