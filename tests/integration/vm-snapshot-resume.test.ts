// A VM snapshot's usage is written once across crashes and redeliveries: a process that died between
// the snapshot's own stream recording the host's answer and the instance recording it leaves the job
// to the next process, which finishes it; the host's answer delivered again, and the job advanced
// again, add nothing. An unmanage that deletes snapshots first is taken up again as an unmanage.
import { newCommandKey } from '../../adapters/hypervisor/command-signing.js';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { MemoryBus } from '../../adapters/bus/memory-bus.js';
import { systemClock } from '../../adapters/clock/system-clock.js';
import { SqliteEventStore } from '../../adapters/eventstore/sqlite/sqlite-event-store.js';
import { ORCHESTRATOR_REPLIES, toBusMessage } from '../../adapters/hypervisor/protocol.js';
import { SimulatedCloud } from '../../adapters/hypervisor/simulator/index.js';
import { MemorySecretStore } from '../../adapters/secrets/memory-secret-store.js';
import { bootstrapRootAdmin } from '../../api/control-plane/accounts.js';
import { seedDemo } from '../../api/control-plane/demo.js';
import type { Caller, JobView } from '../../api/control-plane/port.js';
import { startStack, type Stack } from '../../api/stack.js';
import { instanceDecider, instanceStream } from '../../domain/instance/index.js';
import { commandIdOf, jobDecider, jobStream } from '../../domain/job/index.js';
import { vmSnapshotDecider, vmSnapshotStream } from '../../domain/vmsnapshot/index.js';

