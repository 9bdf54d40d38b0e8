// vmledger on real hypervisors: the main job and one `vmledger agent` per host, as separate processes,
// over a real RabbitMQ broker, driving the two libvirt/QEMU hosts of tests/testbed/libvirt.sh that
// run real guests. What the tests check on a host they check with virsh inside that host, not through
// vmledger. The guests boot under TCG on a small machine, so waits are long and the suite runs in order.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  DEPLOY,
  brokerCtl,
  createCloud,
  domainState,
  guestAction,
  hostCapacity,
  job,
  onHost,
  readTestbed,
  scratchDir,
  seedTemplates,
  startAgentProcess,
  startBroker,
  startMainJob,
  stopBroker,
  testbedFile,
  until,
  usageOf,
  vm,
  writeAgentConfigs,
  type Cloud,
  type MainJob,
  type Process,
  type Testbed,
} from './libvirt/world.js';

const BROKER_PORT = 5676;
const file = testbedFile();

describe.skipIf(file === undefined)('vmledger on libvirt hosts over RabbitMQ (needs the libvirt testbed: tests/testbed/libvirt.sh start, or VMLEDGER_TEST_LIBVIRT; see README)', () => {
  let testbed: Testbed;
  let busUrl: string;
  let scratch: ReturnType<typeof scratchDir>;
  let main: MainJob;
  let cloud: Cloud;
  let agentConfigs: Map<string, string>;
  const agents = new Map<string, Process>();
  const [A, B] = ['kvm-a', 'kvm-b'] as const;
  const hostId = (name: string): string => cloud.hostIds.get(name)!;

  const mainJob = (): Promise<MainJob> =>
    startMainJob(join(scratch.dir, 'data'), busUrl, { VMLEDGER_AGENT_TIMEOUT_MS: '45000', VMLEDGER_GRACEFUL_STOP_MS: '20000' });

  beforeAll(async () => {
    testbed = readTestbed(file!);
    scratch = scratchDir();
    busUrl = await startBroker(BROKER_PORT);
    main = await mainJob();
    cloud = await createCloud(main.client, testbed);
    await main.client.request(`mutation { updateConfiguration(name: "ping.interval", value: "2") { name } }`);
    await seedTemplates(testbed, cloud);
    agentConfigs = writeAgentConfigs(testbed, cloud, busUrl, scratch.dir, join(scratch.dir, 'data'));
    for (const host of testbed.hosts) agents.set(host.name, await startAgentProcess(agentConfigs.get(host.name)!));
  }, 240_000);

  afterAll(async () => {
    for (const agent of agents.values()) await agent.kill('SIGKILL');
    await main?.kill('SIGKILL');
    // Whatever a failed test left on the hosts goes with the instances' names.
    for (const host of testbed?.hosts ?? []) {
      const listed = await onHost(host.name, ['virsh', '-c', 'qemu:///system', 'list', '--all', '--name']);
      for (const name of listed.stdout.split('\n').map((line) => line.trim()).filter((line) => line.startsWith('i-'))) {
        await onHost(host.name, ['virsh', '-c', 'qemu:///system', 'destroy', name]);
        await onHost(host.name, ['virsh', '-c', 'qemu:///system', 'undefine', name]);
      }
    }
    await stopBroker(BROKER_PORT).catch(() => undefined);
    scratch?.remove();
  }, 120_000);

  const deploy = async (name: string, options: { host?: string; template?: 'guest' | 'blank'; startVm?: boolean } = {}): Promise<string> => {
    const done = await job(main.client, DEPLOY, {
      zoneId: cloud.zoneId,
      serviceOfferingId: cloud.offeringId,
      templateId: options.template === 'blank' ? cloud.blankTemplateId : cloud.guestTemplateId,
      networkIds: [cloud.networkId],
      name,
      hostId: options.host ? hostId(options.host) : null,
      startVm: options.startVm ?? true,
    });
    expect(done.error).toBeNull();
    expect(done.status).toBe('SUCCEEDED');
    return done.instanceId!;
  };
  const guestReady = (host: string, domain: string): Promise<true> =>
    until(`the guest ${domain} to boot on ${host}`, async () => ((await guestAction(host, testbed.guest.readyCheck, domain)) === 0 ? true : undefined), 120_000);
  const stateOn = async (host: string, domain: string): Promise<string> => domainState(host, domain);
  // QEMU starts a domain paused and resumes it (so does a migration's target): a moment later it runs.
  const runningOn = (host: string, domain: string): Promise<true> =>
    until(`${domain} running on ${host}`, async () => ((await stateOn(host, domain)) === 'running' ? true : undefined), 15_000);
  /** The testbed's hosts share their storage (as a cluster's hosts do): a disk stays where it was created. */
  const diskFiles = (names: readonly string[]): string[] =>
    names.filter((name) => testbed.hosts.some((host) => existsSync(join(host.storagePath, name))));

  let web: { id: string; instanceName: string };

  it('deploys an instance onto a libvirt host, where the domain really runs', async () => {
    const id = await deploy('web', { host: A });
    const instance = (await vm(main.client, id))!;
    expect(instance).toMatchObject({ state: 'Running', hostId: hostId(A) });
    web = { id, instanceName: instance.instanceName };
    await runningOn(A, web.instanceName);
    expect(await stateOn(B, web.instanceName)).toBe('missing');
    await guestReady(A, web.instanceName);
  }, 180_000);

  it('stops it: the guest shuts down on ACPI and the instance is Stopped', async () => {
    const done = await job(main.client, `mutation($id: ID!) { stopVirtualMachine(id: $id) { id } }`, { id: web.id });
    expect(done.status).toBe('SUCCEEDED');
    expect((await vm(main.client, web.id))!.state).toBe('Stopped');
    expect(await stateOn(A, web.instanceName)).toBe('shut off');
  }, 120_000);

  it('starts it again', async () => {
    expect((await job(main.client, `mutation($id: ID!) { startVirtualMachine(id: $id) { id } }`, { id: web.id })).status).toBe('SUCCEEDED');
    await runningOn(A, web.instanceName);
    await guestReady(A, web.instanceName);
  }, 240_000);

  it('migrates it live to the other host, where alone it runs', async () => {
    const done = await job(main.client, `mutation($id: ID!, $hostId: ID) { migrateVirtualMachine(virtualMachineId: $id, hostId: $hostId) { id } }`, { id: web.id, hostId: hostId(B) });
    expect(done.error).toBeNull();
    expect((await vm(main.client, web.id))!).toMatchObject({ state: 'Running', hostId: hostId(B) });
    await runningOn(B, web.instanceName);
    expect(await stateOn(A, web.instanceName)).toBe('missing');
    expect((await hostCapacity(main.client, hostId(A))).reservationCount).toBe(0);
    expect((await hostCapacity(main.client, hostId(B))).reservationCount).toBe(1);
  }, 180_000);

  it('sees the guest power itself off: the instance is Stopped with VM.STOP', async () => {
    await guestReady(B, web.instanceName);
    const before = await usageOf(main.client, web.id);
    expect(await guestAction(B, testbed.guest.powerOffFromInside, web.instanceName)).toBe(0);
    await until('the instance Stopped by its guest', async () => ((await vm(main.client, web.id))!.state === 'Stopped' ? true : undefined));
    expect(await stateOn(B, web.instanceName)).toBe('shut off');
    expect((await usageOf(main.client, web.id)).slice(before.length)).toEqual(['VM.STOP', 'NETWORK.OFFERING.REMOVE']);
    await until('its capacity given back', async () => ((await hostCapacity(main.client, hostId(B))).reservationCount === 0 ? true : undefined));
  }, 180_000);

  // After the migration: a rebooting guest (libvirt resets it once it has shut down) migrated in
  // the middle of that can be left halted on the target, and the testbed cannot tell when a
  // reboot has finished. Nothing runs on this guest after its reboot but its destruction.
  it('starts it on the host it last ran on, and reboots it', async () => {
    expect((await job(main.client, `mutation($id: ID!) { startVirtualMachine(id: $id) { id } }`, { id: web.id })).status).toBe('SUCCEEDED');
    expect((await vm(main.client, web.id))!.hostId).toBe(hostId(B));
    await runningOn(B, web.instanceName);
    await guestReady(B, web.instanceName);
    expect((await job(main.client, `mutation($id: ID!) { rebootVirtualMachine(id: $id) { id } }`, { id: web.id })).status).toBe('SUCCEEDED');
    expect((await vm(main.client, web.id))!.state).toBe('Running');
    await runningOn(B, web.instanceName);
  }, 240_000);

  const snapshotNames = async (host: string, domain: string): Promise<string[]> => {
    const listed = await onHost(host, ['virsh', '-c', 'qemu:///system', 'snapshot-list', domain, '--name']);
    return listed.stdout.split('\n').map((line) => line.trim()).filter(Boolean);
  };
  let snapshot: { id: string; name: string };

  it('snapshots it with its memory through GraphQL, refuses a disk-only one the host cannot revert, and reverts to it running', async () => {
    // The agent reports what its host can do; libvirt 9.0 cannot revert a disk-only snapshot of a running domain.
    await until('kvm-b to report its capabilities', async () => {
      const { hosts } = await main.client.request<{ hosts: { nodes: Array<{ id: string; capabilities: string[] }> } }>(`{ hosts(first: 50) { nodes { id capabilities } } }`);
      const caps = hosts.nodes.find((host) => host.id === hostId(B))?.capabilities ?? [];
      return caps.includes('snapshot.memory') ? caps : undefined;
    });
    const refused = await main.client
      .request(`mutation($id: ID!) { createVMSnapshot(virtualMachineId: $id, name: "disk-only") { id } }`, { id: web.id })
      .then(() => undefined, (error: { response?: { errors?: Array<{ message: string; extensions?: { code?: string } }> } }) => error.response?.errors?.[0]);
    expect(refused?.extensions?.code).toBe('INVALID_STATE');
    expect(refused?.message).toMatch(/snapshotMemory/);

    const created = await job(main.client, `mutation($id: ID!) { createVMSnapshot(virtualMachineId: $id, name: "before", snapshotMemory: true) { id } }`, { id: web.id });
    expect(created.error).toBeNull();
    const { vmSnapshots } = await main.client.request<{ vmSnapshots: { nodes: Array<{ id: string; name: string; displayName: string; type: string; state: string; current: boolean }> } }>(
      `query($id: ID) { vmSnapshots(virtualMachineId: $id) { nodes { id name displayName type state current } } }`,
      { id: web.id },
    );
    expect(vmSnapshots.nodes).toEqual([expect.objectContaining({ displayName: 'before', type: 'DiskAndMemory', state: 'Ready', current: true })]);
    snapshot = { id: vmSnapshots.nodes[0]!.id, name: vmSnapshots.nodes[0]!.name };
    expect(await snapshotNames(B, web.instanceName)).toEqual([snapshot.name]);

    const reverted = await job(main.client, `mutation($id: ID!) { revertToVMSnapshot(vmSnapshotId: $id) { id } }`, { id: snapshot.id });
    expect(reverted.error).toBeNull();
    expect((await vm(main.client, web.id))!.state).toBe('Running');
    await runningOn(B, web.instanceName);
  }, 240_000);

  it('destroys it with expunge: domain and disks are gone from the host', async () => {
    const volumes = (await main.client.request<{ virtualMachine: { volumes: Array<{ id: string }> } }>(`query($id: ID!) { virtualMachine(id: $id) { volumes { id } } }`, { id: web.id }))
      .virtualMachine.volumes.map((volume) => `${volume.id}.qcow2`);
    expect(diskFiles(volumes)).toEqual(volumes);
    const done = await job(main.client, `mutation($id: ID!) { destroyVirtualMachine(id: $id, expunge: true) { id } }`, { id: web.id });
    expect(done.status).toBe('SUCCEEDED');
    await until('the instance expunged', async () => ((await vm(main.client, web.id)) === null ? true : undefined));
    await until('the domain gone', async () => ((await stateOn(B, web.instanceName)) === 'missing' ? true : undefined));
    expect(diskFiles(volumes)).toEqual([]);
    // Its snapshot was deleted first, with its usage closed before the instance's (CloudStack bug #3212).
    const usage = await usageOf(main.client, web.id);
    const snapshotUsage = usage.filter((type) => type.startsWith('VMSNAPSHOT.'));
    expect(snapshotUsage).toEqual(['VMSNAPSHOT.CREATE', 'VMSNAPSHOT.ON_PRIMARY', 'VMSNAPSHOT.DELETE', 'VMSNAPSHOT.OFF_PRIMARY']);
    expect(usage.lastIndexOf('VMSNAPSHOT.OFF_PRIMARY')).toBeLessThan(usage.indexOf('VM.DESTROY'));
  }, 180_000);

  it('fails the jobs of a host whose agent is gone after their timeout, clearly, and leaks no capacity', async () => {
    const id = await deploy('orphan', { template: 'blank', startVm: false });
    await agents.get(B)!.kill('SIGKILL');
    const started = Date.now();
    const done = await job(main.client, `mutation($id: ID!, $hostId: ID) { startVirtualMachine(id: $id, hostId: $hostId) { id } }`, { id, hostId: hostId(B) }, 120_000);
    expect(done.status).toBe('FAILED');
    expect(done.error!.message).toMatch(new RegExp(`host ${hostId(B)}.*(did not answer|Disconnected)`));
    expect(Date.now() - started).toBeLessThan(110_000);
    expect((await vm(main.client, id))!.state).toBe('Stopped');
    const capacity = await hostCapacity(main.client, hostId(B));
    expect([capacity.reservationCount, capacity.cpuAllocated, capacity.memoryAllocated]).toEqual([0, 0, 0]);
    // A silent agent makes its host Disconnected (ping.interval 2 s × 2.5); its return makes it Up.
    await until('the silent host Disconnected', async () => ((await hostCapacity(main.client, hostId(B))).status === 'Disconnected' ? true : undefined), 30_000);
    agents.set(B, await startAgentProcess(agentConfigs.get(B)!));
    await until('the host Up again', async () => ((await hostCapacity(main.client, hostId(B))).status === 'Up' ? true : undefined), 30_000);
    // The start queued for it while it was gone still reaches the agent (its signature is valid for
    // the job's timeout and a clock skew): the template is missing there, so the domain it defines for
    // the start is undefined again. Nothing may be left behind once that is done.
    const instanceName = (await vm(main.client, id))!.instanceName;
    await until('no domain left behind', async () => ((await stateOn(B, instanceName)) === 'missing' ? true : undefined), 30_000);
    expect((await job(main.client, `mutation($id: ID!) { destroyVirtualMachine(id: $id, expunge: true) { id } }`, { id })).status).toBe('SUCCEEDED');
  }, 240_000);

  it('survives a broker restart during 20 concurrent starts: all Running, one VM.START each', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 20; i++) ids.push(await deploy(`many-${i}`, { template: 'blank', startVm: false }));
    const start = (id: string) => job(main.client, `mutation($id: ID!) { startVirtualMachine(id: $id) { id } }`, { id }, 240_000);
    // Half the starts are under way when the broker stops, the other half are asked for while it is down.
    const starts = ids.slice(0, 10).map(start);
    await brokerCtl(BROKER_PORT, 'stop_app');
    try {
      starts.push(...ids.slice(10).map(start));
      await new Promise((resolve) => setTimeout(resolve, 2_000));
      const during = await Promise.all(ids.map(async (id) => (await vm(main.client, id))!.state));
      expect(during.filter((state) => state === 'Starting').length).toBeGreaterThanOrEqual(10);
    } finally {
      await brokerCtl(BROKER_PORT, 'start_app');
    }
    const outcomes = await Promise.all(starts);
    expect(outcomes.map((o) => `${o.status}${o.error ? `: ${o.error.message}` : ''}`)).toEqual(ids.map(() => 'SUCCEEDED'));
    for (const id of ids) {
      const instance = (await vm(main.client, id))!;
      expect(instance.state).toBe('Running');
      const host = [...cloud.hostIds].find(([, hid]) => hid === instance.hostId)![0];
      await runningOn(host, instance.instanceName);
      expect((await usageOf(main.client, id)).filter((type) => type === 'VM.START')).toHaveLength(1);
    }
    // Blank disks ignore ACPI: without vm.destroy.forcestop each destroy would wait out the graceful stop.
    await main.client.request(`mutation { updateConfiguration(name: "vm.destroy.forcestop", value: "true") { name } }`);
    const destroyed = await Promise.all(ids.map((id) => job(main.client, `mutation($id: ID!) { destroyVirtualMachine(id: $id, expunge: true) { id } }`, { id })));
    expect(destroyed.map((d) => d.status)).toEqual(ids.map(() => 'SUCCEEDED'));
  }, 600_000);

  it('converges to what the hypervisor did while the orchestrator was dead', async () => {
    // Killed between the agent's action and the handling of its reply: the start is done on the host.
    const id = await deploy('phoenix', { startVm: false });
    const { instanceName } = (await vm(main.client, id))!;
    await main.client.request(`mutation($id: ID!, $hostId: ID) { startVirtualMachine(id: $id, hostId: $hostId) { id } }`, { id, hostId: hostId(A) });
    await until('the domain running on the host', async () => ((await stateOn(A, instanceName)) === 'running' ? true : undefined), 60_000);
    await main.kill('SIGKILL');
    main = await mainJob();
    await until('the instance Running', async () => ((await vm(main.client, id))!.state === 'Running' ? true : undefined));
    expect((await usageOf(main.client, id)).filter((type) => type === 'VM.START')).toHaveLength(1);

    // Powered off behind a dead orchestrator's back: Stopped once it is back.
    await guestReady(A, instanceName);
    await main.kill('SIGKILL');
    expect(await guestAction(A, testbed.guest.powerOffFromInside, instanceName)).toBe(0);
    await until('the guest off', async () => ((await stateOn(A, instanceName)) === 'shut off' ? true : undefined), 60_000);
    main = await mainJob();
    await until('the instance Stopped', async () => ((await vm(main.client, id))!.state === 'Stopped' ? true : undefined));
    expect((await usageOf(main.client, id)).filter((type) => type === 'VM.STOP')).toHaveLength(1);
    expect((await hostCapacity(main.client, hostId(A))).reservationCount).toBe(0);
    expect((await job(main.client, `mutation($id: ID!) { destroyVirtualMachine(id: $id, expunge: true) { id } }`, { id })).status).toBe('SUCCEEDED');
  }, 300_000);
});
