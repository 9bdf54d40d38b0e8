// Instance schedules: argument translation only; every decision is the control plane's.
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
  deleteVMSchedule: (_source, args, { controlPlane, caller }) =>
    controlPlane.deleteVMSchedule(caller, { virtualMachineId: requiredString(args, 'virtualMachineId'), id: optionalString(args, 'id'), ids: optionalStringList(args, 'ids') }),
};
