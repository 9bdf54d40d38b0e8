// Unmanage and import: argument translation only; every decision is the control plane's.
import { optionalBoolean, optionalDetails, optionalEnum, optionalString, pageArgs, requiredString, type Args } from '../../control-plane/args.js';
import { ApiError } from '../../control-plane/port.js';
import { IMPORT_SOURCES, type ImportSource, type ImportVmArgs } from '../../control-plane/instances/import-external.js';
import { IMPORT_VM_TASK_FILTERS } from '../../control-plane/instances/import-vm-tasks.js';
import type { Resolver } from '../context.js';

/** A list of input objects with string fields, as GraphQL has typed them (the control plane may be called directly). */
function pairs<K extends string>(args: Args, name: string, keys: readonly K[]): Array<Record<K, string>> | null {
  const value = args[name];
  if (value === undefined || value === null) return null;
  if (!Array.isArray(value)) throw new ApiError('BAD_USER_INPUT', `${name} must be a list`, name);
  return value.map((item: unknown, i) => {
    const entry = (typeof item === 'object' && item !== null ? item : {}) as Record<string, unknown>;
    const read = keys.map((key) => {
      const field = entry[key];
      if (typeof field !== 'string') throw new ApiError('BAD_USER_INPUT', `${name}[${i}].${key} must be a string`, `${name}[${i}].${key}`);
      return [key, field] as const;
    });
    return Object.fromEntries(read) as Record<K, string>;
  });
}

function importSource(args: Args): ImportSource | null {
  const value = args['importSource'];
  if (value === undefined || value === null) return null;
  if (typeof value !== 'string' || !(IMPORT_SOURCES as readonly string[]).includes(value)) throw new ApiError('BAD_USER_INPUT', `importSource must be one of ${IMPORT_SOURCES.join(', ')}`, 'importSource');
  return value as ImportSource;
}

export const importQueries: Readonly<Record<string, Resolver>> = {
  importVmTasks: (_source, args, { controlPlane, caller }) =>
    controlPlane.importVmTasks(caller, {
      zoneId: requiredString(args, 'zoneId'),
      accountId: optionalString(args, 'accountId'),
      convertInstanceHostId: optionalString(args, 'convertInstanceHostId'),
      tasksFilter: optionalEnum(args, 'tasksFilter', IMPORT_VM_TASK_FILTERS),
      ...pageArgs(args),
    }),
  unmanagedInstances: (_source, args, { controlPlane, caller }) =>
    controlPlane.unmanagedInstances(caller, { clusterId: requiredString(args, 'clusterId'), hostId: optionalString(args, 'hostId'), name: optionalString(args, 'name') }),
  vmsForImport: (_source, args, { controlPlane, caller }) =>
    controlPlane.vmsForImport(caller, {
      zoneId: requiredString(args, 'zoneId'),
      host: requiredString(args, 'host'),
      username: requiredString(args, 'username'),
      password: optionalString(args, 'password'),
      importSource: importSource(args),
    }),
  importVmPreview: (_source, args, { controlPlane, caller }) => controlPlane.importVmPreview(caller, importVmArgs(args)),
};

/** The arguments importUnmanagedInstance and importVm share, read the same way for both. */
function sharedImportArgs(args: Args) {
  return {
    displayName: optionalString(args, 'displayName'),
    hostName: optionalString(args, 'hostName'),
    account: optionalString(args, 'account'),
    domainId: optionalString(args, 'domainId'),
    templateId: optionalString(args, 'templateId'),
    nicNetworkList: pairs(args, 'nicNetworkList', ['nic', 'network']),
    nicIpAddressList: pairs(args, 'nicIpAddressList', ['nic', 'ip4Address']),
    dataDiskOfferingList: pairs(args, 'dataDiskOfferingList', ['disk', 'diskOffering']),
    details: optionalDetails(args),
    forced: optionalBoolean(args, 'forced'),
  };
}

/** importVm's arguments, which importVmPreview takes too. */
function importVmArgs(args: Args): ImportVmArgs {
  const source = importSource(args);
  if (source === null) throw new ApiError('BAD_USER_INPUT', 'importSource is required', 'importSource');
  return {
    zoneId: requiredString(args, 'zoneId'),
    importSource: source,
    name: requiredString(args, 'name'),
    serviceOfferingId: requiredString(args, 'serviceOfferingId'),
    ...sharedImportArgs(args),
    clusterId: optionalString(args, 'clusterId'),
    host: optionalString(args, 'host'),
    username: optionalString(args, 'username'),
    password: optionalString(args, 'password'),
    tmpPath: optionalString(args, 'tmpPath'),
    hostId: optionalString(args, 'hostId'),
    diskPath: optionalString(args, 'diskPath'),
    storageId: optionalString(args, 'storageId'),
    networkId: optionalString(args, 'networkId'),
    convertInstanceHostId: optionalString(args, 'convertInstanceHostId'),
    convertInstancePoolId: optionalString(args, 'convertInstancePoolId'),
    importInstanceHostId: optionalString(args, 'importInstanceHostId'),
    extraParams: optionalString(args, 'extraParams'),
  };
}

export const importMutations: Readonly<Record<string, Resolver>> = {
  importUnmanagedInstance: (_source, args, { controlPlane, caller }) =>
    controlPlane.importUnmanagedInstance(caller, {
      clusterId: requiredString(args, 'clusterId'),
      name: requiredString(args, 'name'),
      serviceOfferingId: requiredString(args, 'serviceOfferingId'),
      ...sharedImportArgs(args),
      migrateAllowed: optionalBoolean(args, 'migrateAllowed'),
    }),
  unmanageVirtualMachine: (_source, args, { controlPlane, caller }) => controlPlane.unmanageVirtualMachine(caller, { id: requiredString(args, 'id') }),
  importVm: (_source, args, { controlPlane, caller }) => controlPlane.importVm(caller, importVmArgs(args)),
};
