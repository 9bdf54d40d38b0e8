// The audit questions: the action-event trail, the usage events, and an instance as of a moment.
import { toDomainEvent } from '../../adapters/eventstore/domain-event.js';
import { USAGE_TYPES, instanceDecider, instanceStream, isKnownUsageType, usageTypeOf, type InstanceEvent, type InstanceState } from '../../domain/instance/index.js';
import { ACTION_EVENT_TYPES, isActionEventType } from '../../domain/shared/action-event-types.js';
import { listEvents, type EventView } from '../../projections/events/queries.js';
import { findInstance } from '../../projections/instances/queries.js';
import { toVirtualMachineView, type VirtualMachineView } from '../../projections/instances/view.js';
import type { Connection } from '../../projections/pagination.js';
import { listUsageEvents, type UsageEventView } from '../../projections/usage/queries.js';
import { db, guarded, visibilityOf, type ControlPlaneContext } from './context.js';
import { ApiError, type Caller, type TimeWindowArgs } from './port.js';

export function events(context: ControlPlaneContext, caller: Caller, args: TimeWindowArgs & { resourceId?: string | null; type?: string | null }): Connection<EventView> {
  // A type that is not one would match nothing: refused, as a misspelt filter should be.
  if (args.type != null && !isActionEventType(args.type)) {
    throw new ApiError('BAD_USER_INPUT', `type ${JSON.stringify(args.type)} is not an action-event type; known types: ${ACTION_EVENT_TYPES.join(', ')}`, 'type');
  }
  return guarded(() => listEvents(db(context), visibilityOf(context, caller), args, args));
}

export function usageEvents(context: ControlPlaneContext, caller: Caller, args: TimeWindowArgs & { accountId?: string | null; type?: string | null }): Connection<UsageEventView> {
  // Asked with or without the prefix: `usage.VM.START` is VM.START.
  if (args.type != null && !isKnownUsageType(usageTypeOf(args.type))) {
    throw new ApiError('BAD_USER_INPUT', `type ${JSON.stringify(args.type)} is not a usage type; known types: ${USAGE_TYPES.join(', ')}`, 'type');
  }
  return guarded(() => listUsageEvents(db(context), visibilityOf(context, caller), args, args));
}

/**
 * The instance folded from its own stream up to `at` (by the time each event says it happened):
 * what an auditor replays, independent of any read model.
 */
export async function virtualMachineAsOf(context: ControlPlaneContext, caller: Caller, id: string, at: string): Promise<VirtualMachineView | undefined> {
  const cutoff = Date.parse(at);
  if (Number.isNaN(cutoff)) throw new ApiError('BAD_USER_INPUT', `at is not a date-time: ${JSON.stringify(at)}`, 'at');
  // Visibility comes from the current owner: an instance never changes account here.
  if (!findInstance(db(context), visibilityOf(context, caller), id)) return undefined;
  let state: InstanceState = instanceDecider.initialState;
  for (const recorded of await context.store.readStream(instanceStream(id))) {
    const occurredAt = typeof recorded.metadata.occurredAt === 'string' ? recorded.metadata.occurredAt : recorded.recordedAt;
    if (Date.parse(occurredAt) > cutoff) break;
    state = instanceDecider.evolve(state, toDomainEvent<InstanceEvent>(recorded));
  }
  return state.exists && !state.expunged ? toVirtualMachineView(state) : undefined;
}
