// Instance queries and mutations: argument translation only; every decision is the control plane's.
import { LEASE_EXPIRY_ACTIONS } from '../../../domain/offering/index.js';
import {
  optionalBoolean,
  optionalDetails,
  optionalEnum,
  optionalNumber,
  optionalString,
  optionalStringList,
  pageArgs,
  requiredString,
} from '../../control-plane/args.js';
import type { GraphqlContext, Resolver } from '../context.js';

export const instanceQueries: Readonly<Record<string, Resolver>> = {
  virtualMachines: (_source, args, { controlPlane, caller }) =>
    controlPlane.virtualMachines(caller, {
      id: optionalString(args, 'id'),
      ids: optionalStringList(args, 'ids'),
      state: optionalString(args, 'state'),
      zoneId: optionalString(args, 'zoneId'),
      hostId: optionalString(args, 'hostId'),
      accountId: optionalString(args, 'accountId'),
      leased: optionalBoolean(args, 'leased'),
      keyword: optionalString(args, 'keyword'),
      ...pageArgs(args),
    }),
  virtualMachine: (_source, args, { controlPlane, caller }) => controlPlane.virtualMachine(caller, requiredString(args, 'id')) ?? null,
  // `at` arrives normalised to UTC by the DateTime scalar.
  virtualMachineAsOf: async (_source, args, { controlPlane, caller }) =>
    (await controlPlane.virtualMachineAsOf(caller, requiredString(args, 'id'), requiredString(args, 'at'))) ?? null,
};

