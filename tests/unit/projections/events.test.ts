// The administration's action events: which domain event stands for which CloudStack action type,
// with what resource and description, and whose trail it lands in.
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Actor } from '../../../adapters/eventstore/command-handler.js';
import { SqliteEventStore } from '../../../adapters/eventstore/sqlite/sqlite-event-store.js';
import { accountStream } from '../../../domain/account/index.js';
import { GLOBAL_CONFIG_STREAM } from '../../../domain/config/index.js';
import { hostStream } from '../../../domain/host/index.js';
import { ACTION_EVENT_TYPES, isActionEventType } from '../../../domain/shared/action-event-types.js';
import { zoneStream } from '../../../domain/zone/index.js';
import { administrationActionEvent, type AdministrationDomainEvent } from '../../../projections/events/action-events.js';
import { eventsProjection } from '../../../projections/events/projection.js';
import { listEvents } from '../../../projections/events/queries.js';
import { ReadModel } from '../../../projections/read-model.js';

const AT = '2024-05-01T10:00:00.000Z';
const ZONE = 'a0000000-0000-4000-8000-000000000001';

const accountCreated = (accountId: string, domainId: string, name: string): AdministrationDomainEvent => ({
  type: 'AccountCreated',
  data: { accountId, domainId, domainPath: '/', name, role: 'USER', created: AT },
});

const hostAdded: AdministrationDomainEvent = {
  type: 'HostAdded',
  data: {
    hostId: 'host-1',
    zoneId: ZONE,
    clusterId: 'cluster-1',
    hypervisor: 'KVM',
    name: 'kvm-7',
    driver: 'libvirt',
    cpuNumber: 16,
    cpuSpeed: 2400,
    memory: 65536,
    hostTags: [],
    url: 'ssh://root:hunter2@10.0.0.7',
    username: 'root',
    credentialRef: 'secret-ref-42',
    simulator: null,
    created: AT,
  },
};

