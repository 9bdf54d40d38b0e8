// The GraphQL contract of API.md. Outside clients are written against these names; a failure here
// means the schema broke them, not that this list needs updating.
import { describe, expect, it } from 'vitest';
import {
  isEnumType,
  isInputObjectType,
  isObjectType,
  printSchema,
  type GraphQLArgument,
  type GraphQLField,
  type GraphQLSchema,
} from '../../../api/graphql/graphql-js.js';
import { buildExecutableSchema } from '../../../api/graphql/executable-schema.js';

const schema: GraphQLSchema = buildExecutableSchema();

/** `name`, `name!` (required) or `name=default`, then `: ReturnType`. */
type Operation = { readonly args: readonly string[]; readonly returns: string };

const QUERIES: Readonly<Record<string, Operation>> = {
  virtualMachines: {
    args: ['id', 'ids', 'state', 'zoneId', 'hostId', 'accountId', 'leased', 'keyword', 'first', 'after'],
    returns: 'VirtualMachineConnection!',
  },
  virtualMachine: { args: ['id!'], returns: 'VirtualMachine' },
  virtualMachineAsOf: { args: ['id!', 'at!'], returns: 'VirtualMachine' },
  asyncJob: { args: ['id!'], returns: 'AsyncJob' },
  asyncJobs: { args: ['instanceId', 'accountId', 'cmd', 'status', 'first', 'after'], returns: 'AsyncJobConnection!' },
  vmSchedules: { args: ['virtualMachineId!', 'id', 'action', 'enabled', 'first', 'after'], returns: 'VMScheduleConnection!' },
  affinityGroups: { args: ['id', 'name', 'type', 'virtualMachineId', 'accountId', 'domainId', 'first', 'after'], returns: 'AffinityGroupConnection!' },
  events: { args: ['resourceId', 'type', 'startDate', 'endDate', 'first', 'after'], returns: 'EventConnection!' },
  usageEvents: { args: ['accountId', 'type', 'startDate', 'endDate', 'first', 'after'], returns: 'UsageEventConnection!' },
  zones: { args: [], returns: 'ZoneConnection!' },
  clusters: { args: [], returns: 'ClusterConnection!' },
  hosts: { args: [], returns: 'HostConnection!' },
  storagePools: { args: [], returns: 'StoragePoolConnection!' },
  networks: { args: [], returns: 'NetworkConnection!' },
  serviceOfferings: { args: [], returns: 'ServiceOfferingConnection!' },
  diskOfferings: { args: [], returns: 'DiskOfferingConnection!' },
  templates: { args: [], returns: 'TemplateConnection!' },
  accounts: { args: [], returns: 'AccountConnection!' },
  configurations: { args: ['name', 'zoneId'], returns: 'ConfigurationConnection!' },
  unmanagedInstances: { args: ['clusterId!', 'hostId', 'name'], returns: 'UnmanagedInstanceConnection!' },
  // Not in API.md: CloudStack's listOsTypes, the catalogue updateVirtualMachine(osTypeId) and registerTemplate(osType) check against.
  osTypes: { args: ['id', 'description', 'keyword', 'first', 'after'], returns: 'OsTypeConnection!' },
};

