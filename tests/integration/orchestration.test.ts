// The orchestration paths the end-to-end tests do not reach through the API alone: a guest that
// powers itself off, a guest that ignores ACPI, migration across clusters, and the expunge sweeper.
import { newCommandKey } from '../../adapters/hypervisor/command-signing.js';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { MemoryBus } from '../../adapters/bus/memory-bus.js';
import { ManualClock } from '../../adapters/clock/manual-clock.js';
import type { Clock } from '../../adapters/clock/port.js';
import { systemClock } from '../../adapters/clock/system-clock.js';
import { SqliteEventStore } from '../../adapters/eventstore/sqlite/sqlite-event-store.js';
import { ORCHESTRATOR_REPORTS, toBusMessage } from '../../adapters/hypervisor/protocol.js';
import { SimulatedCloud } from '../../adapters/hypervisor/simulator/index.js';
import { MemorySecretStore } from '../../adapters/secrets/memory-secret-store.js';
import { bootstrapRootAdmin } from '../../api/control-plane/accounts.js';
import { seedDemo, type DemoZone } from '../../api/control-plane/demo.js';
import { ApiError, type Caller, type ControlPlane, type JobView } from '../../api/control-plane/port.js';
import { startStack, type Stack } from '../../api/stack.js';
import { reserveInstanceName } from '../../sagas/instance-names.js';
import { instanceStream } from '../../domain/instance/index.js';
import { jobDecider, jobStream } from '../../domain/job/index.js';
import { networkAddressDecider, networkAddressStream } from '../../domain/network/index.js';
import { allocateNicAddress, readModelHints as hints } from '../../sagas/nic-addresses.js';
import { CLAIM_GRACE_MS, releaseOrphanedClaims } from '../../sagas/orphaned-claims.js';

