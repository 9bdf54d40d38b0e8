// Root-admin infrastructure and accounts. The control plane checks the role (FORBIDDEN) and
// validates the arguments; the nodes it returns are the projections' node shapes.
import type { Connection } from '../../../projections/pagination.js';
import type { Args, Resolver } from '../context.js';
import { optionalString, pageArgs, requiredString } from '../../control-plane/args.js';

/** The arguments as given, without graphql-js's null-prototype objects leaking into the control plane. */
function plain(args: Args): Record<string, unknown> {
  return JSON.parse(JSON.stringify(args)) as Record<string, unknown>;
}

export const infrastructureMutations: Readonly<Record<string, Resolver>> = {
  createZone: (_source, args, { controlPlane, caller }) => controlPlane.createZone(caller, plain(args)),
  addCluster: (_source, args, { controlPlane, caller }) => controlPlane.addCluster(caller, plain(args)),
  addHost: (_source, args, { controlPlane, caller }) => controlPlane.addHost(caller, plain(args)),
  createStoragePool: (_source, args, { controlPlane, caller }) => controlPlane.createStoragePool(caller, plain(args)),
  createNetwork: (_source, args, { controlPlane, caller }) => controlPlane.createNetwork(caller, plain(args)),
  createServiceOffering: (_source, args, { controlPlane, caller }) => controlPlane.createServiceOffering(caller, plain(args)),
  createDiskOffering: (_source, args, { controlPlane, caller }) => controlPlane.createDiskOffering(caller, plain(args)),
  registerTemplate: (_source, args, { controlPlane, caller }) => controlPlane.registerTemplate(caller, plain(args)),
  createAccount: (_source, args, { controlPlane, caller }) => controlPlane.createAccount(caller, plain(args)),
  updateConfiguration: (_source, args, { controlPlane, caller }) =>
    controlPlane.updateConfiguration(caller, {
      name: requiredString(args, 'name'),
      value: requiredString(args, 'value'),
      zoneId: optionalString(args, 'zoneId'),
    }),
};

/** `configurations` is one complete page: the key registry is small and fixed. */
function singlePage<T>(nodes: T[]): Connection<T> {
  return { nodes, pageInfo: { hasNextPage: false, endCursor: null }, totalCount: nodes.length };
}

export const infrastructureQueries: Readonly<Record<string, Resolver>> = {
  zones: (_source, args, { controlPlane, caller }) => controlPlane.zones(caller, pageArgs(args)),
  clusters: (_source, args, { controlPlane, caller }) => controlPlane.clusters(caller, { zoneId: optionalString(args, 'zoneId'), ...pageArgs(args) }),
  hosts: (_source, args, { controlPlane, caller }) =>
    controlPlane.hosts(caller, { zoneId: optionalString(args, 'zoneId'), clusterId: optionalString(args, 'clusterId'), ...pageArgs(args) }),
  storagePools: (_source, args, { controlPlane, caller }) => controlPlane.storagePools(caller, { zoneId: optionalString(args, 'zoneId'), ...pageArgs(args) }),
  networks: (_source, args, { controlPlane, caller }) => controlPlane.networks(caller, { zoneId: optionalString(args, 'zoneId'), ...pageArgs(args) }),
  serviceOfferings: (_source, args, { controlPlane, caller }) => controlPlane.serviceOfferings(caller, pageArgs(args)),
  diskOfferings: (_source, args, { controlPlane, caller }) => controlPlane.diskOfferings(caller, pageArgs(args)),
  templates: (_source, args, { controlPlane, caller }) => controlPlane.templates(caller, { zoneId: optionalString(args, 'zoneId'), ...pageArgs(args) }),
  accounts: (_source, args, { controlPlane, caller }) => controlPlane.accounts(caller, pageArgs(args)),
  osTypes: (_source, args, { controlPlane, caller }) =>
    controlPlane.osTypes(caller, { id: optionalString(args, 'id'), description: optionalString(args, 'description'), keyword: optionalString(args, 'keyword'), ...pageArgs(args) }),
  configurations: (_source, args, { controlPlane, caller }) =>
    singlePage(controlPlane.configurations(caller, { name: optionalString(args, 'name'), zoneId: optionalString(args, 'zoneId') })),
};

function field(source: unknown, name: string): unknown {
  return typeof source === 'object' && source !== null ? (source as Record<string, unknown>)[name] : undefined;
}

export const infrastructureTypeResolvers: Readonly<Record<string, Readonly<Record<string, Resolver>>>> = {
  // registerTemplate takes `osType`; the template node calls it `osTypeName`.
  Template: { osType: (source) => field(source, 'osType') ?? field(source, 'osTypeName') },
};
