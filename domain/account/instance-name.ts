// One stream per instance name an account may hold, `instancename-<accountId>-<name, lower-cased>`:
// the name is unique in its account (CloudStack: "Instance name : %s is not unique") because a second
// claim has to append to the same stream, and the expected revision serialises the two. Deciding a
// claim reads this name's few events, not every name the account ever held (the account stream kept
// them all, so a deployment in an account of 100,000 instances folded 100,000 reservations).
//
// The events are the account's own InstanceNameReserved / InstanceNameReleased, so the read model and
// the audit trail read them as before. Names reserved on the account stream (logs written before
// these streams) stay held there until released: see sagas/instance-names.ts.
import { reject, type Decider } from '../shared/decider.js';
import { firstFailure, requireId, requireName } from '../config/validation.js';
import type { AccountEvent } from './account.js';

export const INSTANCE_NAME_STREAM_PREFIX = 'instancename-';

/** The stream of `name` in `accountId`: names are compared case-insensitively, so the stream's is lower-cased. */
export function instanceNameStream(accountId: string, name: string): string {
  return `${INSTANCE_NAME_STREAM_PREFIX}${accountId}-${encodeURIComponent(name.toLowerCase())}`;
}

export type InstanceNameEvent = Extract<AccountEvent, { type: 'InstanceNameReserved' | 'InstanceNameReleased' }>;

/** Who holds the name now, as it was given. */
export type InstanceNameState = { readonly kind: 'free' } | { readonly kind: 'held'; readonly instanceId: string; readonly name: string };

export type InstanceNameCommand =
  | {
      readonly type: 'ReserveInstanceName';
      readonly accountId: string;
      readonly instanceId: string;
      readonly name: string;
      /** The account's name for error messages ("not unique in account <name>"). */
      readonly accountName: string;
    }
  | { readonly type: 'ReleaseInstanceName'; readonly accountId: string; readonly instanceId: string };

export const instanceNameDecider: Decider<InstanceNameCommand, InstanceNameState, InstanceNameEvent> = {
  initialState: { kind: 'free' },

  decide(command, state) {
    const invalid = requireId(command.instanceId, 'instanceId');
    if (invalid) return invalid;
    const { accountId, instanceId } = command;
    if (command.type === 'ReleaseInstanceName') {
      // Idempotent: a release repeated after a crash, or by another instance, gives back nothing.
      return state.kind === 'held' && state.instanceId === instanceId ? [{ type: 'InstanceNameReleased', data: { accountId, instanceId, name: state.name } }] : [];
    }
    const bad = firstFailure(requireName(command.name, 'name', 'Instance name'));
    if (bad) return bad;
    if (state.kind === 'held') {
      if (state.instanceId === instanceId) return [];
      return reject('CONFLICT', `Instance name ${command.name} is not unique in account ${command.accountName}`, 'name');
    }
    return [{ type: 'InstanceNameReserved', data: { accountId, instanceId, name: command.name } }];
  },

  evolve(_state, event) {
    return event.type === 'InstanceNameReserved' ? { kind: 'held', instanceId: event.data.instanceId, name: event.data.name } : { kind: 'free' };
  },
};
