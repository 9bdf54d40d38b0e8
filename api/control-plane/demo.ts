// The demo zone of API.md, built through the same operations an operator would call. Idempotent by
// name: whatever already exists (a previous seed, or a partial one interrupted by a crash) is kept
// and only what is missing is created, so seeding twice leaves exactly one demo zone.
import type { HostNode } from '../../projections/infrastructure/index.js';
import type { Connection, PageRequest } from '../../projections/pagination.js';
import { requireRootAdmin, type ControlPlaneContext } from './context.js';
import {
  addCluster,
  addHost,
  clusters,
  createDiskOffering,
  createNetwork,
  createServiceOffering,
  createStoragePool,
  createZone,
  diskOfferings,
  hosts,
  networks,
  registerTemplate,
  serviceOfferings,
  storagePools,
  templates,
  zones,
  type InfrastructureServices,
} from './infrastructure/index.js';
import type { Caller, InfrastructureArgs } from './port.js';

import type { DiskImageDefinition, UnmanagedDomainDefinition } from '../../adapters/hypervisor/simulator/index.js';

const GiB = 1024 ** 3;
const TiB = 1024 ** 4;

export const DEMO = {
  zone: 'demo-zone',
  cluster: 'demo-cluster',
  hosts: ['sim-host-1', 'sim-host-2', 'sim-host-3'],
  storagePool: 'demo-nfs',
  networks: { l2: 'demo-l2', shared: 'demo-shared' },
  serviceOfferings: { small: 'Small Instance', medium: 'Medium Instance', custom: 'Custom Constrained' },
  diskOfferings: { small: 'Small', custom: 'Custom' },
  template: 'demo-linux',
} as const;

/** The ids of the demo zone's parts, for the composition root's log line and for tests. */
export interface DemoZone {
  readonly zoneId: string;
  readonly clusterId: string;
  readonly hostIds: readonly string[];
  readonly storagePoolId: string;
  readonly networkIds: { readonly l2: string; readonly shared: string };
  readonly serviceOfferingIds: { readonly small: string; readonly medium: string; readonly custom: string };
  readonly diskOfferingIds: { readonly small: string; readonly custom: string };
  readonly templateId: string;
}

const PAGE = 500;

/** The first node of a list (walked page by page) with this name that `also` accepts. */
function findNamed<T extends { readonly id: string; readonly name: string }>(
  list: (page: PageRequest) => Connection<T>,
  name: string,
  also: (node: T) => boolean = () => true,
): T | undefined {
  let after: string | null = null;
  for (;;) {
    const page: Connection<T> = list({ first: PAGE, after });
    const found = page.nodes.find((node) => node.name === name && also(node));
    if (found || !page.pageInfo.hasNextPage) return found;
    after = page.pageInfo.endCursor;
  }
}

async function ensure<T extends { readonly id: string; readonly name: string }>(
  list: (page: PageRequest) => Connection<T>,
  name: string,
  create: () => Promise<T>,
  also?: (node: T) => boolean,
): Promise<string> {
  return (findNamed(list, name, also) ?? (await create())).id;
}

/**
 * Creates what is missing of the demo zone. Hosts that already exist are not handed to
 * `onHostAdded` again: the composition root serves every existing simulator host when it starts.
 */