interface World {
  readonly stack: Stack;
  readonly cp: ControlPlane;
  readonly admin: Caller;
  readonly demo: DemoZone;
  readonly cloud: SimulatedCloud;
  readonly store: SqliteEventStore;
  readonly bus: MemoryBus;
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

async function world(clock: Clock = systemClock): Promise<World> {
  const dir = mkdtempSync(join(tmpdir(), 'vmledger-orchestration-'));
  const store = SqliteEventStore.open(join(dir, 'events.sqlite'), { pollIntervalMs: 10 });
  const secrets = new MemorySecretStore();
  const cloud = new SimulatedCloud();
  const bus = new MemoryBus();
  const stack = await startStack({
    store,
    readModelDirectory: dir,
    bus,
    clock,
    secrets,
    commandKeys: { current: newCommandKey() },
    simulator: cloud,
    timeouts: { agentMs: 5_000, gracefulStopMs: 300 },
    agentIntervals: { heartbeatMs: 600_000, powerSyncMs: 600_000 },
    onError: () => undefined,
  });
  const { caller: admin } = await bootstrapRootAdmin(stack.context, 'orchestration-admin-key-0123');
  const demo = await seedDemo(stack.context, admin, { secrets, onHostAdded: stack.hostAdded });
  const created = { stack, cp: stack.controlPlane, admin, demo, cloud, store, bus, dir };
  worlds.push(created);
  return created;
}

async function finished(w: World, job: JobView): Promise<JobView> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    const now = w.cp.asyncJob(w.admin, job.id);
    if (now && now.status !== 'PENDING') return now;
    if (Date.now() > deadline) throw new Error(`job ${job.cmd} still pending`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function running(w: World, name: string) {
  const job = await finished(w, await w.cp.deployVirtualMachine(w.admin, { zoneId: w.demo.zoneId, serviceOfferingId: w.demo.serviceOfferingIds.small, templateId: w.demo.templateId, name }));
  expect(job.status).toBe('SUCCEEDED');
  return job.result!;
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

const usageOf = (w: World, resourceId: string) =>
  w.cp.usageEvents(w.admin, { first: 100 }).nodes.filter((u) => u.resourceId === resourceId).map((u) => u.type);

describe('orchestration', () => {
  it('a guest that powers itself off makes its instance Stopped, with its usage events, and frees its host', async () => {
    const w = await world();
    const vm = await running(w, 'self-stop');
    w.cloud.host(vm.hostId!)!.powerOffFromInside(vm.instanceName!);
    const stopped = await until('Stopped', () => {
      const now = w.cp.virtualMachine(w.admin, vm.id);
      return now?.state === 'Stopped' ? now : undefined;
    });
    expect(stopped.hostId).toBeNull();
    expect(stopped.lastHostId).toBe(vm.hostId);
    expect(usageOf(w, vm.id)).toEqual(['VM.CREATE', 'NETWORK.OFFERING.ASSIGN', 'VM.START', 'VM.STOP', 'NETWORK.OFFERING.REMOVE']);
    await until('capacity back', () => {
      const host = w.cp.hosts(w.admin, { first: 10 }).nodes.find((h) => (h as { id: string }).id === vm.hostId) as { cpuFree: number; cpuTotal: number };
      return host.cpuFree === host.cpuTotal ? host : undefined;
    });
  });

  it('stops a guest that ignores ACPI by forcing the stop after the graceful timeout', async () => {
    const w = await world();
    const vm = await running(w, 'stubborn');
    w.cloud.host(vm.hostId!)!.ignoreShutdown(vm.instanceName!);
    const job = await finished(w, await w.cp.stopVirtualMachine(w.admin, { id: vm.id }));
    expect(job.status).toBe('SUCCEEDED');
    expect(job.result?.state).toBe('Stopped');
    expect(w.cloud.host(vm.hostId!)!.powerStateOf(vm.instanceName!)).toBe('stopped');
  });

  it('refuses a live migration to a host of another cluster, appending nothing', async () => {
    const w = await world();
    const vm = await running(w, 'mover');
    const cluster = (await w.cp.addCluster(w.admin, { zoneId: w.demo.zoneId, name: 'other-cluster', hypervisor: 'KVM' })) as { id: string };
    const host = (await w.cp.addHost(w.admin, { clusterId: cluster.id, name: 'far-host', driver: 'simulator' })) as { id: string };
    const head = await w.store.headPosition();
    const error = await w.cp.migrateVirtualMachine(w.admin, { virtualMachineId: vm.id, hostId: host.id }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ApiError);
    expect((error as ApiError).code).toBe('BAD_USER_INPUT');
    expect((error as ApiError).field).toBe('hostId');
    expect(await w.store.headPosition()).toBe(head);
  });

  it('gives back the name and the addresses of a deployment whose network is full', async () => {
    const w = await world();
    // A /30 has one address left once the gateway is taken.
    const tiny = (await w.cp.createNetwork(w.admin, { zoneId: w.demo.zoneId, name: 'tiny', type: 'Shared', vlan: 900, cidr: '10.9.0.0/30' })) as { id: string };
    const deploy = (name: string, networkIds: string[]) =>
      w.cp.deployVirtualMachine(w.admin, { zoneId: w.demo.zoneId, serviceOfferingId: w.demo.serviceOfferingIds.small, templateId: w.demo.templateId, name, startVm: false, networkIds });
    expect((await finished(w, await deploy('first', [tiny.id]))).status).toBe('SUCCEEDED');
    const full = await finished(w, await deploy('second', [w.demo.networkIds.l2, tiny.id]));
    expect(full.status).toBe('FAILED');
    expect(full.error?.code).toBe('INSUFFICIENT_CAPACITY');
    expect(full.error?.errorCode).toBe(533);
    // The L2 NIC it had been given and its name are free again: the same name deploys elsewhere.
    const addresses = await w.stack.readModel.db.prepare('SELECT COUNT(*) AS n FROM infra_network_address WHERE network_id = ?').get(w.demo.networkIds.l2) as { n: number };
    expect(addresses.n).toBe(0);
    expect((await finished(w, await deploy('second', [w.demo.networkIds.l2]))).status).toBe('SUCCEEDED');
  });

  it('expunges destroyed instances once expunge.delay has passed, on the expunge.interval sweep', async () => {
    const clock = new ManualClock(new Date('2026-01-01T00:00:00.000Z'));
    const w = await world(clock);
    await w.cp.updateConfiguration(w.admin, { name: 'expunge.delay', value: '3600' });
    const deployed = await w.cp.deployVirtualMachine(w.admin, { zoneId: w.demo.zoneId, serviceOfferingId: w.demo.serviceOfferingIds.small, templateId: w.demo.templateId, name: 'doomed', startVm: false });
    const vm = (await finished(w, deployed)).result!;
    await finished(w, await w.cp.destroyVirtualMachine(w.admin, { id: vm.id }));
    expect(w.cp.virtualMachine(w.admin, vm.id)?.state).toBe('Destroyed');

    clock.advance(1_800_000);
    expect(await w.stack.orchestrator.sweep()).toBe(0);
    expect(w.cp.virtualMachine(w.admin, vm.id)?.state).toBe('Destroyed');

    // The sweep scheduled at start runs after expunge.interval (default one day), and the delay has passed by then.
    clock.advance(86_400_000);
    await until('expunged', () => (w.cp.virtualMachine(w.admin, vm.id) === undefined ? true : undefined));
    expect(w.cp.virtualMachines(w.admin, { first: 50 }).nodes.map((v) => v.id)).not.toContain(vm.id);
    // An instance that never ran has nothing on a hypervisor; its usage ended when it was destroyed.
    expect(usageOf(w, vm.id)).toEqual(['VM.CREATE', 'VM.DESTROY']);
  });

  it('marks a host Disconnected when its agent falls silent for ping.interval × ping.timeout, and Up on its next heartbeat', async () => {
    const clock = new ManualClock(new Date('2026-01-01T00:00:00.000Z'));
    const w = await world(clock);
    await w.cp.updateConfiguration(w.admin, { name: 'ping.interval', value: '10' });
    const kvm = (await w.cp.addHost(w.admin, {
      clusterId: w.demo.clusterId,
      name: 'kvm-1',
      driver: 'libvirt',
      cpuNumber: 4,
      cpuSpeed: 2000,
      memory: 8192,
      url: 'ssh://10.0.0.5',
      username: 'vmhost',
      password: 'secret',
    })) as { id: string };
    const statusOf = (id: string) =>
      (w.cp.hosts(w.admin, { first: 50, clusterId: w.demo.clusterId }).nodes as Array<{ id: string; status: string }>).find((h) => h.id === id)?.status;
    const heartbeat = () =>
      w.bus.publish(ORCHESTRATOR_REPORTS, toBusMessage(randomUUID(), { type: 'HostHeartbeat', hostId: kvm.id, at: clock.now().toISOString(), cpuNumber: 4, cpuSpeed: 2000, memory: 8192, capabilities: [] }));

    // Heard 20 s ago: within 10 s × 2.5.
    clock.advance(20_000);
    await w.stack.orchestrator.hostLiveness.check();
    expect(statusOf(kvm.id)).toBe('Up');

    // The check scheduled at start runs after the ping.interval then in force (the default 60 s).
    clock.advance(40_000);
    await until('the silent host Disconnected', () => (statusOf(kvm.id) === 'Disconnected' ? true : undefined));
    // Simulated hosts live in this process and are not watched.
    for (const id of w.demo.hostIds) expect(statusOf(id)).toBe('Up');
    // The planner no longer offers it: an explicit start there finds no capacity.
    const vm = (await finished(w, await w.cp.deployVirtualMachine(w.admin, { zoneId: w.demo.zoneId, serviceOfferingId: w.demo.serviceOfferingIds.small, templateId: w.demo.templateId, name: 'pinned', startVm: false }))).result!;
    const refused = await finished(w, await w.cp.startVirtualMachine(w.admin, { id: vm.id, hostId: kvm.id }));
    expect(refused.status).toBe('FAILED');

    await heartbeat();
    await until('the host Up again', () => (statusOf(kvm.id) === 'Up' ? true : undefined));
    clock.advance(20_000);
    expect(await w.stack.orchestrator.hostLiveness.check()).toEqual([]);
    expect(statusOf(kvm.id)).toBe('Up');
  });

  it('a restart\'s power sync reads no instance stream when the hosts confirm what the log says', async () => {
    const w = await world();
    const hostId = w.demo.hostIds[0]!;
    const deployOn = async (name: string, startVm: boolean) => {
      const job = await finished(w, await w.cp.deployVirtualMachine(w.admin, { zoneId: w.demo.zoneId, serviceOfferingId: w.demo.serviceOfferingIds.small, templateId: w.demo.templateId, name, ...(startVm ? { hostId } : {}), startVm }));
      expect(job.status).toBe('SUCCEEDED');
      return job.result!;
    };
    const [web1, web2, web3] = [await deployOn('sync-1', true), await deployOn('sync-2', true), await deployOn('sync-3', true)];
    await deployOn('sync-off', false);
    await w.stack.stop();

    // The restart, on the same log, counting the instance streams read; the simulated hosts come
    // back with the domains the log says they hold, and report them as they start.
    const read = new Set<string>();
    const readStream = w.store.readStream.bind(w.store);
    w.store.readStream = async (stream, options) => {
      if (stream.startsWith('instance-')) read.add(stream);
      return readStream(stream, options);
    };
    let reports = 0;
    const bus = new MemoryBus();
    const consume = bus.consume.bind(bus);
    bus.consume = (queue, handler, options) =>
      consume(queue, async (delivery) => {
        await handler(delivery);
        if (queue === ORCHESTRATOR_REPORTS) reports++;
      }, options);
    const cloud = new SimulatedCloud();
    const stack = await startStack({
      store: w.store,
      readModelDirectory: w.dir,
      bus,
      clock: systemClock,
      secrets: new MemorySecretStore(),
      commandKeys: { current: newCommandKey() },
      simulator: cloud,
      timeouts: { agentMs: 5_000, gracefulStopMs: 300 },
      agentIntervals: { heartbeatMs: 600_000, powerSyncMs: 600_000 },
      onError: () => undefined,
    });
    worlds.splice(worlds.indexOf(w), 1, { ...w, stack, cp: stack.controlPlane });
    // Every host sends a heartbeat and its first power sync as it starts.
    await until('every host\'s first reports handled', () => (reports >= 2 * w.demo.hostIds.length ? true : undefined));
    expect([...read]).toEqual([]);

    // A report that is news is decided: only its instance's stream is read.
    cloud.host(hostId)!.powerOffFromInside(web2.instanceName!);
    await until('the guest Stopped', () => (stack.controlPlane.virtualMachine(w.admin, web2.id)?.state === 'Stopped' ? true : undefined));
    expect([...read]).toEqual([instanceStream(web2.id)]);
    expect([web1, web3].map((vm) => stack.controlPlane.virtualMachine(w.admin, vm.id)?.state)).toEqual(['Running', 'Running']);
  });

  it('a deployment killed after opening its job, before recording its instance, is undone by its own compensation at once on restart', async () => {
    const w = await world();
    const commander = w.stack.context.commander;
    // What a process killed between opening the job and recording the instance leaves behind.
    const ghost = randomUUID();
    const jobId = randomUUID();
    const nicId = randomUUID();
    const envelope = { actor: { kind: 'system' as const, component: 'test' }, correlationId: jobId, occurredAt: new Date().toISOString() };
    await reserveInstanceName(commander, { accountId: w.admin.accountId, instanceId: ghost, name: 'half-deployed' }, envelope);
    const claims = [{ networkId: w.demo.networkIds.l2, nicId }];
    await commander.execute(jobStream(jobId), jobDecider, { type: 'OpenJob', jobId, cmd: 'deployVirtualMachine', instanceId: ghost, accountId: w.admin.accountId, at: envelope.occurredAt, claims }, envelope);
    await allocateNicAddress(commander, hints(w.store, w.stack.readModel), { networkId: w.demo.networkIds.l2, nicId, instanceId: ghost, macSeed: 7 }, envelope);

    // The restart: a new stack on the same log and read model.
    await w.stack.stop();
    const stack = await startStack({
      store: w.store,
      readModelDirectory: w.dir,
      bus: new MemoryBus(),
      clock: systemClock,
      secrets: new MemorySecretStore(),
      commandKeys: { current: newCommandKey() },
      simulator: new SimulatedCloud(),
      timeouts: { agentMs: 5_000, gracefulStopMs: 300 },
      agentIntervals: { heartbeatMs: 600_000, powerSyncMs: 600_000 },
      onError: () => undefined,
    });
    worlds.splice(worlds.indexOf(w), 1, { ...w, stack, cp: stack.controlPlane });
    const job = await until('the job ended', () => {
      const now = stack.controlPlane.asyncJob(w.admin, jobId);
      return now && now.status !== 'PENDING' ? now : undefined;
    });
    expect(job.status).toBe('FAILED');
    expect(job.error).toEqual({ code: 'INTERNAL_ERROR', errorCode: 530, message: expect.stringMatching(/interrupted before its instance was recorded/) });
    const addresses = (stack.readModel.db.prepare('SELECT COUNT(*) AS n FROM infra_network_address WHERE instance_id = ?').get(ghost) as { n: number }).n;
    expect(addresses).toBe(0);
    // The name is free at once, not after a grace period.
    const again = await stack.controlPlane.deployVirtualMachine(w.admin, { zoneId: w.demo.zoneId, serviceOfferingId: w.demo.serviceOfferingIds.small, templateId: w.demo.templateId, name: 'half-deployed', startVm: false });
    expect((await finished({ ...w, cp: stack.controlPlane }, again)).status).toBe('SUCCEEDED');
    // And the instance that never was can never be recorded now.
    const abandoned = await w.store.readStream(instanceStream(ghost));
    expect(abandoned.map((e) => e.type)).toEqual(['InstanceDeploymentAbandoned']);
  });

  it('gives back the name and addresses a deployment claimed before it died, once the grace period has passed', async () => {
    const clock = new ManualClock(new Date('2026-01-01T00:00:00.000Z'));
    const w = await world(clock);
    const commander = w.stack.context.commander;
    // What a process killed between claiming and recording leaves behind: a name and addresses, no
    // instance; one NIC recorded, another whose address was claimed but never recorded on the NIC.
    const claim = async (name: string) => {
      const ghost = randomUUID();
      const envelope = { actor: { kind: 'system' as const, component: 'test' }, correlationId: ghost, occurredAt: clock.now().toISOString() };
      const networkId = w.demo.networkIds.l2;
      await reserveInstanceName(commander, { accountId: w.admin.accountId, instanceId: ghost, name }, envelope);
      await allocateNicAddress(commander, hints(w.store, w.stack.readModel), { networkId, nicId: randomUUID(), instanceId: ghost, macSeed: 7 }, envelope);
      const address = '02:00:00:00:ab:cd';
      await commander.execute(networkAddressStream(networkId, address), networkAddressDecider, { type: 'ClaimNetworkAddress', networkId, address, nicId: randomUUID(), instanceId: ghost, networkName: 'l2' }, envelope);
      await w.stack.readModel.waitForPosition(await w.store.headPosition(), 5_000);
      return ghost;
    };
    const addressesOf = (instanceId: string) =>
      (w.stack.readModel.db.prepare('SELECT COUNT(*) AS n FROM infra_network_claim WHERE instance_id = ?').get(instanceId) as { n: number }).n;
    const deployNamed = (name: string) =>
      w.cp.deployVirtualMachine(w.admin, { zoneId: w.demo.zoneId, serviceOfferingId: w.demo.serviceOfferingIds.small, templateId: w.demo.templateId, name, startVm: false });

    const ghost = await claim('ghost');
    await expect(deployNamed('ghost')).rejects.toMatchObject({ code: 'CONFLICT' });
    // Younger than the grace period: a deployment may still be under way.
    clock.advance(CLAIM_GRACE_MS - 60_000);
    expect(await releaseOrphanedClaims({ commander, clock, readModel: () => w.stack.readModel.db })).toEqual({ names: 0, addresses: 0 });
    expect(addressesOf(ghost)).toBe(2);

    // The sweep the orchestrator scheduled at start runs after the grace period.
    clock.advance(60_001);
    await until('the address given back', () => (addressesOf(ghost) === 0 ? true : undefined));
    expect((await finished(w, await deployNamed('ghost'))).status).toBe('SUCCEEDED');
    // A real instance's claims are left alone.
    clock.advance(CLAIM_GRACE_MS * 2);
    expect(await releaseOrphanedClaims({ commander, clock, readModel: () => w.stack.readModel.db })).toEqual({ names: 0, addresses: 0 });
  });
});
