// Storage pools in placement, through GraphQL on simulated hosts: a root volume goes to a pool the
// chosen host reaches that carries the offering's storage tags and has the space, the pool's
// allocatedBytes shows it, an expunge gives it back, and what no pool could hold is refused.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gqlError, runJob, startHarness, type Harness, type Job } from './harness.js';

const GiB = 1024 ** 3;

describe('storage pools in placement', () => {
  let h: Harness;
  const ids = { zone: '', clusterA: '', clusterB: '', hostA: '', hostB: '', poolA: '', poolB: '', template: '', plain: '', ssd: '', gold: '', network: '' };

  async function admin<T>(query: string, variables: Record<string, unknown> = {}): Promise<T> {
    return h.admin.request<T>(query, variables);
  }

  async function allocated(poolId: string): Promise<number> {
    const { storagePools } = await admin<{ storagePools: { nodes: Array<{ id: string; allocatedBytes: number }> } }>(
      `query($z: ID!) { storagePools(zoneId: $z) { nodes { id allocatedBytes } } }`,
      { z: ids.zone },
    );
    return storagePools.nodes.find((p) => p.id === poolId)!.allocatedBytes;
  }

  const DEPLOY = `mutation($z: ID!, $s: ID!, $t: ID!, $h: ID, $n: [ID!], $d: JSON) {
    deployVirtualMachine(zoneId: $z, serviceOfferingId: $s, templateId: $t, hostId: $h, networkIds: $n, details: $d) { id } }`;

  async function deploy(offering: string, hostId: string | null = null, details: Record<string, string> | null = null): Promise<Job> {
    const { deployVirtualMachine } = await admin<{ deployVirtualMachine: { id: string } }>(DEPLOY, { z: ids.zone, s: offering, t: ids.template, h: hostId, n: [ids.network], d: details });
    return h.waitForJob(h.admin, deployVirtualMachine.id);
  }

  async function rootPool(vmId: string | null): Promise<string | null> {
    const { virtualMachine } = await admin<{ virtualMachine: { hostId: string; volumes: Array<{ type: string; storagePoolId: string | null }> } }>(
      `query($id: ID!) { virtualMachine(id: $id) { hostId volumes { type storagePoolId } } }`,
      { id: vmId },
    );
    return virtualMachine.volumes.find((v) => v.type === 'ROOT')!.storagePoolId;
  }

  beforeAll(async () => {
    h = await startHarness();
    ids.zone = (await admin<{ createZone: { id: string } }>(`mutation { createZone(name: "storage-zone", networkType: "Advanced") { id } }`)).createZone.id;
    const cluster = async (name: string) =>
      (await admin<{ addCluster: { id: string } }>(`mutation($z: ID!, $n: String!) { addCluster(zoneId: $z, name: $n, hypervisor: "KVM") { id } }`, { z: ids.zone, n: name })).addCluster.id;
    ids.clusterA = await cluster('cluster-a');
    ids.clusterB = await cluster('cluster-b');
    const host = async (clusterId: string, name: string) =>
      (await admin<{ addHost: { id: string } }>(`mutation($c: ID!, $n: String!) { addHost(clusterId: $c, name: $n, driver: "simulator", cpuNumber: 16, cpuSpeed: 2000, memory: 65536) { id } }`, { c: clusterId, n: name })).addHost.id;
    ids.hostA = await host(ids.clusterA, 'host-a');
    ids.hostB = await host(ids.clusterB, 'host-b');
    const pool = async (name: string, clusterId: string, capacityBytes: number, tags: string[]) =>
      (
        await admin<{ createStoragePool: { id: string } }>(
          `mutation($z: ID!, $c: ID!, $n: String!, $cap: Float!, $tags: [String!]) {
            createStoragePool(zoneId: $z, clusterId: $c, scope: "CLUSTER", name: $n, type: "SharedMountPoint", path: "/mnt/primary", capacityBytes: $cap, tags: $tags) { id } }`,
          { z: ids.zone, c: clusterId, n: name, cap: capacityBytes, tags },
        )
      ).createStoragePool.id;
    ids.poolA = await pool('pool-a', ids.clusterA, 3 * GiB, []);
    ids.poolB = await pool('pool-b', ids.clusterB, 10 * GiB, ['ssd']);
    ids.network = (await admin<{ createNetwork: { id: string } }>(`mutation($z: ID!) { createNetwork(zoneId: $z, name: "storage-l2", type: L2, vlan: 310) { id } }`, { z: ids.zone })).createNetwork.id;
    ids.template = (
      await admin<{ registerTemplate: { id: string } }>(
        `mutation($z: ID!) { registerTemplate(zoneId: $z, name: "storage-linux", osType: "Debian GNU/Linux 12 (64-bit)",
          url: "https://example.invalid/debian-12.qcow2", size: 2147483648, format: "QCOW2", hypervisor: "KVM", isPublic: true) { id } }`,
        { z: ids.zone },
      )
    ).registerTemplate.id;
    const offering = async (name: string, storageTags: string[]) =>
      (
        await admin<{ createServiceOffering: { id: string; storageTags: string[] } }>(
          `mutation($n: String!, $t: [String!]) { createServiceOffering(name: $n, cpuNumber: 1, cpuSpeed: 500, memory: 512, storageTags: $t) { id storageTags } }`,
          { n: name, t: storageTags },
        )
      ).createServiceOffering;
    ids.plain = (await offering('storage-plain', [])).id;
    const ssd = await offering('storage-ssd', ['ssd']);
    expect(ssd.storageTags).toEqual(['ssd']);
    ids.ssd = ssd.id;
    ids.gold = (await offering('storage-gold', ['gold'])).id;
  });

  afterAll(async () => {
    await h?.stop();
  });

  it('a root volume goes to a pool with the offering’s storage tags, on a host that reaches it', async () => {
    const job = await deploy(ids.ssd);
    expect(job.status, JSON.stringify(job.error)).toBe('SUCCEEDED');
    // Only cluster B's pool carries ssd, so only cluster B's host can run the instance.
    expect(job.result!.hostId).toBe(ids.hostB);
    expect(await rootPool(job.instanceId)).toBe(ids.poolB);
    expect(await allocated(ids.poolB)).toBe(2 * GiB);
  });

  it('fills a pool up to its capacity, fails the next deployment with INSUFFICIENT_CAPACITY, and gives the space back on expunge', async () => {
    const first = await deploy(ids.plain, ids.hostA);
    expect(first.status, JSON.stringify(first.error)).toBe('SUCCEEDED');
    expect(await rootPool(first.instanceId)).toBe(ids.poolA);
    expect(await allocated(ids.poolA)).toBe(2 * GiB);

    // Pool A has 1 GiB left and host A reaches no other pool.
    const second = await deploy(ids.plain, ids.hostA);
    expect(second.status).toBe('FAILED');
    expect(second.error).toMatchObject({ code: 'INSUFFICIENT_CAPACITY', errorCode: 533 });
    expect(second.error!.message).toContain('No storage pool reachable from host host-a can hold volume');
    expect(second.error!.message).toContain(`pool-a has ${1 * GiB} of ${3 * GiB} bytes free, ${2 * GiB} needed`);
    expect(await allocated(ids.poolA)).toBe(2 * GiB);

    const expunged = await runJob(h, h.admin, `mutation($id: ID!) { destroyVirtualMachine(id: $id, expunge: true) { id } }`, { id: first.instanceId });
    expect(expunged.status, JSON.stringify(expunged.error)).toBe('SUCCEEDED');
    expect(await allocated(ids.poolA)).toBe(0);
  });

  it('refuses up front a root disk no pool could ever hold, or storage tags no pool carries, appending nothing', async () => {
    const head = await h.logHead();
    const tooBig = await gqlError(admin(DEPLOY, { z: ids.zone, s: ids.plain, t: ids.template, h: null, n: [ids.network], d: { rootdisksize: '11' } }), h);
    expect(tooBig.extensions).toMatchObject({ code: 'INSUFFICIENT_CAPACITY', field: 'details.rootdisksize' });
    expect(tooBig.message).toBe(`A root volume of ${11 * GiB} bytes (details.rootdisksize) is larger than any storage pool in zone ${ids.zone} can hold: at most ${10 * GiB} bytes`);
    const untagged = await gqlError(admin(DEPLOY, { z: ids.zone, s: ids.gold, t: ids.template, h: null, n: [ids.network], d: null }), h);
    expect(untagged.extensions).toMatchObject({ code: 'INSUFFICIENT_CAPACITY' });
    expect(untagged.message).toBe(`No storage pool in zone ${ids.zone} carries the storage tags [gold] of the service offering`);
    expect(await h.logHead()).toBe(head);
  });
});
