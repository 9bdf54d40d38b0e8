import { randomUUID } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { expectRefused, openTestContext, type TestContext } from './support.js';
import { SqliteEventStore } from '../../../adapters/eventstore/sqlite/sqlite-event-store.js';
import type { SecretStore } from '../../../adapters/secrets/port.js';
import { authenticate, bootstrapRootAdmin, createAccount } from '../../../api/control-plane/accounts.js';
import type { ControlPlaneContext } from '../../../api/control-plane/context.js';
import { DEMO, seedDemo } from '../../../api/control-plane/demo.js';
import {
  addCluster,
  addHost,
  clusters,
  configurations,
  createDiskOffering,
  createNetwork,
  createServiceOffering,
  createStoragePool,
  createZone,
  defaultNetworkOfferingId,
  diskOfferings,
  hosts,
  networks,
  registerTemplate,
  serviceOfferings,
  storagePools,
  templates,
  updateConfiguration,
  zones,
  type InfrastructureServices,
} from '../../../api/control-plane/infrastructure/index.js';
import { ApiError, type Caller, type ErrorCode } from '../../../api/control-plane/port.js';
import type { HostNode } from '../../../projections/infrastructure/index.js';

const GiB = 1024 ** 3;
const ADMIN_KEY = 'root-admin-key-0123456789abcdef';

/** A secret store whose contents the test can inspect. */
class InspectableSecrets implements SecretStore {
  readonly secrets = new Map<string, string>();
  async put(secret: string): Promise<string> {
    const ref = randomUUID();
    this.secrets.set(ref, secret);
    return ref;
  }
  async get(ref: string): Promise<string | undefined> {
    return this.secrets.get(ref);
  }
  async delete(ref: string): Promise<void> {
    this.secrets.delete(ref);
  }
}

