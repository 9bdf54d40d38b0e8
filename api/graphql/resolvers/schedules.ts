// Instance schedules and affinity groups: argument translation only; every decision is the control plane's.
import { optionalBoolean, optionalString, optionalStringList, pageArgs, requiredString } from '../../control-plane/args.js';
import type { Resolver } from '../context.js';

export const scheduleQueries: Readonly<Record<string, Resolver>> = {
  vmSchedules: (_source, args, { controlPlane, caller }) =>
    controlPlane.vmSchedules(caller, {
      virtualMachineId: requiredString(args, 'virtualMachineId'),
      id: optionalString(args, 'id'),
      action: optionalString(args, 'action'),
      enabled: optionalBoolean(args, 'enabled'),
      ...pageArgs(args),
    }),
  affinityGroups: (_source, args, { controlPlane, caller }) =>
    controlPlane.affinityGroups(caller, {
      id: optionalString(args, 'id'),
      name: optionalString(args, 'name'),
      type: optionalString(args, 'type'),
      virtualMachineId: optionalString(args, 'virtualMachineId'),
      accountId: optionalString(args, 'accountId'),
      domainId: optionalString(args, 'domainId'),
      ...pageArgs(args),
    }),
};

export const scheduleMutations: Readonly<Record<string, Resolver>> = {
  createVMSchedule: (_source, args, { controlPlane, caller }) =>
    controlPlane.createVMSchedule(caller, {
      virtualMachineId: requiredString(args, 'virtualMachineId'),
      action: requiredString(args, 'action'),
      schedule: requiredString(args, 'schedule'),
      timeZone: requiredString(args, 'timeZone'),
      description: optionalString(args, 'description'),
      startDate: optionalString(args, 'startDate'),
      endDate: optionalString(args, 'endDate'),
      enabled: optionalBoolean(args, 'enabled'),
    }),
  updateVMSchedule: (_source, args, { controlPlane, caller }) =>
    controlPlane.updateVMSchedule(caller, {
      id: requiredString(args, 'id'),
      schedule: optionalString(args, 'schedule'),
      timeZone: optionalString(args, 'timeZone'),
      description: optionalString(args, 'description'),
      startDate: optionalString(args, 'startDate'),
      endDate: optionalString(args, 'endDate'),
      enabled: optionalBoolean(args, 'enabled'),
    }),
  createAffinityGroup: (_source, args, { controlPlane, caller }) =>
    controlPlane.createAffinityGroup(caller, {
      name: requiredString(args, 'name'),
      type: requiredString(args, 'type'),
      description: optionalString(args, 'description'),
      account: optionalString(args, 'account'),
      domainId: optionalString(args, 'domainId'),
    }),
  deleteAffinityGroup: (_source, args, { controlPlane, caller }) =>
    controlPlane.deleteAffinityGroup(caller, {
      id: optionalString(args, 'id'),
      name: optionalString(args, 'name'),
      account: optionalString(args, 'account'),
      domainId: optionalString(args, 'domainId'),
    }),
  updateVMAffinityGroup: (_source, args, { controlPlane, caller }) =>
    controlPlane.updateVMAffinityGroup(caller, {
      id: requiredString(args, 'id'),
      affinityGroupIds: optionalStringList(args, 'affinityGroupIds'),
      affinityGroupNames: optionalStringList(args, 'affinityGroupNames'),
    }),
  deleteVMSchedule: (_source, args, { controlPlane, caller }) =>
    controlPlane.deleteVMSchedule(caller, { virtualMachineId: requiredString(args, 'virtualMachineId'), id: optionalString(args, 'id'), ids: optionalStringList(args, 'ids') }),
};
