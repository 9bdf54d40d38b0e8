// The bus through RabbitMQ: commands an orchestrator sends to one agent and the replies it gets back,
// per second, beside amqplib's own publish→consume rate on the same broker in the same run (the limit).
// Both keep the same number of messages in flight, on durable quorum queues with publisher confirms
// and manual acks, and they take turns, several rounds. A round trip is two messages (command and
// reply), so half the raw rate is par.
import { randomUUID } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import amqplib from 'amqplib';
import { AmqpBus } from '../../adapters/bus/amqp-bus.js';
import { startAgent } from '../../adapters/hypervisor/agent.js';
import { newCommandKey, signCommand } from '../../adapters/hypervisor/command-signing.js';
import { ORCHESTRATOR_REPLIES, agentQueue, toBusMessage, type AgentCommand } from '../../adapters/hypervisor/protocol.js';
import { SimulatedCloud } from '../../adapters/hypervisor/simulator/index.js';
import { perSecond } from './report.js';
import { interleaved, ratioFigure, spreadFigure } from './rounds.js';
import type { SuiteContext } from './runner.js';

/** The bench's orchestrator signs its commands as the real one does. */
const BENCH_KEYS = { current: newCommandKey() };

const MESSAGES = Number(process.env.BENCH_BUS_MESSAGES ?? 10_000);
const WARM_UP = 1_000;
const IN_FLIGHT = Number(process.env.BENCH_BUS_IN_FLIGHT ?? 64);
const BENCH_BROKER_PORT = 5675;

export async function busFigures({ report, rounds }: SuiteContext): Promise<void> {
  const broker = await benchBroker();
  const closes: Array<() => Promise<void>> = [];
  try {
    const raw = await rawPublishConsume(broker.url);
    closes.push(raw.close);
    const roundTrip = await agentRoundTrip(broker.url);
    closes.push(roundTrip.close);
    // Both loops stay open; their runs take turns, round by round, on the same broker.
    const rates = await interleaved(rounds, { raw: () => raw.measure(), roundTrip: () => roundTrip.measure() });
    report(spreadFigure(`amqplib raw publish→consume, ${IN_FLIGHT} in flight (limit)`, 'msg/s', rates.raw));
    report(ratioFigure(`bus round trip to one agent, ${IN_FLIGHT} in flight`, 'commands/s', rates.roundTrip, rates.raw));
  } finally {
    for (const close of closes.reverse()) await close().catch(() => undefined);
    broker.stop();
  }
}

/** A closed loop kept open between measurements: `measure()` runs MESSAGES through it once more. */
interface OpenLoop {
  measure(): Promise<number>;
  close(): Promise<void>;
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

/**
 * IN_FLIGHT messages out at all times: each one that comes back sends the next, until `count` came
 * back. Run once to warm up (JIT, channels, queues), then measured.
 */
class ClosedLoop {
  private sent = 0;
  private arrived = 0;
  private count = 0;
  private settle: { resolve: () => void; reject: (error: unknown) => void } | undefined;

  constructor(private readonly send: () => void) {}

  async run(count: number): Promise<number> {
    this.sent = 0;
    this.arrived = 0;
    this.count = count;
    const done = new Promise<void>((resolve, reject) => (this.settle = { resolve, reject }));
    const started = performance.now();
    for (let i = 0; i < Math.min(IN_FLIGHT, count); i++) this.next();
    await done;
    return perSecond(count, started);
  }

  /** One message came back. */
  back(): void {
    this.arrived++;
    if (this.arrived === this.count) this.settle?.resolve();
    else this.next();
  }

  fail(error: unknown): void {
    this.settle?.reject(error);
  }

  private next(): void {
    if (this.sent >= this.count) return;
    this.sent++;
    this.send();
  }
}

async function rawPublishConsume(url: string): Promise<OpenLoop> {
  const connection = await amqplib.connect(url, { noDelay: true });
  try {
    const queue = `bench.raw.${randomUUID()}`;
    const publisher = await connection.createConfirmChannel();
    await publisher.assertQueue(queue, { durable: true, arguments: { 'x-queue-type': 'quorum' } });
    const consumer = await connection.createChannel();
    await consumer.prefetch(IN_FLIGHT);
    const body = Buffer.from(JSON.stringify({ type: 'StopDomain', hostId: randomUUID(), instanceName: 'i-2-14-VM', forced: true, timeoutMs: 0 }));
    const loop = new ClosedLoop(() =>
      publisher.sendToQueue(queue, body, { persistent: true, messageId: randomUUID(), contentType: 'application/json' }, (error) => {
        if (error) loop.fail(error);
      }),
    );
    await consumer.consume(queue, (message) => {
      if (!message) return;
      JSON.parse(message.content.toString('utf8'));
      consumer.ack(message);
      loop.back();
    });
    await loop.run(WARM_UP);
    return {
      measure: () => loop.run(MESSAGES),
      async close() {
        await publisher.deleteQueue(queue);
        await connection.close();
      },
    };
  } catch (error) {
    await connection.close().catch(() => undefined);
    throw error;
  }
}

async function agentRoundTrip(url: string): Promise<OpenLoop> {
  const orchestratorBus = await AmqpBus.connect(url, { onEvent: () => undefined });
  let agent: { stop: () => Promise<void> } | undefined;
  const close = async () => {
    await agent?.stop();
    await orchestratorBus.close();
  };
  try {
    const hostId = randomUUID();
    await orchestratorBus.declareQueue(agentQueue(hostId));
    agent = await startBenchAgent(url, hostId);
    // A stop of a domain the host does not have: a full trip through agent and driver that changes
    // nothing. One domain each, as in a real workload: commands for one domain run one at a time.
    let n = 0;
    const loop = new ClosedLoop(() => {
      const instanceId = randomUUID();
      const command: AgentCommand = { type: 'StopDomain', commandId: `${randomUUID()}.${++n}`, hostId, instanceId, instanceName: `i-${instanceId}-${instanceId}-VM`, forced: true, timeoutMs: 0 };
      const message = signCommand(toBusMessage(randomUUID(), command), BENCH_KEYS, new Date(), new Date(Date.now() + 60_000));
      orchestratorBus.publish(agentQueue(hostId), message).catch((error: unknown) => loop.fail(error));
    });
    await orchestratorBus.consume(
      ORCHESTRATOR_REPLIES,
      async (delivery) => {
        await delivery.ack();
        loop.back();
      },
      { prefetch: IN_FLIGHT },
    );
    await loop.run(WARM_UP);
    return { measure: () => loop.run(MESSAGES), close };
  } catch (error) {
    await close().catch(() => undefined);
    throw error;
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
    commandKeys: async () => BENCH_KEYS,
    prefetch: IN_FLIGHT,
  });
  return {
    async stop() {
      await agent.stop();
      await bus.close();
    },
  };
}
