// What comes back from the agents is read against the protocol before the orchestrator acts on it:
// a reply or report that does not fit is dead-lettered with its reason and appends nothing.
import { newCommandKey } from '../../adapters/hypervisor/command-signing.js';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { MemoryBus } from '../../adapters/bus/memory-bus.js';
import { deadLetterQueue, type BusMessage, type ConsumeOptions, type Consumer, type Delivery } from '../../adapters/bus/port.js';
import { systemClock } from '../../adapters/clock/system-clock.js';
import { SqliteEventStore } from '../../adapters/eventstore/sqlite/sqlite-event-store.js';
import { ORCHESTRATOR_REPLIES, ORCHESTRATOR_REPORTS, toBusMessage, type AgentReply } from '../../adapters/hypervisor/protocol.js';
import { SimulatedCloud } from '../../adapters/hypervisor/simulator/index.js';
import { MemorySecretStore } from '../../adapters/secrets/memory-secret-store.js';
import { bootstrapRootAdmin } from '../../api/control-plane/accounts.js';
import { seedDemo, type DemoZone } from '../../api/control-plane/demo.js';
import type { Caller, JobView } from '../../api/control-plane/port.js';
import { startStack, type Stack } from '../../api/stack.js';
import { hostStream } from '../../domain/host/index.js';
import { instanceStream } from '../../domain/instance/index.js';
import { jobDecider, jobStream } from '../../domain/job/index.js';
import { UnusableAgentMessage } from '../../sagas/agent-messages.js';

/** A memory bus that says which messages its consumers have finished with, so a test can wait for one that changes nothing. */
class ObservedBus extends MemoryBus {
  readonly handled = new Set<string>();

  override consume(queue: string, handler: (delivery: Delivery) => Promise<void>, options?: ConsumeOptions): Promise<Consumer> {
    return super.consume(
      queue,
      async (delivery) => {
        try {
          await handler(delivery);
        } finally {
          this.handled.add(delivery.message.id);
        }
      },
      options,
    );
  }
}

interface World {
  readonly stack: Stack;
  readonly admin: Caller;
  readonly demo: DemoZone;
  readonly store: SqliteEventStore;
  readonly bus: ObservedBus;
  /** What reached the queues' dead letters, in order. */
  readonly deadLetters: BusMessage[];
  /** The reasons the orchestrator gave for them. */
  readonly reasons: string[];
  readonly dir: string;
}

const worlds: World[] = [];
afterEach(async () => {
  for (const world of worlds.splice(0)) {
    await world.stack.stop();
    await world.store.close();
    rmSync(world.dir, { recursive: true, force: true });
  }
});

async function world(): Promise<World> {
  const dir = mkdtempSync(join(tmpdir(), 'vmledger-agent-messages-'));
  const store = SqliteEventStore.open(join(dir, 'events.sqlite'), { pollIntervalMs: 10 });
  const secrets = new MemorySecretStore();
  const bus = new ObservedBus();
  const reasons: string[] = [];
  const stack = await startStack({
    store,
    readModelDirectory: dir,
    bus,
    clock: systemClock,
    secrets,
    commandKeys: { current: newCommandKey() },
    simulator: new SimulatedCloud(),
    timeouts: { agentMs: 60_000, gracefulStopMs: 300 },
    agentIntervals: { heartbeatMs: 600_000, powerSyncMs: 600_000 },
    onError: (error) => {
      if (error instanceof UnusableAgentMessage) reasons.push(error.reason);
    },
  });
  const { caller: admin } = await bootstrapRootAdmin(stack.context, 'agent-messages-admin-key-0123');
  const demo = await seedDemo(stack.context, admin, { secrets, onHostAdded: stack.hostAdded });
  const deadLetters: BusMessage[] = [];
  for (const queue of [ORCHESTRATOR_REPLIES, ORCHESTRATOR_REPORTS]) {
    await bus.consume(deadLetterQueue(queue), async (delivery) => {
      deadLetters.push(delivery.message);
      await delivery.ack();
    });
  }
  const created = { stack, admin, demo, store, bus, deadLetters, reasons, dir };
  worlds.push(created);
  return created;
}