describe('infrastructure operations', () => {
  let opened: TestContext;
  let store: SqliteEventStore;
  let context: ControlPlaneContext;
  let admin: Caller;
  let user: Caller;
  let secrets: InspectableSecrets;
  let added: HostNode[];
  let services: InfrastructureServices;

  beforeEach(async () => {
    opened = await openTestContext();
    ({ context, store } = opened);
    admin = (await bootstrapRootAdmin(context, ADMIN_KEY)).caller;
    const account = await createAccount(context, admin, { name: 'alice', role: 'USER' });
    user = authenticate(context, account.apiKey)!;
    secrets = new InspectableSecrets();
    added = [];
    services = { secrets, onHostAdded: async (host) => void added.push(host) };
  });

  afterEach(async () => {
    await opened.close();
  });

  /** A failed mutation appends nothing: the log's head does not move. */
  async function appendsNothing(run: () => unknown, code: ErrorCode, field?: string): Promise<ApiError> {
    const before = await store.headPosition();
    const error = await expectRefused(run, code, field);
    expect(await store.headPosition()).toBe(before);
    return error;
  }

  const zone = () => createZone(context, admin, { name: 'z1' });
  const cluster = async (zoneId?: string) => addCluster(context, admin, { zoneId: zoneId ?? (await zone()).id, name: 'c1', hypervisor: 'KVM' });

  describe('createZone', () => {
    it('creates an Advanced zone by default and returns its node', async () => {
      const node = await createZone(context, admin, { name: 'zone-a' });
      expect(node).toMatchObject({ name: 'zone-a', networkType: 'Advanced', allocationState: 'Enabled' });
      expect(node.created).toMatch(/^2025-01-01T00:00:00\.\d{3}Z$/);
      expect(zones(context, admin, {}).nodes.map((z) => z.id)).toEqual([node.id]);
      expect((await createZone(context, admin, { name: 'zone-b', networkType: 'basic' })).networkType).toBe('Basic');
    });

    it('is for the root admin only', async () => {
      const error = await appendsNothing(() => createZone(context, user, { name: 'z' }), 'FORBIDDEN');
      expect(error.errorCode).toBe(531);
    });

    it('refuses bad arguments with the field, and the domain refusals with theirs', async () => {
      await appendsNothing(() => createZone(context, admin, {}), 'BAD_USER_INPUT', 'name');
      await appendsNothing(() => createZone(context, admin, { name: 7 }), 'BAD_USER_INPUT', 'name');
      await appendsNothing(() => createZone(context, admin, { name: 'z', networkType: 'Fancy' }), 'BAD_USER_INPUT', 'networkType');
      const error = await appendsNothing(() => createZone(context, admin, { name: ' padded ' }), 'BAD_USER_INPUT', 'name');
      expect(error.message).toMatch(/whitespace/);
    });
  });

  describe('addCluster', () => {
    it('adds a cluster to the zone, matching the hypervisor name case-insensitively', async () => {
      const z = await zone();
      const node = await addCluster(context, admin, { zoneId: z.id, name: 'c1', hypervisor: 'kvm' });
      expect(node).toMatchObject({ zoneId: z.id, name: 'c1', hypervisor: 'KVM' });
      expect(clusters(context, admin, { zoneId: z.id }).nodes).toEqual([node]);
    });

    it('refuses an unknown zone, a non-admin, an unknown hypervisor and a duplicate name', async () => {
      const z = await zone();
      await appendsNothing(() => addCluster(context, admin, { zoneId: randomUUID(), name: 'c', hypervisor: 'KVM' }), 'BAD_USER_INPUT', 'zoneId');
      await appendsNothing(() => addCluster(context, user, { zoneId: z.id, name: 'c', hypervisor: 'KVM' }), 'FORBIDDEN');
      await appendsNothing(() => addCluster(context, admin, { zoneId: z.id, name: 'c', hypervisor: 'Bhyve' }), 'BAD_USER_INPUT', 'hypervisor');
      await addCluster(context, admin, { zoneId: z.id, name: 'c', hypervisor: 'KVM' });
      await appendsNothing(() => addCluster(context, admin, { zoneId: z.id, name: 'C', hypervisor: 'KVM' }), 'CONFLICT', 'name');
    });
  });

  describe('addHost', () => {
    it('adds a simulator host with the cluster hypervisor and hands it to onHostAdded', async () => {
      const c = await cluster();
      const node = await addHost(
        context,
        admin,
        { clusterId: c.id, name: 'h1', driver: 'simulator', cpuNumber: 4, cpuSpeed: 2000, memory: 8192, hostTags: ['ssd'], simulator: { startDelayMs: 5, failOn: ['STOP'] } },
        services,
      );
      expect(node).toMatchObject({
        name: 'h1',
        zoneId: c.zoneId,
        clusterId: c.id,
        hypervisor: 'KVM',
        driver: 'simulator',
        state: 'Up',
        cpuTotal: 8000,
        memoryTotal: 8192,
        hostTags: ['ssd'],
        simulator: { startDelayMs: 5, stopDelayMs: 0, failOn: ['STOP'] },
      });
      expect(added).toEqual([node]);
      expect(hosts(context, admin, { clusterId: c.id }).nodes).toEqual([node]);
    });

    it('keeps the password in the secret store and only its reference in the log', async () => {
      const c = await cluster();
      const password = 'Very-Secret-Passw0rd!';
      const node = await addHost(
        context,
        admin,
        { clusterId: c.id, name: 'kvm1', driver: 'libvirt', cpuNumber: 8, cpuSpeed: 2400, memory: 32768, url: 'ssh://10.0.0.5', username: 'root', password },
        services,
      );
      expect(node.driver).toBe('libvirt');
      expect(added).toEqual([]);
      const log = await store.readAll();
      expect(JSON.stringify(log)).not.toContain(password);
      const hostAdded = log.find((e) => e.type === 'HostAdded');
      const ref = (hostAdded?.data as { credentialRef: string }).credentialRef;
      expect(await secrets.get(ref)).toBe(password);
      expect(JSON.stringify(node)).not.toContain(ref);
    });

    it('deletes the secret again when the host is refused', async () => {
      const c = await cluster();
      await appendsNothing(
        () => addHost(context, admin, { clusterId: c.id, name: 'kvm1', driver: 'libvirt', cpuNumber: 8, cpuSpeed: 2400, memory: 32768, username: 'root', password: 'pw' }, services),
        'BAD_USER_INPUT',
        'url',
      );
      expect(secrets.secrets.size).toBe(0);
    });

    it('refuses unknown clusters, bad drivers, bad simulator settings and missing libvirt sizes', async () => {
      const c = await cluster();
      await appendsNothing(() => addHost(context, admin, { clusterId: randomUUID(), name: 'h', driver: 'simulator' }, services), 'BAD_USER_INPUT', 'clusterId');
      await appendsNothing(() => addHost(context, user, { clusterId: c.id, name: 'h', driver: 'simulator' }, services), 'FORBIDDEN');
      await appendsNothing(() => addHost(context, admin, { clusterId: c.id, name: 'h', driver: 'xen' }, services), 'BAD_USER_INPUT', 'driver');
      await appendsNothing(
        () => addHost(context, admin, { clusterId: c.id, name: 'h', driver: 'simulator', simulator: { failOn: ['EXPLODE'] } }, services),
        'BAD_USER_INPUT',
        'simulator.failOn',
      );
      await appendsNothing(
        () => addHost(context, admin, { clusterId: c.id, name: 'h', driver: 'simulator', simulator: { startDelayMs: -1 } }, services),
        'BAD_USER_INPUT',
        'simulator.startDelayMs',
      );
      await appendsNothing(() => addHost(context, admin, { clusterId: c.id, name: 'h', driver: 'simulator', cpuNumber: 0 }, services), 'BAD_USER_INPUT', 'cpuNumber');
      await appendsNothing(
        () => addHost(context, admin, { clusterId: c.id, name: 'h', driver: 'libvirt', url: 'ssh://h', username: 'u', password: 'p' }, services),
        'BAD_USER_INPUT',
        'cpuNumber',
      );
      expect(added).toEqual([]);
    });

    it('reports a simulator host whose hypervisor did not start', async () => {
      const c = await cluster();
      const failing = { secrets, onHostAdded: async () => Promise.reject(new Error('no capacity for a simulator')) };
      const error = await expectRefused(() => addHost(context, admin, { clusterId: c.id, name: 'h', driver: 'simulator' }, failing), 'INTERNAL_ERROR');
      expect(error.message).toMatch(/was added.*no capacity for a simulator/);
    });
  });

  describe('createStoragePool', () => {
    it('creates a zone-wide NFS pool from a url', async () => {
      const z = await zone();
      const pool = await createStoragePool(context, admin, { zoneId: z.id, name: 'nfs1', type: 'NFS', url: 'nfs://10.0.0.2/export/primary', capacityBytes: 100 * GiB });
      expect(pool).toMatchObject({ zoneId: z.id, scope: 'ZONE', type: 'NFS', server: '10.0.0.2', path: '/export/primary', capacityBytes: 100 * GiB, freeBytes: 100 * GiB });
      expect(storagePools(context, admin, { zoneId: z.id }).nodes).toEqual([pool]);
    });

    it('takes server and path, and scopes a pool to the cluster it names', async () => {
      const c = await cluster();
      const pool = await createStoragePool(context, admin, { zoneId: c.zoneId, clusterId: c.id, name: 'nfs2', type: 'nfs', server: 'nfs.local', path: '/p' });
      expect(pool).toMatchObject({ scope: 'CLUSTER', clusterId: c.id, type: 'NFS', server: 'nfs.local', path: '/p' });
      expect(pool.capacityBytes).toBeGreaterThan(0);
    });

    it('scopes a local pool to the host it names, in that host’s cluster', async () => {
      const c = await cluster();
      const host = await addHost(context, admin, { clusterId: c.id, name: 'h', driver: 'simulator' }, services);
      const pool = await createStoragePool(context, admin, { zoneId: c.zoneId, hostId: host.id, name: 'local', type: 'local', url: 'file:///var/lib/libvirt/images' });
      expect(pool).toMatchObject({ scope: 'HOST', hostId: host.id, clusterId: c.id, server: null, path: '/var/lib/libvirt/images' });
      await appendsNothing(
        () => createStoragePool(context, admin, { zoneId: c.zoneId, hostId: randomUUID(), name: 'l2', type: 'local', path: '/x' }),
        'BAD_USER_INPUT',
        'hostId',
      );
    });

    it('refuses unknown zones and clusters, and surfaces the domain refusals', async () => {
      const c = await cluster();
      const zoneId = c.zoneId;
      await appendsNothing(() => createStoragePool(context, admin, { zoneId: randomUUID(), name: 'p', type: 'NFS', url: 'nfs://s/p' }), 'BAD_USER_INPUT', 'zoneId');
      await appendsNothing(() => createStoragePool(context, admin, { zoneId, clusterId: randomUUID(), name: 'p', type: 'NFS', url: 'nfs://s/p' }), 'BAD_USER_INPUT', 'clusterId');
      await appendsNothing(() => createStoragePool(context, admin, { zoneId, name: 'p', type: 'NFS', path: '/p' }), 'BAD_USER_INPUT', 'server');
      await appendsNothing(() => createStoragePool(context, admin, { zoneId, name: 'p', type: 'local', path: '/var/lib/libvirt' }), 'BAD_USER_INPUT', 'scope');
      await appendsNothing(() => createStoragePool(context, admin, { zoneId, name: 'p', type: 'Ceph', url: 'rbd://x/y' }), 'BAD_USER_INPUT', 'type');
      await appendsNothing(() => createStoragePool(context, admin, { zoneId, name: 'p', type: 'NFS', url: 'nfs://s/p', capacityBytes: -1 }), 'BAD_USER_INPUT', 'capacityBytes');
      await appendsNothing(() => createStoragePool(context, user, { zoneId, name: 'p', type: 'NFS', url: 'nfs://s/p' }), 'FORBIDDEN');
    });
  });

  describe('createNetwork', () => {
    it('creates L2 and shared networks with the default offering of their type', async () => {
      const z = await zone();
      const l2 = await createNetwork(context, admin, { zoneId: z.id, name: 'l2', type: 'L2', vlan: 100 });
      expect(l2).toMatchObject({ zoneId: z.id, type: 'L2', vlan: 100, cidr: null, state: 'Setup', networkOfferingId: defaultNetworkOfferingId('L2') });
      const shared = await createNetwork(context, admin, { zoneId: z.id, name: 'shared', type: 'Shared', vlan: 200, cidr: '10.1.0.0/24' });
      expect(shared).toMatchObject({ cidr: '10.1.0.0/24', gateway: '10.1.0.1', netmask: '255.255.255.0', networkOfferingId: defaultNetworkOfferingId('Shared') });
      expect(networks(context, admin, { zoneId: z.id }).nodes.map((n) => n.name)).toEqual(['l2', 'shared']);
    });

    it('refuses unknown zones and accounts, and surfaces the domain refusals', async () => {
      const z = await zone();
      await appendsNothing(() => createNetwork(context, admin, { zoneId: randomUUID(), name: 'n', type: 'L2' }), 'BAD_USER_INPUT', 'zoneId');
      await appendsNothing(() => createNetwork(context, admin, { zoneId: z.id, name: 'n', type: 'Isolated', accountId: randomUUID() }), 'BAD_USER_INPUT', 'accountId');
      await appendsNothing(() => createNetwork(context, admin, { zoneId: z.id, name: 'n', type: 'L2', cidr: '10.0.0.0/24' }), 'BAD_USER_INPUT', 'cidr');
      await appendsNothing(() => createNetwork(context, admin, { zoneId: z.id, name: 'n', type: 'Shared', cidr: '10.0.0.0/24' }), 'BAD_USER_INPUT', 'vlan');
      await appendsNothing(() => createNetwork(context, admin, { zoneId: z.id, name: 'n', type: 'L2', vlan: 5000 }), 'BAD_USER_INPUT', 'vlan');
      await appendsNothing(() => createNetwork(context, admin, { zoneId: z.id, name: 'n', type: 'VPC' }), 'BAD_USER_INPUT', 'type');
      await appendsNothing(() => createNetwork(context, user, { zoneId: z.id, name: 'n', type: 'L2' }), 'FORBIDDEN');
    });
  });

  describe('offerings', () => {
    it('creates fixed and custom constrained service offerings', async () => {
      const fixed = await createServiceOffering(context, admin, { name: 'Small', cpuNumber: 1, cpuSpeed: 500, memory: 512 });
      expect(fixed).toMatchObject({ computeKind: 'fixed', customized: false, cpuNumber: 1, cpuSpeed: 500, memory: 512, dynamicScalingEnabled: true });
      const custom = await createServiceOffering(context, admin, {
        name: 'Custom',
        customized: true,
        cpuSpeed: 1000,
        minCpuNumber: 1,
        maxCpuNumber: 8,
        minMemory: 512,
        maxMemory: 16384,
      });
      expect(custom).toMatchObject({ computeKind: 'customConstrained', customized: true, cpuNumber: null, minCpuNumber: 1, maxCpuNumber: 8, minMemory: 512, maxMemory: 16384 });
      expect(serviceOfferings(context, user, {}).nodes.map((o) => o.name)).toEqual(['Small', 'Custom']);
    });

    it('surfaces the service offering rules', async () => {
      await appendsNothing(() => createServiceOffering(context, admin, { name: 'x', cpuNumber: 1, memory: 512 }), 'BAD_USER_INPUT', 'cpuSpeed');
      await appendsNothing(
        () => createServiceOffering(context, admin, { name: 'x', cpuSpeed: 1000, minCpuNumber: 4, maxCpuNumber: 2, minMemory: 512, maxMemory: 1024 }),
        'BAD_USER_INPUT',
        'maxCpuNumber',
      );
      await appendsNothing(() => createServiceOffering(context, admin, { name: 'x', cpuNumber: '2', cpuSpeed: 500, memory: 512 }), 'BAD_USER_INPUT', 'cpuNumber');
      await appendsNothing(() => createServiceOffering(context, admin, { name: 'x', cpuNumber: 1, cpuSpeed: 500, memory: 512, leaseExpiryAction: 'EXPLODE' }), 'BAD_USER_INPUT', 'leaseExpiryAction');
      await appendsNothing(() => createServiceOffering(context, user, { name: 'x', cpuNumber: 1, cpuSpeed: 500, memory: 512 }), 'FORBIDDEN');
    });

    it('creates disk offerings sized in GiB, or custom', async () => {
      const small = await createDiskOffering(context, admin, { name: 'Small', diskSize: 5 });
      expect(small).toMatchObject({ diskSize: 5 * GiB, customized: false });
      const custom = await createDiskOffering(context, admin, { name: 'Custom', customized: true });
      expect(custom).toMatchObject({ diskSize: null, customized: true });
      expect(diskOfferings(context, user, {}).nodes.map((o) => o.name)).toEqual(['Small', 'Custom']);
      await appendsNothing(() => createDiskOffering(context, admin, { name: 'x', diskSize: 1.5 }), 'BAD_USER_INPUT', 'diskSize');
      await appendsNothing(() => createDiskOffering(context, admin, { name: 'x', diskSize: 5, customized: true }), 'BAD_USER_INPUT', 'diskSize');
      await appendsNothing(() => createDiskOffering(context, user, { name: 'x', diskSize: 5 }), 'FORBIDDEN');
    });
  });

  describe('registerTemplate', () => {
    it('registers a KVM QCOW2 template by default', async () => {
      const z = await zone();
      const node = await registerTemplate(context, admin, { zoneId: z.id, name: 't', osType: 'Debian GNU/Linux 12 (64-bit)', url: 'https://example.org/t.qcow2', size: 2 * GiB, isDynamicallyScalable: true });
      expect(node).toMatchObject({ zoneId: z.id, osTypeName: 'Debian GNU/Linux 12 (64-bit)', format: 'QCOW2', hypervisor: 'KVM', size: 2 * GiB, isDynamicallyScalable: true, isPublic: true });
      expect(templates(context, admin, { zoneId: z.id }).nodes).toEqual([node]);
    });

    it('refuses unknown zones, missing arguments and formats the hypervisor cannot boot', async () => {
      const base = { name: 't', osType: 'Debian GNU/Linux 12 (64-bit)', url: 'https://example.org/t.qcow2', size: GiB };
      await appendsNothing(() => registerTemplate(context, admin, { ...base, zoneId: randomUUID() }), 'BAD_USER_INPUT', 'zoneId');
      await appendsNothing(() => registerTemplate(context, admin, { ...base, osType: undefined }), 'BAD_USER_INPUT', 'osType');
      await appendsNothing(() => registerTemplate(context, admin, { ...base, osType: 'Debian' }), 'BAD_USER_INPUT', 'osType');
      await appendsNothing(() => registerTemplate(context, admin, { ...base, size: undefined }), 'BAD_USER_INPUT', 'size');
      await appendsNothing(() => registerTemplate(context, admin, { ...base, format: 'VHD' }), 'BAD_USER_INPUT', 'format');
      await appendsNothing(() => registerTemplate(context, admin, { ...base, url: 'ftp://x/y' }), 'BAD_USER_INPUT', 'url');
      await appendsNothing(() => registerTemplate(context, user, base), 'FORBIDDEN');
    });
  });

  describe('configuration', () => {
    it('updates a global and a zone value and returns the effective entry', async () => {
      const z = await zone();
      const global = await updateConfiguration(context, admin, { name: 'expunge.delay', value: '120' });
      expect(global).toMatchObject({ name: 'expunge.delay', value: '120', source: 'global', zoneId: null });
      const zoned = await updateConfiguration(context, admin, { name: 'enable.dynamic.scale.vm', value: 'true', zoneId: z.id });
      expect(zoned).toMatchObject({ value: 'true', source: 'zone', zoneId: z.id });
      expect(configurations(context, admin, { name: 'dynamic.scale', zoneId: z.id })).toEqual([zoned]);
      expect(configurations(context, admin, { name: 'expunge.delay' })[0]?.value).toBe('120');
    });

    it('refuses unknown keys and zones, bad values, global-only keys per zone, and non-admins', async () => {
      const z = await zone();
      await appendsNothing(() => updateConfiguration(context, admin, { name: 'no.such.key', value: '1' }), 'BAD_USER_INPUT', 'name');
      await appendsNothing(() => updateConfiguration(context, admin, { name: 'expunge.delay', value: 'soon' }), 'BAD_USER_INPUT', 'value');
      await appendsNothing(() => updateConfiguration(context, admin, { name: 'expunge.delay', value: '1', zoneId: z.id }), 'BAD_USER_INPUT', 'zoneId');
      await appendsNothing(() => updateConfiguration(context, admin, { name: 'expunge.delay', value: '1', zoneId: randomUUID() }), 'BAD_USER_INPUT', 'zoneId');
      await appendsNothing(() => updateConfiguration(context, user, { name: 'expunge.delay', value: '1' }), 'FORBIDDEN');
    });
  });

  describe('lists', () => {
    it('shows users zones, offerings, public templates and the networks they may use; the rest is the root admin’s', async () => {
      const c = await cluster();
      const zoneId = c.zoneId;
      await addHost(context, admin, { clusterId: c.id, name: 'h', driver: 'simulator' }, services);
      await createStoragePool(context, admin, { zoneId, name: 'p', type: 'NFS', url: 'nfs://s/p' });
      const bob = await createAccount(context, admin, { name: 'bob', role: 'USER' });
      await createNetwork(context, admin, { zoneId, name: 'shared', type: 'Shared', vlan: 10, cidr: '10.9.0.0/24' });
      await createNetwork(context, admin, { zoneId, name: 'alice-net', type: 'Isolated', accountId: user.accountId });
      await createNetwork(context, admin, { zoneId, name: 'bob-net', type: 'Isolated', accountId: bob.id });
      const template = { osType: 'Debian GNU/Linux 12 (64-bit)', url: 'https://example.org/t.qcow2', size: GiB };
      await registerTemplate(context, admin, { ...template, name: 'public' });
      await registerTemplate(context, admin, { ...template, name: 'private', isPublic: false });

      expect(zones(context, user, {}).nodes.map((z) => z.id)).toEqual([zoneId]);
      expect(networks(context, user, { zoneId }).nodes.map((n) => n.name)).toEqual(['shared', 'alice-net']);
      expect(networks(context, user, { zoneId: randomUUID() }).totalCount).toBe(0);
      expect(networks(context, admin, {}).nodes.map((n) => n.name)).toEqual(['shared', 'alice-net', 'bob-net']);
      expect(templates(context, user, {}).nodes.map((t) => t.name)).toEqual(['public']);
      expect(templates(context, admin, {}).nodes.map((t) => t.name)).toEqual(['public', 'private']);

      await expectRefused(() => clusters(context, user, {}), 'FORBIDDEN');
      await expectRefused(() => hosts(context, user, {}), 'FORBIDDEN');
      await expectRefused(() => storagePools(context, user, {}), 'FORBIDDEN');
      await expectRefused(() => configurations(context, user, {}), 'FORBIDDEN');
      expect(hosts(context, admin, { zoneId }).totalCount).toBe(1);
      expect(storagePools(context, admin, {}).totalCount).toBe(1);
    });

    it('pages with cursors and refuses bad page arguments with the field', async () => {
      for (const name of ['a', 'b', 'c']) await createZone(context, admin, { name });
      const first = zones(context, user, { first: 2 });
      expect(first.nodes.map((z) => z.name)).toEqual(['a', 'b']);
      expect(first.totalCount).toBe(3);
      expect(zones(context, user, { first: 2, after: first.pageInfo.endCursor }).nodes.map((z) => z.name)).toEqual(['c']);
      await expectRefused(() => zones(context, user, { first: 10_000 }), 'BAD_USER_INPUT', 'first');
      await expectRefused(() => networks(context, user, { after: 'garbage' }), 'BAD_USER_INPUT', 'after');
      await expectRefused(() => templates(context, admin, { after: 'garbage' }), 'BAD_USER_INPUT', 'after');
    });
  });

  describe('seedDemo', () => {
    it('creates exactly the demo zone of API.md', async () => {
      const demo = await seedDemo(context, admin, services);
      expect(zones(context, admin, {}).nodes.map((z) => z.name)).toEqual([DEMO.zone]);
      expect(clusters(context, admin, {}).nodes).toEqual([expect.objectContaining({ id: demo.clusterId, name: 'demo-cluster', hypervisor: 'KVM', zoneId: demo.zoneId })]);
      const hostNodes = hosts(context, admin, {}).nodes;
      expect(hostNodes.map((h) => [h.name, h.driver, h.cpuNumber, h.cpuSpeed, h.memory, h.hypervisor])).toEqual(
        ['sim-host-1', 'sim-host-2', 'sim-host-3'].map((name) => [name, 'simulator', 16, 2000, 65536, 'KVM']),
      );
      expect(added.map((h) => h.name)).toEqual(['sim-host-1', 'sim-host-2', 'sim-host-3']);
      expect(storagePools(context, admin, {}).nodes).toEqual([expect.objectContaining({ name: 'demo-nfs', type: 'NFS', zoneId: demo.zoneId })]);
      expect(networks(context, admin, {}).nodes.map((n) => [n.name, n.type, n.vlan, n.cidr])).toEqual([
        ['demo-l2', 'L2', 100, null],
        ['demo-shared', 'Shared', 200, '10.1.0.0/24'],
      ]);
      expect(serviceOfferings(context, admin, {}).nodes.map((o) => [o.name, o.cpuNumber, o.cpuSpeed, o.memory, o.customized])).toEqual([
        ['Small Instance', 1, 500, 512, false],
        ['Medium Instance', 2, 1000, 1024, false],
        ['Custom Constrained', null, 1000, null, true],
      ]);
      expect(serviceOfferings(context, admin, {}).nodes[2]).toMatchObject({ minCpuNumber: 1, maxCpuNumber: 8, minMemory: 512, maxMemory: 16384 });
      expect(diskOfferings(context, admin, {}).nodes.map((o) => [o.name, o.diskSize])).toEqual([
        ['Small', 5 * GiB],
        ['Custom', null],
      ]);
      expect(templates(context, admin, {}).nodes).toEqual([
        expect.objectContaining({
          id: demo.templateId,
          name: 'demo-linux',
          osTypeName: 'Debian GNU/Linux 12 (64-bit)',
          size: 2 * GiB,
          format: 'QCOW2',
          hypervisor: 'KVM',
          isDynamicallyScalable: true,
        }),
      ]);
    });

    it('is idempotent by name: a second seed appends nothing and starts no host again', async () => {
      const first = await seedDemo(context, admin, services);
      const head = await store.headPosition();
      const second = await seedDemo(context, admin, services);
      expect(second).toEqual(first);
      expect(await store.headPosition()).toBe(head);
      expect(added).toHaveLength(3);
    });

    it('completes a partial demo zone and is for the root admin only', async () => {
      const z = await createZone(context, admin, { name: DEMO.zone });
      const demo = await seedDemo(context, admin, services);
      expect(demo.zoneId).toBe(z.id);
      expect(zones(context, admin, {}).totalCount).toBe(1);
      await expectRefused(() => seedDemo(context, user, services), 'FORBIDDEN');
    });
  });

  describe('names and addressing kept unique, also under concurrent creations', () => {
    /** Runs `count` creations at once; returns how many succeeded and the refusals of the others. */
    async function race(count: number, create: (i: number) => Promise<unknown>): Promise<{ won: number; lost: ApiError[] }> {
      const settledAll = await Promise.allSettled(Array.from({ length: count }, (_, i) => create(i)));
      const lost = settledAll.filter((r): r is PromiseRejectedResult => r.status === 'rejected').map((r) => r.reason as ApiError);
      for (const error of lost) expect(error).toBeInstanceOf(ApiError);
      return { won: settledAll.length - lost.length, lost };
    }

    it('zone names: a duplicate is CONFLICT (case-insensitively), and of ten concurrent creations one wins', async () => {
      await zone();
      const error = await appendsNothing(() => createZone(context, admin, { name: 'Z1' }), 'CONFLICT', 'name');
      expect(error.message).toContain('A zone with that name already exists');
      const { won, lost } = await race(10, () => createZone(context, admin, { name: 'contested-zone' }));
      expect(won).toBe(1);
      expect(lost.map((e) => e.code)).toEqual(Array(9).fill('CONFLICT'));
      expect(zones(context, admin, {}).nodes.filter((z) => z.name === 'contested-zone')).toHaveLength(1);
      // A refused zone gives its name back: a zone refused for its network type leaves the name free.
      await appendsNothing(() => createZone(context, admin, { name: 'free', networkType: 'Fancy' }), 'BAD_USER_INPUT', 'networkType');
      await createZone(context, admin, { name: 'free' });
    });

    it('host names are unique in their zone; another zone may reuse one', async () => {
      const c = await cluster();
      const add = (clusterId: string, name: string) => addHost(context, admin, { clusterId, name, driver: 'simulator' }, services);
      await add(c.id, 'kvm-1');
      const error = await appendsNothing(() => add(c.id, 'KVM-1'), 'CONFLICT', 'name');
      expect(error.message).toContain('KVM-1');
      const other = await addCluster(context, admin, { zoneId: c.zoneId, name: 'c2', hypervisor: 'KVM' });
      await appendsNothing(() => add(other.id, 'kvm-1'), 'CONFLICT', 'name');
      const elsewhere = await createZone(context, admin, { name: 'z2' });
      await add((await addCluster(context, admin, { zoneId: elsewhere.id, name: 'c1', hypervisor: 'KVM' })).id, 'kvm-1');
      const { won } = await race(8, () => add(c.id, 'contested-host'));
      expect(won).toBe(1);
      expect(hosts(context, admin, { zoneId: c.zoneId }).nodes.filter((h) => h.name === 'contested-host')).toHaveLength(1);
      // The losers' secrets and agents: none started for a refused host.
      expect(added.filter((h) => h.name === 'contested-host')).toHaveLength(1);
    });

    it('storage pool names are unique in their zone', async () => {
      const z = await zone();
      const create = (name: string) => createStoragePool(context, admin, { zoneId: z.id, name, type: 'NFS', url: 'nfs://10.0.0.2/export' });
      await create('primary');
      await appendsNothing(() => create('Primary'), 'CONFLICT', 'name');
      const { won } = await race(8, () => create('contested-pool'));
      expect(won).toBe(1);
      expect(storagePools(context, admin, { zoneId: z.id }).nodes.filter((p) => p.name === 'contested-pool')).toHaveLength(1);
    });

    it("a VLAN is one network's in its zone, a shared CIDR may not overlap another's; both BAD_USER_INPUT", async () => {
      const z = await zone();
      const create = (args: Record<string, unknown>) => createNetwork(context, admin, { zoneId: z.id, name: 'n', ...args });
      await create({ type: 'L2', vlan: 100 });
      await create({ type: 'Shared', vlan: 200, cidr: '10.1.0.0/24' });
      const vlan = await appendsNothing(() => create({ type: 'L2', vlan: 100 }), 'BAD_USER_INPUT', 'vlan');
      expect(vlan.message).toContain('Network with vlan 100 already exists');
      await appendsNothing(() => create({ type: 'Shared', vlan: 100, cidr: '10.2.0.0/24' }), 'BAD_USER_INPUT', 'vlan');
      const cidr = await appendsNothing(() => create({ type: 'Shared', vlan: 201, cidr: '10.1.0.128/25' }), 'BAD_USER_INPUT', 'cidr');
      expect(cidr.message).toContain('10.1.0.0/24');
      // A disjoint shared network, a network without a VLAN, and the same VLAN in another zone are fine.
      await create({ type: 'Shared', vlan: 201, cidr: '10.1.1.0/24' });
      await create({ type: 'L2' });
      await create({ type: 'L2' });
      await createNetwork(context, admin, { zoneId: (await createZone(context, admin, { name: 'z2' })).id, name: 'n', type: 'L2', vlan: 100 });
      const { won, lost } = await race(8, (i) => create({ type: 'Shared', vlan: 300 + i, cidr: '10.3.0.0/24' }));
      expect(won).toBe(1);
      expect(lost.map((e) => e.field)).toEqual(Array(7).fill('cidr'));
    });
  });
});