const dirs: string[] = [];
const stacks: Stack[] = [];
afterEach(async () => {
  for (const stack of stacks.splice(0)) await stack.stop();
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function start(store: SqliteEventStore, dir: string, bus = new MemoryBus()): Promise<Stack> {
  return startStack({
    store,
    readModelDirectory: dir,
    bus,
    clock: systemClock,
    secrets: new MemorySecretStore(),
    commandKeys: { current: newCommandKey() },
    simulator: new SimulatedCloud(),
    timeouts: { agentMs: 5_000, gracefulStopMs: 300 },
    agentIntervals: { heartbeatMs: 600_000, powerSyncMs: 600_000 },
    onError: () => undefined,
  });
}

async function until<T>(what: string, probe: () => T | undefined): Promise<T> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    const value = probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const finished = (stack: Stack, admin: Caller, jobId: string) =>
  until<JobView>('the job to end', () => {
    const job = stack.controlPlane.asyncJob(admin, jobId);
    return job && job.status !== 'PENDING' ? job : undefined;
  });

describe('VM snapshot usage across a crash and redeliveries', () => {
  it('is written once when a restart finishes a job the dead process left between the snapshot and the instance', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vmledger-snapshot-resume-'));
    dirs.push(dir);
    const store = SqliteEventStore.open(join(dir, 'events.sqlite'), { pollIntervalMs: 10 });
    let stack = await start(store, dir);
    stacks.push(stack);
    const { caller: admin } = await bootstrapRootAdmin(stack.context, 'snapshot-resume-admin-key-0123');
    const demo = await seedDemo(stack.context, admin, { secrets: new MemorySecretStore(), onHostAdded: stack.hostAdded });
    const deployed = await finished(stack, admin, (await stack.controlPlane.deployVirtualMachine(admin, { zoneId: demo.zoneId, serviceOfferingId: demo.serviceOfferingIds.small, templateId: demo.templateId, name: 'resumed' })).id);
    const vm = deployed.result!;
    await stack.stop();
    stacks.splice(0);

    // What a process killed right after the snapshot's stream recorded the host's answer leaves: the
    // request, the job, the snapshot Ready with its size, and nothing on the instance yet.
    const commander = stack.context.commander;
    const jobId = 'job-snapshot-resumed';
    const vmSnapshotId = 'snap-resumed';
    const at = new Date().toISOString();
    const envelope = { actor: { kind: 'system' as const, component: 'test' }, correlationId: jobId, occurredAt: at };
    await commander.execute(instanceStream(vm.id), instanceDecider, {
      type: 'RequestVMSnapshot', instanceId: vm.id, at, caller: admin, jobId, vmSnapshotId, displayName: 'resumed', description: null, memory: true, quiesce: false, max: 10,
    }, envelope);
    await commander.execute(jobStream(jobId), jobDecider, { type: 'OpenJob', jobId, cmd: 'createVMSnapshot', instanceId: vm.id, accountId: vm.accountId, at, resource: { type: 'VMSnapshot', id: vmSnapshotId } }, envelope);
    const requested = (await store.readStream(instanceStream(vm.id))).map((e) => e.data as { name?: string }).find((d) => d.name?.includes('_VS_'))!;
    await commander.execute(vmSnapshotStream(vmSnapshotId), vmSnapshotDecider, {
      type: 'AllocateVMSnapshot', vmSnapshotId, jobId, at,
      definition: {
        vmSnapshotId, name: requested.name!, displayName: 'resumed', description: null, instanceId: vm.id, accountId: vm.accountId, domainId: vm.domainId, zoneId: vm.zoneId,
        type: 'DiskAndMemory', quiesce: false, parentId: null, serviceOffering: { id: vm.serviceOfferingId, name: 'Small Instance', cpuNumber: 1, cpuSpeed: 500, memory: 512, customized: false, minCpuNumber: null, maxCpuNumber: null, minMemory: null, maxMemory: null, dynamicScalingEnabled: true, hostTags: [], offerHa: false },
        compute: { cpuNumber: vm.cpuNumber, cpuSpeed: vm.cpuSpeed, memory: vm.memory },
      },
    }, envelope);
    await commander.execute(vmSnapshotStream(vmSnapshotId), vmSnapshotDecider, { type: 'StartVMSnapshotTask', vmSnapshotId, jobId, at, task: 'create' }, envelope);
    const command = { type: 'CreateDomainSnapshot' as const, commandId: commandIdOf(jobId, 0), hostId: vm.hostId!, instanceId: vm.id, instanceName: vm.instanceName!, snapshotName: requested.name!, kind: 'DiskAndMemory' as const, quiesce: false, description: null };
    await commander.execute(jobStream(jobId), jobDecider, { type: 'IssueAgentCommand', phase: `vmsnapshot:${vmSnapshotId}`, command, timeoutAt: new Date(Date.now() + 60_000).toISOString(), at }, envelope);
    const reply = { type: 'AgentReply' as const, commandId: command.commandId, hostId: vm.hostId!, command: 'CreateDomainSnapshot' as const, outcome: 'succeeded' as const, powerState: 'running' as const, snapshot: { name: requested.name!, sizeBytes: 123_456 } };
    await commander.execute(jobStream(jobId), jobDecider, { type: 'RecordAgentReply', reply, at }, envelope);
    await commander.execute(vmSnapshotStream(vmSnapshotId), vmSnapshotDecider, { type: 'RecordVMSnapshotTaskSucceeded', vmSnapshotId, jobId, at, sizeBytes: 123_456 }, envelope);

    // The restart finishes the job; the host's reply arrives again, and the job is advanced again.
    const bus = new MemoryBus();
    stack = await start(store, dir, bus);
    stacks.push(stack);
    const job = await finished(stack, admin, jobId);
    expect(job.status, JSON.stringify(job.error)).toBe('SUCCEEDED');
    await bus.publish(ORCHESTRATOR_REPLIES, toBusMessage(`redelivered-${command.commandId}`, reply));
    await stack.context.runner.advance(jobId);
    await stack.context.runner.idle();

    const usage = (await store.readStream(instanceStream(vm.id))).filter((e) => e.type.startsWith('usage.VMSNAPSHOT.'));
    expect(usage.map((e) => e.type)).toEqual(['usage.VMSNAPSHOT.CREATE', 'usage.VMSNAPSHOT.ON_PRIMARY']);
    expect((usage[1]!.data as { size: number }).size).toBe(123_456);
    const listed = stack.controlPlane.vmSnapshots(admin, { id: vmSnapshotId });
    expect(listed.nodes[0]).toMatchObject({ state: 'Ready', current: true });
  });

  it('resumes an unmanage whose process died before opening its job as an unmanage: the snapshots, then the domain', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vmledger-unmanage-resume-'));
    dirs.push(dir);
    const store = SqliteEventStore.open(join(dir, 'events.sqlite'), { pollIntervalMs: 10 });
    let stack = await start(store, dir);
    stacks.push(stack);
    const { caller: admin } = await bootstrapRootAdmin(stack.context, 'unmanage-resume-admin-key-0123');
    const demo = await seedDemo(stack.context, admin, { secrets: new MemorySecretStore(), onHostAdded: stack.hostAdded });
    const deployed = await finished(stack, admin, (await stack.controlPlane.deployVirtualMachine(admin, { zoneId: demo.zoneId, serviceOfferingId: demo.serviceOfferingIds.small, templateId: demo.templateId, name: 'unmanaged-later' })).id);
    const vm = deployed.result!;
    const snapped = await finished(stack, admin, (await stack.controlPlane.createVMSnapshot(admin, { virtualMachineId: vm.id, snapshotMemory: true })).id);
    expect(snapped.status, JSON.stringify(snapped.error)).toBe('SUCCEEDED');
    await stack.stop();
    stacks.splice(0);

    // What a process killed between the instance recording the unmanage and the job being opened leaves.
    const jobId = randomUUID();
    const at = new Date().toISOString();
    const envelope = { actor: { kind: 'system' as const, component: 'test' }, correlationId: jobId, occurredAt: at };
    await stack.context.commander.execute(instanceStream(vm.id), instanceDecider, { type: 'UnmanageInstance', instanceId: vm.id, at, caller: admin, jobId, preserveNics: false }, envelope);

    stack = await start(store, dir);
    stacks.push(stack);
    const job = await finished(stack, admin, jobId);
    expect(job.cmd).toBe('unmanageVirtualMachine');
    expect(job.status, JSON.stringify(job.error)).toBe('SUCCEEDED');
    const usage = (await store.readStream(instanceStream(vm.id))).filter((e) => e.type.startsWith('usage.')).map((e) => e.type);
    expect(usage.filter((type) => type === 'usage.VMSNAPSHOT.DELETE')).toHaveLength(1);
    expect(usage.at(-1)).toBe('usage.VM.DESTROY');
    expect(stack.controlPlane.vmSnapshots(admin, { id: snapped.resourceId }).nodes).toEqual([]);
  });
});