describe('administrationActionEvent', () => {
  const cases: Array<[AdministrationDomainEvent, { type: string; resourceType: string; resourceId: string; description: string }]> = [
    [
      { type: 'AccountCreated', data: { accountId: 'acct-1', domainId: 'dom-1', domainPath: '/eng/', name: 'alice', role: 'DOMAIN_ADMIN', created: AT } },
      { type: 'ACCOUNT.CREATE', resourceType: 'Account', resourceId: 'acct-1', description: 'Created account alice (DOMAIN_ADMIN) in domain /eng/' },
    ],
    [
      { type: 'ZoneCreated', data: { zoneId: ZONE, name: 'zone-b', networkType: 'Advanced', created: AT } },
      { type: 'ZONE.CREATE', resourceType: 'Zone', resourceId: ZONE, description: 'Created zone zone-b (Advanced)' },
    ],
    [
      { type: 'ClusterAdded', data: { zoneId: ZONE, clusterId: 'cluster-1', name: 'c1', hypervisor: 'KVM', created: AT } },
      { type: 'CLUSTER.ADD', resourceType: 'Cluster', resourceId: 'cluster-1', description: `Added cluster c1 (KVM) to zone ${ZONE}` },
    ],
    [
      hostAdded,
      { type: 'HOST.ADD', resourceType: 'Host', resourceId: 'host-1', description: 'Added host kvm-7 (libvirt, 16 × 2400 MHz, 65536 MiB) to cluster cluster-1' },
    ],
    [
      {
        type: 'StoragePoolCreated',
        data: {
          poolId: 'pool-1',
          zoneId: ZONE,
          scope: 'ZONE',
          clusterId: null,
          hostId: null,
          name: 'nfs-1',
          type: 'NFS',
          server: 'nfs.internal',
          path: '/export',
          capacityBytes: 1_099_511_627_776,
          tags: [],
          created: AT,
        },
      },
      {
        type: 'CREATE.STORAGE.POOL',
        resourceType: 'StoragePool',
        resourceId: 'pool-1',
        description: `Created storage pool nfs-1 (NFS, ZONE scope, 1099511627776 bytes) in zone ${ZONE}`,
      },
    ],
    [
      {
        type: 'NetworkCreated',
        data: {
          networkId: 'net-1',
          zoneId: ZONE,
          name: 'shared-1',
          networkType: 'Shared',
          vlan: 200,
          cidr: '10.1.0.0/24',
          gateway: '10.1.0.1',
          netmask: '255.255.255.0',
          networkOfferingId: 'netoff-shared',
          accountId: null,
          created: AT,
        },
      },
      { type: 'NETWORK.CREATE', resourceType: 'Network', resourceId: 'net-1', description: `Created network shared-1 (Shared, vlan 200, 10.1.0.0/24) in zone ${ZONE}` },
    ],
    [
      {
        type: 'ServiceOfferingCreated',
        data: {
          offeringId: 'so-1',
          name: 'small',
          displayText: 'Small',
          compute: { kind: 'fixed', cpuNumber: 2, cpuSpeed: 1000, memory: 2048 },
          hostTags: [],
          dynamicScalingEnabled: true,
          offerHa: false,
          leaseDuration: null,
          leaseExpiryAction: null,
          created: AT,
        },
      },
      { type: 'SERVICE.OFFERING.CREATE', resourceType: 'ServiceOffering', resourceId: 'so-1', description: 'Created service offering small (2 × 1000 MHz, 2048 MiB)' },
    ],
    [
      { type: 'DiskOfferingCreated', data: { offeringId: 'do-1', name: 'data-10', displayText: 'Data', diskSize: 10_737_418_240, storageTags: [], created: AT } },
      { type: 'DISK.OFFERING.CREATE', resourceType: 'DiskOffering', resourceId: 'do-1', description: 'Created disk offering data-10 (10 GiB)' },
    ],
    [
      {
        type: 'TemplateRegistered',
        data: {
          templateId: 'tmpl-1',
          name: 'debian-12',
          displayText: 'Debian 12',
          osTypeName: 'Debian GNU/Linux 12 (64-bit)',
          url: 'https://user:token@images.internal/debian-12.qcow2',
          format: 'QCOW2',
          hypervisor: 'KVM',
          size: 2_147_483_648,
          isDynamicallyScalable: false,
          zoneId: ZONE,
          accountId: null,
          isPublic: true,
          created: AT,
        },
      },
      { type: 'TEMPLATE.CREATE', resourceType: 'Template', resourceId: 'tmpl-1', description: 'Registered template debian-12 (QCOW2, KVM)' },
    ],
    [
      { type: 'ConfigurationUpdated', data: { name: 'expunge.delay', value: '120', zoneId: null } },
      { type: 'CONFIGURATION.VALUE.EDIT', resourceType: 'Configuration', resourceId: 'expunge.delay', description: 'Set expunge.delay to 120 globally' },
    ],
    [
      { type: 'ConfigurationUpdated', data: { name: 'enable.dynamic.scale.vm', value: 'true', zoneId: ZONE } },
      {
        type: 'CONFIGURATION.VALUE.EDIT',
        resourceType: 'Configuration',
        resourceId: 'enable.dynamic.scale.vm',
        description: `Set enable.dynamic.scale.vm to true in zone ${ZONE}`,
      },
    ],
    [
      { type: 'ConfigurationReset', data: { name: 'expunge.delay', zoneId: null } },
      { type: 'CONFIGURATION.VALUE.EDIT', resourceType: 'Configuration', resourceId: 'expunge.delay', description: 'Reset expunge.delay to its default globally' },
    ],
  ];

  it.each(cases)('maps %o', (event, expected) => {
    expect(administrationActionEvent(event)).toEqual({ ...expected, state: 'Completed', level: 'INFO' });
  });

  it('describes custom service offerings by their bounds', () => {
    const custom = (compute: Extract<AdministrationDomainEvent, { type: 'ServiceOfferingCreated' }>['data']['compute']) =>
      administrationActionEvent({
        type: 'ServiceOfferingCreated',
        data: {
          offeringId: 'so-2',
          name: 'custom',
          displayText: 'Custom',
          compute,
          hostTags: [],
          dynamicScalingEnabled: false,
          offerHa: false,
          leaseDuration: null,
          leaseExpiryAction: null,
          created: AT,
        },
      })?.description;
    expect(custom({ kind: 'customConstrained', cpuSpeed: 1500, minCpuNumber: 1, maxCpuNumber: 4, minMemory: 512, maxMemory: 8192 })).toBe(
      'Created service offering custom (custom: 1–4 × 1500 MHz, 512–8192 MiB)',
    );
    expect(custom({ kind: 'customUnconstrained', cpuSpeed: null })).toBe('Created service offering custom (custom)');
  });

  it('keeps a host’s credentials and URLs, which may hold them, out of the description', () => {
    const description = administrationActionEvent(hostAdded)!.description;
    for (const secretish of ['hunter2', 'secret-ref-42', 'ssh://', 'root']) expect(description).not.toContain(secretish);
    const template = cases.find(([event]) => event.type === 'TemplateRegistered')![0];
    expect(administrationActionEvent(template)!.description).not.toContain('token');
  });

  it('records no action for the bookkeeping operations do on these streams', () => {
    expect(administrationActionEvent({ type: 'HostCapacityReserved', data: { hostId: 'host-1', instanceId: 'vm-1', cpuNumber: 1, cpuSpeed: 500, memory: 512 } })).toBeNull();
    expect(administrationActionEvent({ type: 'InstanceNameReserved', data: { accountId: 'acct-1', instanceId: 'vm-1', name: 'web-1' } })).toBeNull();
    expect(
      administrationActionEvent({ type: 'NicAddressAllocated', data: { networkId: 'net-1', nicId: 'nic-1', instanceId: 'vm-1', mac: '02:00:00:00:00:01', ip: null } }),
    ).toBeNull();
  });

  it('uses only types from the one list, and that list names each type once', () => {
    for (const [event] of cases) expect(isActionEventType(administrationActionEvent(event)!.type)).toBe(true);
    expect(new Set(ACTION_EVENT_TYPES).size).toBe(ACTION_EVENT_TYPES.length);
    expect(isActionEventType('HOST.CREATE')).toBe(false);
  });
});