export async function seedDemo(context: ControlPlaneContext, caller: Caller, services: InfrastructureServices): Promise<DemoZone> {
  requireRootAdmin(caller, 'seedDemo');
  const make = <T>(operation: (context: ControlPlaneContext, caller: Caller, args: InfrastructureArgs) => Promise<T>, args: InfrastructureArgs) => () =>
    operation(context, caller, args);

  const zoneId = await ensure((page) => zones(context, caller, page), DEMO.zone, make(createZone, { name: DEMO.zone, networkType: 'Advanced' }));
  const inZone = { zoneId };
  const clusterId = await ensure(
    (page) => clusters(context, caller, { ...page, ...inZone }),
    DEMO.cluster,
    make(addCluster, { zoneId, name: DEMO.cluster, hypervisor: 'KVM' }),
  );
  const hostIds: string[] = [];
  for (const name of DEMO.hosts) {
    hostIds.push(
      await ensure(
        (page) => hosts(context, caller, { ...page, clusterId }),
        name,
        (): Promise<HostNode> =>
          addHost(context, caller, { clusterId, name, driver: 'simulator', cpuNumber: 16, cpuSpeed: 2000, memory: 65_536 }, services),
      ),
    );
  }
  const storagePoolId = await ensure(
    (page) => storagePools(context, caller, { ...page, ...inZone }),
    DEMO.storagePool,
    make(createStoragePool, { zoneId, name: DEMO.storagePool, type: 'NFS', url: 'nfs://nfs.demo.internal/export/primary', capacityBytes: 10 * TiB }),
  );
  const networkList = (page: PageRequest) => networks(context, caller, { ...page, ...inZone });
  const l2 = await ensure(networkList, DEMO.networks.l2, make(createNetwork, { zoneId, name: DEMO.networks.l2, type: 'L2', vlan: 100 }));
  const shared = await ensure(
    networkList,
    DEMO.networks.shared,
    make(createNetwork, { zoneId, name: DEMO.networks.shared, type: 'Shared', vlan: 200, cidr: '10.1.0.0/24' }),
  );

  const offeringList = (page: PageRequest) => serviceOfferings(context, caller, page);
  const small = await ensure(
    offeringList,
    DEMO.serviceOfferings.small,
    make(createServiceOffering, { name: DEMO.serviceOfferings.small, cpuNumber: 1, cpuSpeed: 500, memory: 512 }),
  );
  const medium = await ensure(
    offeringList,
    DEMO.serviceOfferings.medium,
    make(createServiceOffering, { name: DEMO.serviceOfferings.medium, cpuNumber: 2, cpuSpeed: 1000, memory: 1024 }),
  );
  const custom = await ensure(
    offeringList,
    DEMO.serviceOfferings.custom,
    make(createServiceOffering, {
      name: DEMO.serviceOfferings.custom,
      customized: true,
      cpuSpeed: 1000,
      minCpuNumber: 1,
      maxCpuNumber: 8,
      minMemory: 512,
      maxMemory: 16_384,
    }),
  );

  const diskList = (page: PageRequest) => diskOfferings(context, caller, page);
  const smallDisk = await ensure(diskList, DEMO.diskOfferings.small, make(createDiskOffering, { name: DEMO.diskOfferings.small, diskSize: 5 }));
  const customDisk = await ensure(diskList, DEMO.diskOfferings.custom, make(createDiskOffering, { name: DEMO.diskOfferings.custom, customized: true }));

  const templateId = await ensure(
    (page) => templates(context, caller, { ...page, ...inZone }),
    DEMO.template,
    make(registerTemplate, {
      zoneId,
      name: DEMO.template,
      displayText: 'Debian 12 (demo)',
      osType: 'Debian GNU/Linux 12 (64-bit)',
      url: 'https://cloud.debian.org/images/cloud/bookworm/latest/debian-12-genericcloud-amd64.qcow2',
      size: 2 * GiB,
      format: 'QCOW2',
      hypervisor: 'KVM',
      isDynamicallyScalable: true,
      isPublic: true,
    }),
  );

  return {
    zoneId,
    clusterId,
    hostIds,
    storagePoolId,
    networkIds: { l2, shared },
    serviceOfferingIds: { small, medium, custom },
    diskOfferingIds: { small: smallDisk, custom: customDisk },
    templateId,
  };
}

/**
 * A domain nobody manages on the demo's first host, for trying `unmanagedInstances` and
 * `importUnmanagedInstance` (README, "Unmanage and import on a managed host"). The simulator keeps its
 * domains in memory, so the composition root puts it there on every start while the host has none
 * of that name (once imported, the instance's domain is restored instead).
 */
/**
 * A qcow2 image on the demo's NFS pool (its path `/export/primary`), for trying `importVm` with
 * `importSource: SHARED` and `diskPath: "golden/debian-12.qcow2"`. Put there on every start, as the
 * simulator keeps its pools' files in memory (an instance imported from it then starts on it again).
 */
export const DEMO_DISK_IMAGE: { readonly path: string; readonly definition: DiskImageDefinition } = {
  path: '/export/primary/golden/debian-12.qcow2',
  definition: { virtualSize: 2 * GiB },
};

export const DEMO_UNMANAGED_DOMAIN: UnmanagedDomainDefinition = {
  name: 'legacy-app',
  running: true,
  cpuNumber: 1,
  cpuSpeed: 500,
  memory: 512,
  osDisplayName: 'Debian GNU/Linux 12 (64-bit)',
  disks: [{ capacity: 2 * GiB }, { capacity: 5 * GiB }],
  nics: [{ mac: '52:54:00:de:40:01', vlan: 100 }],
};