const MUTATIONS: Readonly<Record<string, Operation>> = {
  deployVirtualMachine: {
    args: [
      'zoneId!', 'serviceOfferingId!', 'templateId!', 'name', 'displayName', 'group', 'networkIds', 'hostId', 'clusterId',
      'startVm=true', 'affinityGroupIds', 'affinityGroupNames', 'keyPairs', 'userData', 'details', 'leaseDuration', 'leaseExpiryAction', 'account',
      'domainId', 'clientToken',
    ],
    returns: 'AsyncJob!',
  },
  startVirtualMachine: { args: ['id!', 'hostId', 'considerLastHost=true'], returns: 'AsyncJob!' },
  stopVirtualMachine: { args: ['id!', 'forced=false'], returns: 'AsyncJob!' },
  rebootVirtualMachine: { args: ['id!', 'forced=false'], returns: 'AsyncJob!' },
  destroyVirtualMachine: { args: ['id!', 'expunge=false', 'volumeIds'], returns: 'AsyncJob!' },
  migrateVirtualMachine: { args: ['virtualMachineId!', 'hostId'], returns: 'AsyncJob!' },
  restoreVirtualMachine: { args: ['virtualMachineId!', 'templateId', 'expunge'], returns: 'AsyncJob!' },
  scaleVirtualMachine: { args: ['id!', 'serviceOfferingId!', 'details'], returns: 'AsyncJob!' },
  recoverVirtualMachine: { args: ['id!'], returns: 'VirtualMachine!' },
  expungeVirtualMachine: { args: ['id!'], returns: 'Boolean!' },
  updateVirtualMachine: {
    args: ['id!', 'displayName', 'group', 'osTypeId', 'deleteProtection', 'leaseDuration', 'leaseExpiryAction', 'details', 'haEnable'],
    returns: 'VirtualMachine!',
  },
  changeServiceForVirtualMachine: { args: ['id!', 'serviceOfferingId!', 'details'], returns: 'VirtualMachine!' },
  createVMSchedule: {
    args: ['virtualMachineId!', 'action!', 'schedule!', 'timeZone!', 'description', 'startDate', 'endDate', 'enabled'],
    returns: 'VMSchedule!',
  },
  updateVMSchedule: { args: ['id!', 'schedule', 'timeZone', 'description', 'startDate', 'endDate', 'enabled'], returns: 'VMSchedule!' },
  deleteVMSchedule: { args: ['virtualMachineId!', 'id', 'ids'], returns: 'Int!' },
  createAffinityGroup: { args: ['name!', 'type!', 'description', 'account', 'domainId'], returns: 'AffinityGroup!' },
  deleteAffinityGroup: { args: ['id', 'name', 'account', 'domainId'], returns: 'Boolean!' },
  updateVMAffinityGroup: { args: ['id!', 'affinityGroupIds', 'affinityGroupNames'], returns: 'VirtualMachine!' },
  importUnmanagedInstance: {
    args: [
      'clusterId!', 'name!', 'serviceOfferingId!', 'displayName', 'hostName', 'account', 'domainId', 'templateId', 'nicNetworkList',
      'nicIpAddressList', 'dataDiskOfferingList', 'details', 'migrateAllowed=false', 'forced=false',
    ],
    returns: 'AsyncJob!',
  },
  unmanageVirtualMachine: { args: ['id!'], returns: 'AsyncJob!' },
  createZone: { args: ['name!', 'networkType'], returns: 'Zone!' },
  addCluster: { args: ['zoneId!', 'name!', 'hypervisor!'], returns: 'Cluster!' },
  addHost: {
    args: ['clusterId!', 'name!', 'driver!', 'cpuNumber', 'cpuSpeed', 'memory', 'hostTags', 'url', 'username', 'password', 'simulator'],
    returns: 'Host!',
  },
  createStoragePool: {
    args: ['zoneId!', 'name!', 'type!', 'path', 'url', 'server', 'capacityBytes', 'clusterId', 'tags', 'scope'],
    returns: 'StoragePool!',
  },
  createNetwork: { args: ['zoneId!', 'name!', 'type!', 'vlan', 'cidr'], returns: 'Network!' },
  createServiceOffering: {
    args: [
      'name!', 'cpuNumber', 'cpuSpeed', 'memory', 'customized', 'minCpuNumber', 'maxCpuNumber', 'minMemory', 'maxMemory', 'hostTags',
      'dynamicScalingEnabled', 'leaseDuration', 'leaseExpiryAction',
    ],
    returns: 'ServiceOffering!',
  },
  createDiskOffering: { args: ['name!', 'diskSize', 'customized'], returns: 'DiskOffering!' },
  registerTemplate: {
    args: ['zoneId', 'name!', 'osType!', 'url', 'size', 'format', 'hypervisor', 'isDynamicallyScalable'],
    returns: 'Template!',
  },
  createAccount: { args: ['name!', 'role!', 'domainId'], returns: 'Account!' },
  updateConfiguration: { args: ['name!', 'value!', 'zoneId'], returns: 'Configuration!' },
};

const SUBSCRIPTIONS: Readonly<Record<string, Operation>> = {
  asyncJobUpdated: { args: ['id!'], returns: 'AsyncJob!' },
};