describe('the events read model of the administration', () => {
  let dir: string;
  let store: SqliteEventStore;
  let model: ReadModel;
  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'vmledger-events-'));
    store = SqliteEventStore.open(join(dir, 'events.sqlite'), { pollIntervalMs: 10 });
    model = await ReadModel.open({ store, projections: [eventsProjection], directory: ':memory:' });
  });
  afterEach(async () => {
    await model.close();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const admin: Actor = { kind: 'user', userId: 'user-admin', accountId: 'acct-admin', role: 'ROOT_ADMIN' };

  async function append(stream: string, actor: Actor, ...events: AdministrationDomainEvent[]): Promise<void> {
    const result = await store.append(
      stream,
      events.map((event) => ({ id: randomUUID(), type: event.type, data: event.data, metadata: { actor, occurredAt: AT, correlationId: 'c' } })),
      'any',
    );
    expect(await model.waitForPosition(result.positions.at(-1)!, 5000)).toBe(true);
  }

  it('files what an admin does under the admin’s account and domain, with the admin as actor', async () => {
    await append(accountStream('acct-admin'), { kind: 'system', component: 'bootstrap' }, accountCreated('acct-admin', 'dom-root', 'admin'));
    await append(zoneStream(ZONE), admin, { type: 'ZoneCreated', data: { zoneId: ZONE, name: 'zone-b', networkType: 'Advanced', created: AT } });
    await append(hostStream('host-1'), admin, hostAdded, {
      type: 'HostCapacityReserved',
      data: { hostId: 'host-1', instanceId: 'vm-1', cpuNumber: 1, cpuSpeed: 500, memory: 512 },
    });

    const all = listEvents(model.db, { kind: 'all' }, {}, {}).nodes;
    expect(all.map((e) => [e.type, e.resourceType, e.resourceId, e.accountId, e.domainId])).toEqual([
      ['ACCOUNT.CREATE', 'Account', 'acct-admin', '', ''],
      ['ZONE.CREATE', 'Zone', ZONE, 'acct-admin', 'dom-root'],
      ['HOST.ADD', 'Host', 'host-1', 'acct-admin', 'dom-root'],
    ]);
    expect(all[0]!.actor).toEqual({ kind: 'system', component: 'bootstrap' });
    expect(all[1]!.actor).toEqual(admin);
    expect(all[1]).toMatchObject({ state: 'Completed', level: 'INFO', description: 'Created zone zone-b (Advanced)', occurredAt: AT });
    expect(listEvents(model.db, { kind: 'all' }, { type: 'HOST.ADD' }, {}).totalCount).toBe(1);
  });

  it('shows a domain admin what its domain’s accounts did, and a user nothing of the administration', async () => {
    await append(accountStream('acct-admin'), { kind: 'system', component: 'bootstrap' }, accountCreated('acct-admin', 'dom-root', 'admin'));
    await append(GLOBAL_CONFIG_STREAM, admin, { type: 'ConfigurationUpdated', data: { name: 'expunge.delay', value: '120', zoneId: null } });
    expect(listEvents(model.db, { kind: 'domains', domainIds: ['dom-root'] }, {}, {}).nodes.map((e) => e.type)).toEqual(['CONFIGURATION.VALUE.EDIT']);
    expect(listEvents(model.db, { kind: 'domains', domainIds: ['dom-other'] }, {}, {}).totalCount).toBe(0);
    expect(listEvents(model.db, { kind: 'account', accountId: 'acct-user' }, {}, {}).totalCount).toBe(0);
  });
});
