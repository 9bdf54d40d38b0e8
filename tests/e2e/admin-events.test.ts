// Auditors see who changed the cloud: every administration operation of the root admin leaves a
// CloudStack action event in `events`, with the admin as actor, the created resource's id and a
// description naming it, and never a password.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT_ADMIN_ACCOUNT_ID, ROOT_ADMIN_USER_ID } from '../../api/control-plane/accounts.js';
import { actionEvents, startHarness, type ActionEvent, type Harness } from './harness.js';

const HOST_PASSWORD = 'e2e-host-password-must-not-leak';

describe('action events of the administration', () => {
  let h: Harness;
  const ids: Record<string, string> = {};

  beforeAll(async () => {
    h = await startHarness();
    const a = h.admin;
    const run = async <T>(mutation: string, variables: Record<string, unknown> = {}): Promise<T> => a.request<T>(mutation, variables);

    ids.account = (await run<{ createAccount: { id: string } }>(`mutation { createAccount(name: "audited-user", role: USER) { id } }`)).createAccount.id;
    ids.zone = (await run<{ createZone: { id: string } }>(`mutation { createZone(name: "audit-zone", networkType: "Advanced") { id } }`)).createZone.id;
    ids.cluster = (
      await run<{ addCluster: { id: string } }>(`mutation($z: ID!) { addCluster(zoneId: $z, name: "audit-cluster", hypervisor: "KVM") { id } }`, { z: ids.zone })
    ).addCluster.id;
    // A libvirt host: its agent is not started here, and it is the driver that needs a password.
    ids.host = (
      await run<{ addHost: { id: string } }>(
        `mutation($c: ID!, $p: String) { addHost(clusterId: $c, name: "audit-kvm", driver: "libvirt", cpuNumber: 8, cpuSpeed: 2000, memory: 16384,
          url: "ssh://10.9.9.9", username: "root", password: $p) { id } }`,
        { c: ids.cluster, p: HOST_PASSWORD },
      )
    ).addHost.id;
    ids.pool = (
      await run<{ createStoragePool: { id: string } }>(
        `mutation($z: ID!) { createStoragePool(zoneId: $z, name: "audit-nfs", type: "NFS", url: "nfs://nfs.audit.internal/export") { id } }`,
        { z: ids.zone },
      )
    ).createStoragePool.id;
    ids.network = (
      await run<{ createNetwork: { id: string } }>(`mutation($z: ID!) { createNetwork(zoneId: $z, name: "audit-l2", type: L2, vlan: 310) { id } }`, { z: ids.zone })
    ).createNetwork.id;
    ids.serviceOffering = (
      await run<{ createServiceOffering: { id: string } }>(`mutation { createServiceOffering(name: "audit-small", cpuNumber: 2, cpuSpeed: 1000, memory: 2048) { id } }`)
    ).createServiceOffering.id;
    ids.diskOffering = (await run<{ createDiskOffering: { id: string } }>(`mutation { createDiskOffering(name: "audit-data", diskSize: 20) { id } }`)).createDiskOffering
      .id;
    ids.template = (
      await run<{ registerTemplate: { id: string } }>(
        `mutation($z: ID!) { registerTemplate(zoneId: $z, name: "audit-debian", osType: "Debian GNU/Linux 12 (64-bit)",
          url: "https://example.invalid/audit.qcow2", size: 2147483648, format: "QCOW2", hypervisor: "KVM") { id } }`,
        { z: ids.zone },
      )
    ).registerTemplate.id;
    await run(`mutation { updateConfiguration(name: "expunge.delay", value: "600") { name } }`);
  });
  afterAll(async () => {
    await h?.stop();
  });

  const rootAdmin = { kind: 'user', userId: ROOT_ADMIN_USER_ID, accountId: ROOT_ADMIN_ACCOUNT_ID, role: 'ROOT_ADMIN' };

  /** The one event of `type` about `resourceId`, read back through `events(type:)`. */
  async function onlyEvent(type: string, resourceId: string): Promise<ActionEvent> {
    const found = (await actionEvents(h.admin, undefined, type)).nodes.filter((e) => e.resourceId === resourceId);
    expect(found, `${type} events about ${resourceId}`).toHaveLength(1);
    const event = found[0]!;
    expect(event.type).toBe(type);
    expect(event.actor).toEqual(rootAdmin);
    expect(event.accountId).toBe(ROOT_ADMIN_ACCOUNT_ID);
    return event;
  }

  it.each([
    ['ACCOUNT.CREATE', 'account', 'Account', 'Created account audited-user (USER) in domain /'],
    ['ZONE.CREATE', 'zone', 'Zone', 'Created zone audit-zone (Advanced)'],
    ['CLUSTER.ADD', 'cluster', 'Cluster', 'Added cluster audit-cluster (KVM) to zone'],
    ['HOST.ADD', 'host', 'Host', 'Added host audit-kvm (libvirt, 8 × 2000 MHz, 16384 MiB) to cluster'],
    ['CREATE.STORAGE.POOL', 'pool', 'StoragePool', 'Created storage pool audit-nfs (NFS'],
    ['NETWORK.CREATE', 'network', 'Network', 'Created network audit-l2 (L2, vlan 310) in zone'],
    ['SERVICE.OFFERING.CREATE', 'serviceOffering', 'ServiceOffering', 'Created service offering audit-small (2 × 1000 MHz, 2048 MiB)'],
    ['DISK.OFFERING.CREATE', 'diskOffering', 'DiskOffering', 'Created disk offering audit-data (20 GiB)'],
    ['TEMPLATE.CREATE', 'template', 'Template', 'Registered template audit-debian (QCOW2, KVM)'],
  ])('records %s for the created %s, by the root admin', async (type, key, resourceType, description) => {
    const event = await onlyEvent(type, ids[key]!);
    expect(event.resourceType).toBe(resourceType);
    expect(event.description).toContain(description);
  });

  it('records CONFIGURATION.VALUE.EDIT with the setting and its new value', async () => {
    const event = await onlyEvent('CONFIGURATION.VALUE.EDIT', 'expunge.delay');
    expect(event.description).toBe('Set expunge.delay to 600 globally');
  });

  it('keeps the host password out of the whole audit trail', async () => {
    const trail = await actionEvents(h.admin);
    expect(trail.nodes.length).toBeGreaterThan(0);
    expect(JSON.stringify(trail.nodes)).not.toContain(HOST_PASSWORD);
  });

  it('shows a user none of the administration', async () => {
    const user = await h.createUser('audit-bystander');
    expect((await actionEvents(user.client, undefined, 'ZONE.CREATE')).totalCount).toBe(0);
    expect((await actionEvents(user.client, ids.account)).totalCount).toBe(0);
  });
});