/** Fields of API.md's types, with their exact types where API.md gives them. */
const TYPES: Readonly<Record<string, readonly string[]>> = {
  AsyncJob: [
    'id: ID!', 'cmd: String!', 'status: JobStatus!', 'progress: Int', 'createdAt: DateTime!', 'completedAt: DateTime', 'error: JobError',
    'result: VirtualMachine', 'step: String', 'resourceType: String!', 'resourceId: ID',
  ],
  JobError: ['code: String!', 'errorCode: Int!', 'message: String!'],
  // instanceName is nullable, unlike API.md's String!: USER callers get it null with hostId and
  // lastHostId, as CloudStack shows placement to admins only (README, "A session").
  VirtualMachine: [
    'id: ID!', 'name: String!', 'displayName: String!', 'instanceName: String', 'state: VmState!', 'zoneId: ID!', 'hostId: ID',
    'lastHostId: ID', 'serviceOfferingId: ID!', 'templateId: ID!', 'accountId: ID!', 'domainId: ID!', 'group: String',
    'cpuNumber: Int!', 'cpuSpeed: Int!', 'memory: Int!', 'deleteProtection: Boolean!', 'leaseDuration: Int',
    'leaseExpiryAction: LeaseExpiryAction', 'leaseExpiryDate: DateTime', 'details: JSON', 'nics: [Nic!]!', 'volumes: [Volume!]!',
    'affinityGroupIds: [ID!]!', 'created: DateTime!',
  ],
  AffinityGroup: ['id: ID!', 'name: String!', 'type: String!', 'description', 'accountId: ID!', 'domainId: ID!', 'virtualMachineIds: [ID!]!'],
  Nic: ['id: ID!', 'networkId: ID!', 'macAddress: String!', 'ipAddress: String', 'isDefault: Boolean!', 'deviceId: Int!'],
  Volume: ['id: ID!', 'name: String!', 'type: String!', 'size: Float!', 'storagePoolId: ID', 'state: String!'],
  Account: ['id: ID!', 'name: String!', 'role', 'domainId: ID!', 'apiKey'],
  Configuration: ['name: String!', 'value: String!', 'zoneId'],
  Event: ['type', 'resourceId', 'description', 'actor', 'occurredAt'],
  UsageEvent: [
    'type', 'accountId', 'zoneId', 'resourceId', 'resourceName', 'offeringId', 'templateId', 'size', 'resourceType', 'details',
    'occurredAt', 'position', 'eventId',
  ],
  Host: ['id', 'name', 'zoneId', 'clusterId', 'cpuTotal', 'cpuAllocated', 'cpuFree', 'memoryTotal', 'memoryAllocated', 'memoryFree'],
  Zone: ['id', 'name'],
  Cluster: ['id', 'zoneId', 'name', 'hypervisor'],
  StoragePool: ['id', 'name', 'zoneId', 'type', 'capacityBytes'],
  Network: ['id', 'name', 'zoneId', 'type', 'vlan', 'cidr'],
  ServiceOffering: ['id', 'name', 'cpuNumber', 'cpuSpeed', 'memory', 'customized'],
  DiskOffering: ['id', 'name', 'diskSize', 'customized'],
  Template: ['id', 'name', 'osType', 'size', 'format', 'hypervisor', 'isDynamicallyScalable'],
  PageInfo: ['hasNextPage: Boolean!', 'endCursor: String'],
  UnmanagedInstance: ['name', 'hostId', 'clusterId', 'powerState', 'cpuNumber', 'cpuSpeed', 'cpuCoresPerSocket', 'memory', 'osDisplayName', 'disks: [UnmanagedDisk!]!', 'nics: [UnmanagedNic!]!'],
  UnmanagedDisk: ['id', 'capacity', 'controller', 'controllerUnit', 'imagePath', 'position', 'datastoreName'],
  UnmanagedNic: ['id', 'macAddress', 'networkName', 'vlanId', 'pciSlot', 'adapterType', 'ipAddress'],
  OsType: ['id: ID!', 'description: String!', 'osCategoryName: String!'],
};

const ENUMS: Readonly<Record<string, readonly string[]>> = {
  VmState: ['Starting', 'Running', 'Stopping', 'Stopped', 'Destroyed', 'Expunging', 'Migrating', 'Error', 'Unknown', 'Shutdown'],
  LeaseExpiryAction: ['STOP', 'DESTROY'],
  JobStatus: ['PENDING', 'SUCCEEDED', 'FAILED'],
  SimulatorFault: ['START', 'STOP', 'REBOOT', 'MIGRATE', 'SNAPSHOT'],
  Role: ['ROOT_ADMIN', 'DOMAIN_ADMIN', 'USER'],
};

function rootFields(type: 'Query' | 'Mutation' | 'Subscription'): Record<string, GraphQLField<unknown, unknown>> {
  const root = type === 'Query' ? schema.getQueryType() : type === 'Mutation' ? schema.getMutationType() : schema.getSubscriptionType();
  if (!root) throw new Error(`no ${type} type`);
  return root.getFields();
}

function describeArgument(arg: GraphQLArgument, expected: string): string {
  if (expected.endsWith('!')) return `${arg.name}${String(arg.type).endsWith('!') ? '!' : ''}`;
  if (expected.includes('=')) return `${arg.name}=${String(arg.defaultValue)}`;
  return arg.name;
}

