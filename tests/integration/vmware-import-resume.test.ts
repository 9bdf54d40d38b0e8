// A VMware → KVM conversion survives the death of the main job (issue 17; README: "a restart resumes
// every operation that was in flight"): a process killed while its conversion host is CONVERTING
// leaves the job PENDING with the conversion sent and unanswered. The next process takes the job
// over, sends the conversion again (the agent's conversion is idempotent: it starts again from the
// export), imports the disks and records the instance: once, with one deployment's usage, and the
// password (in the secrets port on disk, as in DATA_DIR) released at the end.
//
// The simulator runs in-process, so it dies with the process too: each process gets a cloud of its
// own whose hosts have virt-v2v, and the VMware host (not the process's) is put next to each.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { MemoryBus } from '../../adapters/bus/memory-bus.js';
import { systemClock } from '../../adapters/clock/system-clock.js';
import { SqliteEventStore } from '../../adapters/eventstore/sqlite/sqlite-event-store.js';
import { newCommandKey } from '../../adapters/hypervisor/command-signing.js';
import { DEFAULT_SIMULATOR_CAPABILITIES, SimulatedCloud, type SimulatorDriver, type SimulatorHostConfig } from '../../adapters/hypervisor/simulator/index.js';
import { FileSecretStore } from '../../adapters/secrets/file-secret-store.js';
import { bootstrapRootAdmin } from '../../api/control-plane/accounts.js';
import { seedDemo } from '../../api/control-plane/demo.js';
import type { JobView } from '../../api/control-plane/port.js';
import { startStack, type Stack } from '../../api/stack.js';
import { instanceStream } from '../../domain/instance/index.js';
import { jobStream } from '../../domain/job/index.js';

const GiB = 1024 ** 3;
const PASSWORD = 'pw-resume-0b7d4e21-leak-canary';
const VMWARE_HOST = '10.9.2.5';

/** A process's simulated hosts: each can convert, taking `conversionDelayMs` for it. */
class ConvertingCloud extends SimulatedCloud {
  constructor(private readonly conversionDelayMs: number) {
    super();
    this.addVmwareHost(VMWARE_HOST, {
      username: 'root',
      password: PASSWORD,
      guests: [{ name: 'v2vresume', running: false, cpuNumber: 2, cpuSpeed: 1000, memory: 1024, guestOs: 'debian10-64', disks: [{ capacity: 2 * GiB }], nics: [{ mac: '00:50:56:aa:cc:01', model: 'vmxnet3' }] }],
    });
  }

  override addHost(hostId: string, config: SimulatorHostConfig): SimulatorDriver {
    return super.addHost(hostId, { ...config, capabilities: [...DEFAULT_SIMULATOR_CAPABILITIES, 'instance.conversion'], conversionDelayMs: this.conversionDelayMs });
  }
}

const dirs: string[] = [];
const stacks: Stack[] = [];
afterEach(async () => {
  for (const stack of stacks.splice(0)) await stack.stop();
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

async function start(store: SqliteEventStore, dir: string, cloud: SimulatedCloud): Promise<Stack> {
  const stack = await startStack({
    store,
    readModelDirectory: dir,
    bus: new MemoryBus(),
    clock: systemClock,
    secrets: await FileSecretStore.open(dir),
    commandKeys: { current: newCommandKey() },
    simulator: cloud,
    timeouts: { agentMs: 5_000, gracefulStopMs: 300 },
    agentIntervals: { heartbeatMs: 600_000, powerSyncMs: 600_000 },
    onError: () => undefined,
  });
  stacks.push(stack);
  return stack;
}

async function until<T>(what: string, probe: () => T | undefined): Promise<T> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const value = probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('a VMware conversion across a restart of the main job', () => {
  it('given the main job killed while the guest is CONVERTING, when it starts again, then the conversion is sent again and the import completes exactly once', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vmledger-vmware-resume-'));
    dirs.push(dir);
    const store = SqliteEventStore.open(join(dir, 'events.sqlite'), { pollIntervalMs: 10 });
    // Slow enough to be killed in the middle of.
    let stack = await start(store, dir, new ConvertingCloud(4_000));
    const { caller: admin } = await bootstrapRootAdmin(stack.context, 'vmware-resume-admin-key-0123');
    const demo = await seedDemo(stack.context, admin, { secrets: await FileSecretStore.open(dir), onHostAdded: stack.hostAdded });

    const opened = await stack.controlPlane.importVm(admin, {
      zoneId: demo.zoneId,
      importSource: 'VMWARE',
      name: 'v2vresume',
      serviceOfferingId: demo.serviceOfferingIds.custom,
      templateId: demo.templateId,
      clusterId: demo.clusterId,
      host: VMWARE_HOST,
      username: 'root',
      password: PASSWORD,
      nicNetworkList: [{ nic: '0', network: demo.networkIds.l2 }],
    });
    const jobId = opened.id;
    await until('the conversion to be under way', () => (stack.controlPlane.asyncJob(admin, jobId)?.step === 'CONVERTING' ? true : undefined));
    // Killed: nothing of this process answers any more (its agents and bus go with it).
    await stack.stop();
    stacks.splice(0);
    const left = (await store.readStream(jobStream(jobId))).map((e) => e.type);
    expect(left).not.toContain('JobAgentReplied');
    expect(left).not.toContain('JobSucceeded');

    stack = await start(store, dir, new ConvertingCloud(200));
    const job = await until<JobView>('the job to end', () => {
      const seen = stack.controlPlane.asyncJob(admin, jobId);
      return seen && seen.status !== 'PENDING' ? seen : undefined;
    });
    expect(job.status, JSON.stringify(job.error)).toBe('SUCCEEDED');
    expect(job.result).toMatchObject({ name: 'v2vresume', state: 'Stopped', cpuNumber: 2, memory: 1024 });
    await stack.context.runner.advance(jobId);
    await stack.context.runner.idle();

    const events = await store.readStream(jobStream(jobId));
    const issued = events.filter((e) => e.type === 'JobAgentCommandIssued').map((e) => (e.data as { phase: string }).phase);
    expect(issued).toEqual(['convert', 'import']);
    expect(events.filter((e) => e.type === 'JobAgentCommandResent')).toHaveLength(1);
    expect(events.filter((e) => e.type === 'JobSucceeded' || e.type === 'JobFailed').map((e) => e.type)).toEqual(['JobSucceeded']);
    const instance = (await store.readStream(instanceStream(job.instanceId!))).map((e) => e.type);
    expect(instance.filter((type) => type.startsWith('usage.')).sort()).toEqual(['usage.VM.CREATE', 'usage.VOLUME.CREATE']);
    expect(instance.filter((type) => type === 'InstanceImported')).toHaveLength(1);
    // The password was kept on disk for the job across the restart, and is gone now that it ended.
    const passwordRef = (events.find((e) => e.type === 'JobAgentCommandIssued')!.data as { command: { passwordRef: string } }).command.passwordRef;
    expect(await (await FileSecretStore.open(dir)).get(passwordRef)).toBeUndefined();
  });
});