export const instanceMutations: Readonly<Record<string, Resolver>> = {
  deployVirtualMachine: (_source, args, { controlPlane, caller }) =>
    controlPlane.deployVirtualMachine(caller, {
      zoneId: requiredString(args, 'zoneId'),
      serviceOfferingId: requiredString(args, 'serviceOfferingId'),
      templateId: requiredString(args, 'templateId'),
      name: optionalString(args, 'name'),
      displayName: optionalString(args, 'displayName'),
      group: optionalString(args, 'group'),
      networkIds: optionalStringList(args, 'networkIds'),
      hostId: optionalString(args, 'hostId'),
      clusterId: optionalString(args, 'clusterId'),
      startVm: optionalBoolean(args, 'startVm'),
      affinityGroupIds: optionalStringList(args, 'affinityGroupIds'),
      affinityGroupNames: optionalStringList(args, 'affinityGroupNames'),
      keyPairs: optionalStringList(args, 'keyPairs'),
      userData: optionalString(args, 'userData'),
      details: optionalDetails(args),
      leaseDuration: optionalNumber(args, 'leaseDuration'),
      leaseExpiryAction: optionalEnum(args, 'leaseExpiryAction', LEASE_EXPIRY_ACTIONS),
      account: optionalString(args, 'account'),
      domainId: optionalString(args, 'domainId'),
      clientToken: optionalString(args, 'clientToken'),
    }),
  startVirtualMachine: (_source, args, { controlPlane, caller }) =>
    controlPlane.startVirtualMachine(caller, {
      id: requiredString(args, 'id'),
      hostId: optionalString(args, 'hostId'),
      considerLastHost: optionalBoolean(args, 'considerLastHost'),
    }),
  stopVirtualMachine: (_source, args, { controlPlane, caller }) =>
    controlPlane.stopVirtualMachine(caller, { id: requiredString(args, 'id'), forced: optionalBoolean(args, 'forced') }),
  rebootVirtualMachine: (_source, args, { controlPlane, caller }) =>
    controlPlane.rebootVirtualMachine(caller, { id: requiredString(args, 'id'), forced: optionalBoolean(args, 'forced') }),
  destroyVirtualMachine: (_source, args, { controlPlane, caller }) =>
    controlPlane.destroyVirtualMachine(caller, {
      id: requiredString(args, 'id'),
      expunge: optionalBoolean(args, 'expunge'),
      volumeIds: optionalStringList(args, 'volumeIds'),
    }),
  migrateVirtualMachine: (_source, args, { controlPlane, caller }) =>
    controlPlane.migrateVirtualMachine(caller, {
      virtualMachineId: requiredString(args, 'virtualMachineId'),
      hostId: optionalString(args, 'hostId'),
    }),
  migrateVirtualMachineWithVolume: (_source, args, { controlPlane, caller }) =>
    controlPlane.migrateVirtualMachineWithVolume(caller, {
      virtualMachineId: requiredString(args, 'virtualMachineId'),
      hostId: optionalString(args, 'hostId'),
      migrateTo: migrateTo(args),
    }),
  restoreVirtualMachine: (_source, args, { controlPlane, caller }) =>
    controlPlane.restoreVirtualMachine(caller, {
      virtualMachineId: requiredString(args, 'virtualMachineId'),
      templateId: optionalString(args, 'templateId'),
      expunge: optionalBoolean(args, 'expunge'),
    }),
  scaleVirtualMachine: (_source, args, { controlPlane, caller }) =>
    controlPlane.scaleVirtualMachine(caller, {
      id: requiredString(args, 'id'),
      serviceOfferingId: requiredString(args, 'serviceOfferingId'),
      details: optionalDetails(args),
    }),
  recoverVirtualMachine: (_source, args, { controlPlane, caller }) => controlPlane.recoverVirtualMachine(caller, { id: requiredString(args, 'id') }),
  expungeVirtualMachine: (_source, args, { controlPlane, caller }) => controlPlane.expungeVirtualMachine(caller, { id: requiredString(args, 'id') }),
  updateVirtualMachine: (_source, args, { controlPlane, caller }) =>
    controlPlane.updateVirtualMachine(caller, {
      id: requiredString(args, 'id'),
      displayName: optionalString(args, 'displayName'),
      group: optionalString(args, 'group'),
      osTypeId: optionalString(args, 'osTypeId'),
      deleteProtection: optionalBoolean(args, 'deleteProtection'),
      leaseDuration: optionalNumber(args, 'leaseDuration'),
      leaseExpiryAction: optionalEnum(args, 'leaseExpiryAction', LEASE_EXPIRY_ACTIONS),
      details: optionalDetails(args),
      haEnable: optionalBoolean(args, 'haEnable'),
    }),
  changeServiceForVirtualMachine: (_source, args, { controlPlane, caller }) =>
    controlPlane.changeServiceForVirtualMachine(caller, {
      id: requiredString(args, 'id'),
      serviceOfferingId: requiredString(args, 'serviceOfferingId'),
      details: optionalDetails(args),
    }),
};

type LeaseFields = Parameters<GraphqlContext['controlPlane']['shownLease']>[0];

/** A VirtualMachine's lease fields, as shown now (remaining days; nothing while the feature is off). */
export const instanceTypeResolvers: Readonly<Record<string, Readonly<Record<string, Resolver>>>> = {
  VirtualMachine: {
    leaseDuration: (source, _args, { controlPlane }) => controlPlane.shownLease(source as LeaseFields).leaseDuration,
    leaseExpiryAction: (source, _args, { controlPlane }) => controlPlane.shownLease(source as LeaseFields).leaseExpiryAction,
    leaseExpiryDate: (source, _args, { controlPlane }) => controlPlane.shownLease(source as LeaseFields).leaseExpiryDate,
  },
};

/** `migrateTo: [{ volume, pool }]`, each pair as GraphQL checked it (both IDs, non-null). */
function migrateTo(args: Readonly<Record<string, unknown>>): readonly { volume: string; pool: string }[] {
  const list = Array.isArray(args['migrateTo']) ? (args['migrateTo'] as unknown[]) : [];
  return list.map((item) => {
    const pair = (typeof item === 'object' && item !== null ? item : {}) as Readonly<Record<string, unknown>>;
    return { volume: requiredString(pair, 'volume'), pool: requiredString(pair, 'pool') };
  });
}