function checkOperations(type: 'Query' | 'Mutation' | 'Subscription', operations: Readonly<Record<string, Operation>>): void {
  const fields = rootFields(type);
  for (const [name, operation] of Object.entries(operations)) {
    const field = fields[name];
    expect(field, `${type}.${name}`).toBeDefined();
    if (!field) continue;
    expect(String(field.type), `${type}.${name} returns`).toBe(operation.returns);
    for (const expected of operation.args) {
      const argName = expected.replace(/[!=].*$/, '');
      const arg = field.args.find((candidate) => candidate.name === argName);
      expect(arg, `${type}.${name}(${argName})`).toBeDefined();
      if (arg) expect(describeArgument(arg, expected), `${type}.${name}(${argName})`).toBe(expected);
      // Optional in API.md means optional here: a client may leave it out.
      if (arg && !expected.endsWith('!')) expect(String(arg.type).endsWith('!'), `${type}.${name}(${argName}) is optional`).toBe(false);
    }
    // Extra arguments are allowed, but never required ones: they would break existing clients.
    for (const arg of field.args) {
      if (!operation.args.some((expected) => expected.replace(/[!=].*$/, '') === arg.name)) {
        expect(String(arg.type).endsWith('!') && arg.defaultValue === undefined, `${type}.${name}(${arg.name}) is an extra required argument`).toBe(false);
      }
    }
  }
}

describe('GraphQL contract (API.md)', () => {
  it('builds from the SDL with every operation wired', () => {
    expect(printSchema(schema)).toContain('type Query');
  });

  it('has every query with its arguments', () => checkOperations('Query', QUERIES));
  it('has every mutation with its arguments and defaults', () => checkOperations('Mutation', MUTATIONS));
  it('has the asyncJobUpdated subscription', () => checkOperations('Subscription', SUBSCRIPTIONS));

  it('has the fields of API.md types', () => {
    for (const [typeName, fields] of Object.entries(TYPES)) {
      const type = schema.getType(typeName);
      expect(isObjectType(type), typeName).toBe(true);
      if (!isObjectType(type)) continue;
      const actual = type.getFields();
      for (const expected of fields) {
        const [name, typeString] = expected.split(': ') as [string, string | undefined];
        expect(actual[name], `${typeName}.${name}`).toBeDefined();
        if (typeString !== undefined) expect(String(actual[name]?.type), `${typeName}.${name}`).toBe(typeString);
      }
    }
  });

  it('has the enums of API.md', () => {
    for (const [enumName, values] of Object.entries(ENUMS)) {
      const type = schema.getType(enumName);
      expect(isEnumType(type), enumName).toBe(true);
      if (isEnumType(type)) expect(type.getValues().map((value) => value.name)).toEqual(values);
    }
  });

  it('types createNetwork.type as L2 | Shared | Isolated and addHost.simulator as SimulatorInput', () => {
    const networkType = rootFields('Mutation')['createNetwork']?.args.find((arg) => arg.name === 'type');
    expect(String(networkType?.type)).toBe('GuestNetworkType!');
    const guest = schema.getType('GuestNetworkType');
    expect(isEnumType(guest) ? guest.getValues().map((value) => value.name) : []).toEqual(['L2', 'Shared', 'Isolated']);
    const simulator = schema.getType('SimulatorInput');
    expect(isInputObjectType(simulator)).toBe(true);
    if (isInputObjectType(simulator)) {
      const fields = simulator.getFields();
      expect(Object.keys(fields)).toEqual(expect.arrayContaining(['startDelayMs', 'stopDelayMs', 'failOn']));
      expect(String(fields['failOn']?.type)).toBe('[SimulatorFault!]');
    }
  });

  it('gives every list a connection with nodes, pageInfo and totalCount', () => {
    for (const [name, field] of Object.entries(rootFields('Query'))) {
      const typeName = String(field.type).replace(/!$/, '');
      if (!typeName.endsWith('Connection')) continue;
      const type = schema.getType(typeName);
      expect(isObjectType(type), name).toBe(true);
      if (!isObjectType(type)) continue;
      const fields = type.getFields();
      expect(String(fields['pageInfo']?.type), `${typeName}.pageInfo`).toBe('PageInfo!');
      expect(String(fields['totalCount']?.type), `${typeName}.totalCount`).toBe('Int!');
      expect(String(fields['nodes']?.type), `${typeName}.nodes`).toMatch(/^\[\w+!\]!$/);
    }
    const lists = Object.entries(rootFields('Query')).filter(([, field]) => String(field.type).startsWith('['));
    expect(lists.map(([name]) => name)).toEqual([]);
  });
});
