// An instance's schedules (behaviour §5.2): created, updated, deleted and listed by whoever may act on
// the instance (another account's instance is unknown to the caller, and so are its schedules). The
// rules are the schedule aggregate's; here the instance is resolved, and the schedule's timer is armed
// or cancelled once the change is recorded.
import { VM_SCHEDULE_ACTIONS, scheduleMessages, vmScheduleDecider, vmScheduleStream, type VMScheduleAction, type VMScheduleCommand } from '../../../domain/schedule/index.js';
import type { Connection, PageRequest } from '../../../projections/pagination.js';
import { getVMSchedule, listVMSchedules, type VMScheduleView } from '../../../projections/schedules/index.js';
import { db, envelopeOf, execute, guarded, now, settled, type ControlPlaneContext } from '../context.js';
import { ApiError, type Caller } from '../port.js';
import { requireInstance } from './resolve.js';

export interface CreateVMScheduleArgs {
  readonly virtualMachineId: string;
  readonly action: string;
  readonly schedule: string;
  readonly timeZone: string;
  readonly description?: string | null;
  readonly startDate?: string | null;
  readonly endDate?: string | null;
  readonly enabled?: boolean | null;
}

export interface UpdateVMScheduleArgs {
  readonly id: string;
  readonly schedule?: string | null;
  readonly timeZone?: string | null;
  readonly description?: string | null;
  readonly startDate?: string | null;
  readonly endDate?: string | null;
  readonly enabled?: boolean | null;
}

export interface VMScheduleListArgs extends PageRequest {
  readonly virtualMachineId: string;
  readonly id?: string | null;
  readonly action?: string | null;
  readonly enabled?: boolean | null;
}

/** CloudStack parses the action with valueOf: create upper-cases it first, list does not. */
function actionOf(value: string, upperCase: boolean): VMScheduleAction {
  const action = upperCase ? value.toUpperCase() : value;
  if (!(VM_SCHEDULE_ACTIONS as readonly string[]).includes(action)) throw new ApiError('BAD_USER_INPUT', scheduleMessages.invalidAction(value), 'action');
  return action as VMScheduleAction;
}

/** The schedule, if the caller may act on its instance; otherwise it does not exist for the caller. */
function requireSchedule(context: ControlPlaneContext, caller: Caller, id: string, instanceId?: string): VMScheduleView {
  const schedule = getVMSchedule(db(context), id);
  if (!schedule || (instanceId !== undefined && schedule.virtualMachineId !== instanceId)) throw new ApiError('NOT_FOUND', `${scheduleMessages.notFound}: ${JSON.stringify(id)}`, 'id');
  try {
    requireInstance(context, caller, schedule.virtualMachineId);
  } catch {
    throw new ApiError('NOT_FOUND', `${scheduleMessages.notFound}: ${JSON.stringify(id)}`, 'id');
  }
  return schedule;
}

async function change(context: ControlPlaneContext, caller: Caller, command: VMScheduleCommand): Promise<boolean> {
  const result = await execute(context, vmScheduleStream(command.scheduleId), vmScheduleDecider, command, envelopeOf(context, caller, command.scheduleId));
  await context.schedules.changed(command.scheduleId);
  await settled(context, [...result.positions, await context.store.headPosition()]);
  return result.events.length > 0;
}

function readBack(context: ControlPlaneContext, id: string): VMScheduleView {
  const schedule = getVMSchedule(db(context), id);
  if (!schedule) throw new ApiError('INTERNAL_ERROR', `schedule ${id} cannot be read back`);
  return schedule;
}

export async function createVMSchedule(context: ControlPlaneContext, caller: Caller, args: CreateVMScheduleArgs): Promise<VMScheduleView> {
  const instance = requireInstance(context, caller, args.virtualMachineId, 'virtualMachineId');
  const scheduleId = context.newId();
  await change(context, caller, {
    type: 'CreateVMSchedule',
    scheduleId,
    at: now(context),
    instanceId: instance.id,
    instanceName: instance.name,
    accountId: instance.accountId,
    domainId: instance.domainId,
    action: actionOf(args.action, true),
    schedule: args.schedule,
    timeZone: args.timeZone,
    description: args.description ?? null,
    startDate: args.startDate ?? null,
    endDate: args.endDate ?? null,
    enabled: args.enabled ?? true,
  });
  return readBack(context, scheduleId);
}

export async function updateVMSchedule(context: ControlPlaneContext, caller: Caller, args: UpdateVMScheduleArgs): Promise<VMScheduleView> {
  const schedule = requireSchedule(context, caller, args.id);
  const { id: _id, ...changes } = args;
  await change(context, caller, { type: 'UpdateVMSchedule', scheduleId: schedule.id, at: now(context), ...changes });
  return readBack(context, schedule.id);
}

/** Deletes the named schedules of the instance, all or none: every id is checked first. */
export async function deleteVMSchedule(context: ControlPlaneContext, caller: Caller, args: { virtualMachineId: string; id?: string | null; ids?: readonly string[] | null }): Promise<number> {
  const instance = requireInstance(context, caller, args.virtualMachineId, 'virtualMachineId');
  const ids = [...new Set([...(args.id ? [args.id] : []), ...(args.ids ?? [])])];
  if (ids.length === 0) throw new ApiError('BAD_USER_INPUT', 'Either id or ids parameter must be specified', 'id');
  for (const id of ids) requireSchedule(context, caller, id, instance.id);
  let deleted = 0;
  for (const id of ids) if (await change(context, caller, { type: 'DeleteVMSchedule', scheduleId: id, at: now(context) })) deleted++;
  return deleted;
}

export function vmSchedules(context: ControlPlaneContext, caller: Caller, args: VMScheduleListArgs): Connection<VMScheduleView> {
  const instance = requireInstance(context, caller, args.virtualMachineId, 'virtualMachineId');
  const action = args.action === undefined || args.action === null ? null : actionOf(args.action, false);
  return guarded(() => listVMSchedules(db(context), { virtualMachineId: instance.id, id: args.id, action, enabled: args.enabled }, args));
}