async function until<T>(what: string, probe: () => T | undefined | Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function finished(w: World, job: JobView): Promise<JobView> {
  return until(`job ${job.cmd}`, () => {
    const now = w.stack.controlPlane.asyncJob(w.admin, job.id);
    return now && now.status !== 'PENDING' ? now : undefined;
  });
}

/** A job waiting on the reply to its command `<jobId>.0`, which no agent will send. */
async function awaitingReply(w: World): Promise<{ jobId: string; commandId: string }> {
  const jobId = `job-${randomUUID()}`;
  const commandId = `${jobId}.0`;
  const envelope = { actor: { kind: 'system' as const, component: 'test' }, correlationId: jobId, occurredAt: new Date().toISOString() };
  const at = envelope.occurredAt;
  const { commander } = w.stack.context;
  await commander.execute(jobStream(jobId), jobDecider, { type: 'OpenJob', jobId, cmd: 'rebootVirtualMachine', instanceId: randomUUID(), accountId: randomUUID(), at }, envelope);
  const command = { type: 'RebootDomain' as const, commandId, hostId: 'h-absent', instanceId: randomUUID(), instanceName: 'i-2-99-VM', forced: false };
  await commander.execute(jobStream(jobId), jobDecider, { type: 'IssueAgentCommand', phase: 'reboot', command, timeoutAt: '2999-01-01T00:00:00.000Z', at }, envelope);
  return { jobId, commandId };
}

const raw = (type: string, body: Record<string, unknown>): BusMessage => ({ id: randomUUID(), type, body: body as BusMessage['body'] });

describe('agent messages the orchestrator cannot use', () => {
  it('dead-letters a malformed reply with its reason and appends nothing; a well-formed one is recorded', async () => {
    const w = await world();
    const { jobId, commandId } = await awaitingReply(w);
    const reply: AgentReply = { type: 'AgentReply', commandId, hostId: 'h-absent', command: 'RebootDomain', outcome: 'failed', powerState: 'running', error: { message: 'reboot failed' } };
    const malformed = [
      raw('AgentReply', { ...reply, error: 'boom' }),
      raw('AgentReply', { ...reply, powerState: 'exploded' }),
      raw('AgentReply', { ...reply, error: { message: 'reboot failed', detail: 42 } }),
      raw('AgentReply', { ...reply, command: 'FormatDisk' }),
      raw('PowerStateReport', { ...reply }),
    ];
    const head = await w.store.headPosition();
    for (const message of malformed) await w.bus.publish(ORCHESTRATOR_REPLIES, message);

    await until('every malformed reply dead-lettered', () => (w.deadLetters.length === malformed.length ? true : undefined));
    expect(w.deadLetters.map((m) => m.id)).toEqual(malformed.map((m) => m.id));
    expect(w.reasons).toEqual([
      'error must be an object',
      'powerState must be one of running, stopped, missing',
      'error.detail must be a string',
      'command "FormatDisk" is not an agent command',
      'message type PowerStateReport differs from body type AgentReply',
    ]);
    expect(await w.store.headPosition()).toBe(head);

    // The job did wait for a reply: the well-formed one is taken.
    await w.bus.publish(ORCHESTRATOR_REPLIES, toBusMessage(randomUUID(), reply));
    const replied = await until('the reply recorded', async () => {
      const events = await w.store.readStream(jobStream(jobId));
      return events.find((e) => e.type === 'JobAgentReplied');
    });
    expect(replied.data).toMatchObject({ reply: { commandId, outcome: 'failed', powerState: 'running', error: { message: 'reboot failed' } } });
  });

  it('dead-letters a power report whose power state is no protocol word, leaving the instance as it is', async () => {
    const w = await world();
    const cp = w.stack.controlPlane;
    const job = await finished(w, await cp.deployVirtualMachine(w.admin, { zoneId: w.demo.zoneId, serviceOfferingId: w.demo.serviceOfferingIds.small, templateId: w.demo.templateId, name: 'reported' }));
    const vm = job.result!;
    expect(vm.state).toBe('Running');
    const head = await w.store.headPosition();

    const at = new Date().toISOString();
    const malformed = [
      raw('PowerStateReport', { type: 'PowerStateReport', hostId: vm.hostId, at, domains: [{ instanceName: vm.instanceName, powerState: 'off' }] }),
      raw('HostHeartbeat', { type: 'HostHeartbeat', hostId: vm.hostId, at, cpuNumber: 'many', cpuSpeed: 2000, memory: 8192 }),
      raw('AgentReply', { type: 'AgentReply' }),
    ];
    for (const message of malformed) await w.bus.publish(ORCHESTRATOR_REPORTS, message);

    await until('every malformed report dead-lettered', () => (w.deadLetters.length === malformed.length ? true : undefined));
    expect(w.reasons).toEqual([
      'domains[0].powerState must be one of running, stopped, missing',
      'cpuNumber must be an integer ≥ 0',
      'type "AgentReply" is not an agent report',
    ]);
    expect(await w.store.headPosition()).toBe(head);
    expect(cp.virtualMachine(w.admin, vm.id)?.state).toBe('Running');
  });
});

describe('power reports overtaken by a job', () => {
  // Replies and reports travel on different queues: a report the agent took while the instance still
  // ran can reach the orchestrator after the stop's reply has settled the instance.
  it('a running report taken before a stop, processed after it, leaves the instance Stopped and bills no start', async () => {
    const w = await world();
    const cp = w.stack.controlPlane;
    const deployed = await finished(w, await cp.deployVirtualMachine(w.admin, { zoneId: w.demo.zoneId, serviceOfferingId: w.demo.serviceOfferingIds.small, templateId: w.demo.templateId, name: 'overtaken' }));
    const vm = deployed.result!;
    const report = (at: string): BusMessage =>
      toBusMessage(randomUUID(), { type: 'PowerStateReport', hostId: vm.hostId!, at, domains: [{ instanceName: vm.instanceName!, powerState: 'running' }] });
    const handled = async (message: BusMessage) => {
      await w.bus.publish(ORCHESTRATOR_REPORTS, message);
      await until(`report ${message.id} handled`, () => (w.bus.handled.has(message.id) ? true : undefined));
    };
    const takenWhileRunning = report(new Date().toISOString());

    const stopped = await finished(w, await cp.stopVirtualMachine(w.admin, { id: vm.id }));
    expect(stopped.status).toBe('SUCCEEDED');
    expect(cp.virtualMachine(w.admin, vm.id)?.state).toBe('Stopped');
    const history = (await w.store.readStream(instanceStream(vm.id))).length;

    await handled(takenWhileRunning);
    expect(await w.store.readStream(instanceStream(vm.id))).toHaveLength(history);
    expect(cp.virtualMachine(w.admin, vm.id)?.state).toBe('Stopped');

    // A report taken after the stop is news: somebody started the domain on the host.
    await handled(report(new Date().toISOString()));
    await until('the instance Running', () => (cp.virtualMachine(w.admin, vm.id)?.state === 'Running' ? true : undefined));
    const appended = (await w.store.readStream(instanceStream(vm.id))).slice(history).map((e) => e.type);
    expect(appended).toContain('usage.VM.START');
    expect(w.deadLetters).toEqual([]);
  });
});

/** What the hosts listing shows a host can do. */
function capabilitiesIn(w: World, hostId: string): readonly string[] | undefined {
  const hosts = w.stack.controlPlane.hosts(w.admin, { first: 50 }).nodes as Array<{ id: string; capabilities: readonly string[] }>;
  return hosts.find((host) => host.id === hostId)?.capabilities;
}

describe('host capabilities from heartbeats', () => {
  const heartbeat = (hostId: string, capabilities: readonly string[]): BusMessage =>
    raw('HostHeartbeat', { type: 'HostHeartbeat', hostId, at: new Date().toISOString(), cpuNumber: 4, cpuSpeed: 2000, memory: 8192, capabilities: [...capabilities] });

  it('records what a host can do on its first heartbeat and again only when it changes', async () => {
    const w = await world();
    const cp = w.stack.controlPlane;
    const kvm = (await cp.addHost(w.admin, { clusterId: w.demo.clusterId, name: 'kvm-caps', driver: 'libvirt', cpuNumber: 4, cpuSpeed: 2000, memory: 8192, url: 'ssh://10.0.0.5', username: 'vmhost', password: 'secret' })) as { id: string };
    const capabilitiesOf = (id: string) => capabilitiesIn(w, id);
    const reports = async () => (await w.store.readStream(hostStream(kvm.id))).filter((event) => event.type === 'HostCapabilitiesReported').map((event) => event.data);
    // A host no agent has spoken for yet can do nothing as far as the orchestrator knows.
    expect(capabilitiesOf(kvm.id)).toEqual([]);

    // The same list three times (in another order once, with a capability of a newer agent once),
    // one after another as an agent sends them.
    const libvirt = ['snapshot.memory', 'snapshot.disk.stopped'];
    const handled = async (message: BusMessage) => {
      await w.bus.publish(ORCHESTRATOR_REPORTS, message);
      await until(`heartbeat ${message.id} handled`, () => (w.bus.handled.has(message.id) ? true : undefined));
    };
    await handled(heartbeat(kvm.id, libvirt));
    await until('the capabilities recorded', () => (capabilitiesOf(kvm.id)?.length === 2 ? true : undefined));
    const head = await w.store.headPosition();
    for (const list of [[...libvirt].reverse(), [...libvirt, 'gpu.passthrough'], libvirt]) await handled(heartbeat(kvm.id, list));
    // A heartbeat of a host this log does not know records nothing either.
    await handled(heartbeat(randomUUID(), libvirt));
    expect(await w.store.headPosition()).toBe(head);
    expect(capabilitiesOf(kvm.id)).toEqual(libvirt);
    expect(await reports()).toEqual([{ hostId: kvm.id, capabilities: libvirt }]);

    // virt-v2v installed on the host.
    await handled(heartbeat(kvm.id, [...libvirt, 'instance.conversion']));
    await until('the new capability recorded', () => (capabilitiesOf(kvm.id)?.length === 3 ? true : undefined));
    expect(capabilitiesOf(kvm.id)).toEqual([...libvirt, 'instance.conversion']);
    expect(await reports()).toHaveLength(2);
    expect(w.deadLetters).toEqual([]);
  });

  it('records a simulated host\'s capabilities when it is added, so its heartbeats append nothing', async () => {
    const w = await world();
    for (const hostId of w.demo.hostIds) {
      expect(capabilitiesIn(w, hostId)).toEqual(['snapshot.memory', 'snapshot.disk.stopped', 'snapshot.disk.running']);
    }
  });
});
