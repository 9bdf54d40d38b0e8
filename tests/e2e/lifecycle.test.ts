// The whole life of one instance through HTTP, as a USER account: deploy, stop, start, reboot,
// migrate (root admin), destroy, recover, destroy with expunge; then the usage stream of Appendix A,
// the action-event trail, the instance as of a past moment, and host capacity given back.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GraphQLClient } from 'graphql-request';
import {
  actionEvents,
  deploy,
  deployed,
  getVm,
  runJob,
  setConfiguration,
  startHarness,
  usageEvents,
  VM_FIELDS,
  type Harness,
  type Vm,
} from './harness.js';

interface HostCapacity {
  id: string;
  name: string;
  cpuTotal: number;
  cpuAllocated: number;
  cpuFree: number;
  memoryTotal: number;
  memoryAllocated: number;
  memoryFree: number;
  capabilities: string[];
}

async function demoHosts(h: Harness): Promise<HostCapacity[]> {
  const { hosts } = await h.admin.request<{ hosts: { nodes: HostCapacity[] } }>(
    `query($clusterId: ID) { hosts(clusterId: $clusterId, first: 50) { nodes { id name cpuTotal cpuAllocated cpuFree memoryTotal memoryAllocated memoryFree capabilities } } }`,
    { clusterId: h.demo.clusterId },
  );
  return [...hosts.nodes].sort((a, b) => a.name.localeCompare(b.name));
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('instance lifecycle over HTTP (USER account)', () => {
  let h: Harness;
  let user: { id: string; key: string; client: GraphQLClient };

  beforeAll(async () => {
    h = await startHarness();
    // Recover and expunge are admin-only in CloudStack unless this key is set (§1.4).
    await setConfiguration(h, 'allow.user.expunge.recover.vm', 'true');
    user = await h.createUser('lifecycle-user');
  });
  afterAll(async () => {
    await h?.stop();
  });

  it('deploy → stop → start → reboot → migrate → destroy → recover → destroy(expunge) with exact usage and events', async () => {
    const c = user.client;
    const hostsBefore = await demoHosts(h);
    expect(hostsBefore).toHaveLength(3);
    for (const host of hostsBefore) {
      expect(host.cpuAllocated).toBe(0);
      expect(host.memoryAllocated).toBe(0);
      expect(host.cpuFree).toBe(host.cpuTotal);
      expect(host.memoryFree).toBe(host.memoryTotal);
      // What a simulated host's agent reports it can do: every snapshot kind, no conversion.
      expect(host.capabilities).toEqual(['snapshot.memory', 'snapshot.disk.stopped', 'snapshot.disk.running']);
    }

    // Deploy.
    const deployJob = await deploy(h, c, { name: 'life-1' });
    expect(deployJob.cmd).toBe('deployVirtualMachine');
    expect(['PENDING', 'SUCCEEDED']).toContain(deployJob.status);
    const deployed = await h.waitForJob(c, deployJob.id);
    expect(deployed.status).toBe('SUCCEEDED');
    expect(deployed.error).toBeNull();
    const vm0 = deployed.result!;
    expect(vm0).toMatchObject({ name: 'life-1', state: 'Running', accountId: user.id, zoneId: h.demo.zoneId });
    expect(vm0.serviceOfferingId).toBe(h.demo.serviceOfferingIds.small);
    expect(vm0.templateId).toBe(h.demo.templateId);
    // Placement is the admins' to see (README, API): the user sees none, the root admin the host.
    expect(vm0).toMatchObject({ hostId: null, lastHostId: null, instanceName: null });
    const hostOf = async (vmId: string) => (await getVm(h.admin, vmId))?.hostId;
    const placedOn = await hostOf(vm0.id);
    expect(h.demo.hostIds).toContain(placedOn);
    expect(vm0).toMatchObject({ cpuNumber: 1, cpuSpeed: 500, memory: 512 });
    expect(vm0.nics).toHaveLength(1);
    expect(vm0.volumes).toHaveLength(1);
    const id = vm0.id;
    const nic = vm0.nics[0]!;
    const root = vm0.volumes[0]!;
    expect(root.type).toBe('ROOT');
    expect(root.size).toBe(2 * 1024 ** 3);
    const listed = await getVm(c, id);
    expect(listed?.state).toBe('Running');
    // The running instance holds its share of one host.
    const hostsRunning = await demoHosts(h);
    const holding = hostsRunning.find((host) => host.id === placedOn)!;
    expect(holding.cpuAllocated).toBe(500);
    expect(holding.memoryAllocated).toBe(512);

    // Stop.
    const stopped = await runJob(h, c, `mutation($id: ID!) { stopVirtualMachine(id: $id) { id } }`, { id });
    expect(stopped.status).toBe('SUCCEEDED');
    expect(stopped.result?.state).toBe('Stopped');
    expect(stopped.result?.hostId).toBeNull();
    expect((await getVm(c, id))?.state).toBe('Stopped');

    // A moment strictly between the stop and the start.
    await sleep(5);
    const betweenStopAndStart = new Date().toISOString();
    await sleep(5);

    // Start.
    const started = await runJob(h, c, `mutation($id: ID!) { startVirtualMachine(id: $id) { id } }`, { id });
    expect(started.status).toBe('SUCCEEDED');
    expect(started.result?.state).toBe('Running');
    expect(h.demo.hostIds).toContain(await hostOf(id));

    // The instance as it was between stop and start, folded from its events.
    const { virtualMachineAsOf: asOf } = await c.request<{ virtualMachineAsOf: Vm | null }>(
      `query($id: ID!, $at: DateTime!) { virtualMachineAsOf(id: $id, at: $at) { ${VM_FIELDS} } }`,
      { id, at: betweenStopAndStart },
    );
    expect(asOf?.id).toBe(id);
    expect(asOf?.state).toBe('Stopped');

    // Reboot.
    const rebooted = await runJob(h, c, `mutation($id: ID!) { rebootVirtualMachine(id: $id) { id } }`, { id });
    expect(rebooted.status).toBe('SUCCEEDED');
    expect(rebooted.result?.state).toBe('Running');
    const hostBeforeMigrate = await hostOf(id);

    // Migrate, as the root admin, to another host the planner picks.
    const migrated = await runJob(h, h.admin, `mutation($id: ID!) { migrateVirtualMachine(virtualMachineId: $id) { id } }`, { id });
    expect(migrated.status).toBe('SUCCEEDED');
    expect(migrated.result?.state).toBe('Running');
    expect(migrated.result?.hostId).not.toBe(hostBeforeMigrate);
    expect(h.demo.hostIds).toContain(migrated.result?.hostId);
    expect(await hostOf(id)).toBe(migrated.result?.hostId);

    // Destroy (not expunged).
    const destroyed = await runJob(h, c, `mutation($id: ID!) { destroyVirtualMachine(id: $id) { id } }`, { id });
    expect(destroyed.status).toBe('SUCCEEDED');
    expect(destroyed.result?.state).toBe('Destroyed');
    expect((await getVm(c, id))?.state).toBe('Destroyed');

    // Recover (synchronous) → Stopped.
    const { recoverVirtualMachine: recovered } = await c.request<{ recoverVirtualMachine: Vm }>(
      `mutation($id: ID!) { recoverVirtualMachine(id: $id) { ${VM_FIELDS} } }`,
      { id },
    );
    expect(recovered.state).toBe('Stopped');
    expect((await getVm(c, id))?.state).toBe('Stopped');

    // Destroy with expunge → gone.
    const expunged = await runJob(h, c, `mutation($id: ID!) { destroyVirtualMachine(id: $id, expunge: true) { id } }`, { id });
    expect(expunged.status).toBe('SUCCEEDED');
    expect(await getVm(c, id)).toBeNull();
    expect(await getVm(h.admin, id)).toBeNull();
    const { virtualMachines } = await c.request<{ virtualMachines: { nodes: Array<{ id: string }>; totalCount: number } }>(
      `{ virtualMachines(first: 100) { nodes { id } totalCount } }`,
    );
    expect(virtualMachines.nodes.map((n) => n.id)).not.toContain(id);
    expect(virtualMachines.totalCount).toBe(0);
    const asAdmin = await h.admin.request<{ virtualMachines: { nodes: Array<{ id: string }> } }>(`{ virtualMachines(first: 500) { nodes { id } } }`);
    expect(asAdmin.virtualMachines.nodes.map((n) => n.id)).not.toContain(id);

    // History outlives the instance: the auditor's view of the past is unchanged by the expunge.
    const { virtualMachineAsOf: pastAfterExpunge } = await h.admin.request<{ virtualMachineAsOf: Vm | null }>(
      `query($id: ID!, $at: DateTime!) { virtualMachineAsOf(id: $id, at: $at) { id state } }`,
      { id, at: betweenStopAndStart },
    );
    expect(pastAfterExpunge).toMatchObject({ id, state: 'Stopped' });

    // Usage: exactly Appendix A's stream for this sequence, in log order.
    const usage = (await usageEvents(c)).nodes;
    expect(usage.map((e) => e.type)).toEqual([
      'VM.CREATE', 'VOLUME.CREATE', 'NETWORK.OFFERING.ASSIGN', 'VM.START', // deploy (started)
      'VM.STOP', 'NETWORK.OFFERING.REMOVE', // stop
      'NETWORK.OFFERING.ASSIGN', 'VM.START', // start; reboot and migrate add none
      'VM.STOP', 'NETWORK.OFFERING.REMOVE', 'VM.DESTROY', 'VOLUME.DELETE', // destroy a running instance
      'VM.CREATE', 'VOLUME.CREATE', // recover
      'VM.DESTROY', 'VOLUME.DELETE', // destroy a stopped instance; expunge adds none
    ]);
    const { networks } = await h.admin.request<{ networks: { nodes: Array<{ id: string; networkOfferingId: string | null }> } }>(
      `query($zoneId: ID) { networks(zoneId: $zoneId, first: 50) { nodes { id networkOfferingId } } }`,
      { zoneId: h.demo.zoneId },
    );
    const networkOfferingId = networks.nodes.find((n) => n.id === nic.networkId)?.networkOfferingId;
    expect(networkOfferingId).toBeTruthy();
    for (const event of usage) {
      expect(event.accountId).toBe(user.id);
      expect(event.zoneId).toBe(h.demo.zoneId);
      expect(event.eventId).toBeTruthy();
      if (event.type.startsWith('VM.')) {
        expect(event, event.type).toMatchObject({
          resourceId: id,
          resourceName: 'life-1',
          offeringId: h.demo.serviceOfferingIds.small,
          templateId: h.demo.templateId,
          resourceType: 'KVM',
        });
      } else if (event.type === 'VOLUME.CREATE') {
        expect(event).toMatchObject({ resourceId: root.id, resourceName: root.name, templateId: h.demo.templateId, size: 2 * 1024 ** 3 });
        // A templated ROOT disk of a compute-only offering has no disk offering (§2.2).
        expect(event.offeringId).toBeNull();
      } else if (event.type === 'VOLUME.DELETE') {
        expect(event).toMatchObject({ resourceId: root.id, resourceName: root.name });
      } else {
        // NETWORK.OFFERING.*: the instance's id, the NIC's id as the name, size = isDefault (0 on REMOVE at stop).
        expect(event).toMatchObject({ resourceId: id, resourceName: nic.id, offeringId: networkOfferingId });
        expect(event.size).toBe(event.type === 'NETWORK.OFFERING.ASSIGN' ? 1 : 0);
      }
    }
    const positions = usage.map((e) => e.position);
    expect([...positions].sort((a, b) => a - b)).toEqual(positions);
    expect(new Set(usage.map((e) => e.eventId)).size).toBe(usage.length);

    // The action-event trail of the instance carries CloudStack's action types.
    const trail = (await actionEvents(c, id)).nodes;
    const types = new Set(trail.map((e) => e.type));
    for (const type of ['VM.CREATE', 'VM.START', 'VM.STOP', 'VM.REBOOT', 'VM.MIGRATE', 'VM.DESTROY', 'VM.RECOVER', 'VM.EXPUNGE']) {
      expect(types, type).toContain(type);
    }
    expect(trail.every((e) => e.resourceId === id)).toBe(true);
    const firstOf = (type: string) => trail.findIndex((e) => e.type === type);
    expect(firstOf('VM.CREATE')).toBeLessThan(firstOf('VM.STOP'));
    expect(firstOf('VM.MIGRATE')).toBeLessThan(firstOf('VM.DESTROY'));
    expect(firstOf('VM.RECOVER')).toBeLessThan(firstOf('VM.EXPUNGE'));

    // Every host is back to full capacity.
    const hostsAfter = await demoHosts(h);
    expect(hostsAfter).toEqual(hostsBefore);
  });

  it("a root admin's deployment with clusterId starts in that cluster", async () => {
    const { addCluster } = await h.admin.request<{ addCluster: { id: string } }>(
      `mutation($z: ID!) { addCluster(zoneId: $z, name: "placement", hypervisor: "KVM") { id } }`,
      { z: h.demo.zoneId },
    );
    const { addHost } = await h.admin.request<{ addHost: { id: string } }>(
      `mutation($c: ID!) { addHost(clusterId: $c, name: "placement-host", driver: "simulator", cpuNumber: 16, cpuSpeed: 2000, memory: 32768) { id } }`,
      { c: addCluster.id },
    );
    // With four hosts in the zone, six random placements all landing on one would be a 1-in-4,096 chance.
    const placed: string[] = [];
    for (let i = 0; i < 6; i++) {
      const { deployVirtualMachine } = await h.admin.request<{ deployVirtualMachine: { id: string } }>(
        `mutation($z: ID!, $s: ID!, $t: ID!, $c: ID, $n: String) { deployVirtualMachine(zoneId: $z, serviceOfferingId: $s, templateId: $t, clusterId: $c, name: $n) { id } }`,
        { z: h.demo.zoneId, s: h.demo.serviceOfferingIds.small, t: h.demo.templateId, c: addCluster.id, n: `placed-${i}` },
      );
      const job = await h.waitForJob(h.admin, deployVirtualMachine.id);
      expect(job.status, JSON.stringify(job.error)).toBe('SUCCEEDED');
      placed.push(job.result!.hostId!);
    }
    expect(new Set(placed)).toEqual(new Set([addHost.id]));
  });

  it('names instances for the hypervisor after instance.name, or their own name under vm.instancename.flag', async () => {
    const prefix = `i-${user.id}-`;
    // The hypervisor's name is the admins' to see; the user's own view has none.
    const instanceNameOf = async (vm: Vm) => {
      expect(vm.instanceName).toBeNull();
      return (await getVm(h.admin, vm.id))?.instanceName;
    };
    const byDefault = await deployed(h, user.client, { name: 'named-default', startVm: false });
    expect(await instanceNameOf(byDefault)).toBe(`${prefix}${byDefault.id}-VM`);
    await setConfiguration(h, 'instance.name', 'ACME');
    try {
      const suffixed = await deployed(h, user.client, { name: 'named-acme', startVm: false });
      expect(await instanceNameOf(suffixed)).toBe(`${prefix}${suffixed.id}-ACME`);
      await setConfiguration(h, 'vm.instancename.flag', 'true');
      const own = await deployed(h, user.client, { name: 'web-9', startVm: false });
      expect(await instanceNameOf(own)).toBe(`${prefix}${own.id}-web-9`);
      // The agents take exactly the names vmledger makes (they refuse any other): each one starts.
      for (const vm of [byDefault, suffixed, own]) {
        const started = await runJob(h, user.client, `mutation($id: ID!) { startVirtualMachine(id: $id) { id } }`, { id: vm.id });
        expect(started.error).toBeNull();
      }
    } finally {
      await setConfiguration(h, 'instance.name', 'VM');
      await setConfiguration(h, 'vm.instancename.flag', 'false');
    }
  });

  it("starts an instance only on a host of its template's hypervisor", async () => {
    const { registerTemplate } = await h.admin.request<{ registerTemplate: { id: string } }>(
      `mutation($z: ID) { registerTemplate(zoneId: $z, name: "vmware-only", osType: "Debian GNU/Linux 12 (64-bit)", url: "https://example.invalid/d.ova",
        size: 2147483648, hypervisor: "VMware", format: "OVA", isPublic: true) { id } }`,
      { z: h.demo.zoneId },
    );
    // The demo zone has KVM hosts only.
    const job = await h.waitForJob(user.client, (await deploy(h, user.client, { name: 'needs-esx', templateId: registerTemplate.id })).id);
    expect(job.status).toBe('FAILED');
    expect(job.error).toMatchObject({ code: 'INSUFFICIENT_CAPACITY', errorCode: 533 });
    expect(job.error!.message).toContain('is a KVM host, not VMware');
  });
});
