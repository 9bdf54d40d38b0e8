// What every operation of the control plane works with: the log, the commander, the read model,
// the saga runner and the clock, and the few translations they all need (caller → visibility,
// domain refusal → ApiError, read-your-writes).
import { randomUUID } from 'node:crypto';
import type { Database } from 'better-sqlite3';
import type { Clock } from '../../adapters/clock/port.js';
import { CommandRejectedError, ConcurrencyConflictError, type CommandEnvelope, type CommandResult } from '../../adapters/eventstore/command-handler.js';
import type { Commander } from '../../adapters/eventstore/commander.js';
import type { EventStore } from '../../adapters/eventstore/port.js';
import { effectiveSetting, type ConfigKeyName, type ConfigValue } from '../../domain/config/index.js';
import type { Decider, DomainEvent } from '../../domain/shared/decider.js';
import type { JobError } from '../../domain/job/index.js';
import { domainSubtreeIds } from '../../projections/accounts/index.js';
import { settingsSnapshot } from '../../projections/configuration/index.js';
import { InvalidPageRequestError } from '../../projections/pagination.js';
import { InvalidTimeWindowError } from '../../projections/time-range.js';
import type { ReadModel } from '../../projections/read-model.js';
import type { Visibility } from '../../projections/visibility.js';
import type { LeaseManager } from '../../sagas/leases.js';
import type { ScheduleManager } from '../../sagas/schedules.js';
import type { SagaRunner } from '../../sagas/runner.js';
import type { AgentQueryClient } from '../../adapters/hypervisor/query-client.js';
import { ApiError, type Caller } from './port.js';

export interface ControlPlaneContext {
  readonly store: EventStore;
  readonly commander: Commander;
  readonly readModel: ReadModel;
  readonly runner: SagaRunner;
  /** Arms the timers of a lease given or redefined, and cancels leases when the feature is turned off. */
  readonly leases: LeaseManager;
  /** Arms or cancels a schedule's timer after the schedule was created, updated or deleted. */
  readonly schedules: ScheduleManager;
  readonly clock: Clock;
  readonly newId: () => string;
  readonly random: () => number;
  /** How long a mutation waits for the read model to show its effect (read-your-writes). */
  readonly readYourWritesMs: number;
  /** Asks hosts' agents what they hold (unmanaged domains); absent where no agent can be reached. */
  readonly agentQueries?: AgentQueryClient;
}

export function defaultIds(): Pick<ControlPlaneContext, 'newId' | 'random'> {
  return { newId: randomUUID, random: Math.random };
}

export function db(context: ControlPlaneContext): Database {
  return context.readModel.db;
}

export function now(context: ControlPlaneContext): string {
  return context.clock.now().toISOString();
}

export function envelopeOf(context: ControlPlaneContext, caller: Caller, correlationId: string, idempotencyKey?: string): CommandEnvelope {
  const envelope: CommandEnvelope = {
    actor: { kind: 'user', userId: caller.userId, accountId: caller.accountId, role: caller.role },
    correlationId,
    occurredAt: now(context),
  };
  return idempotencyKey === undefined ? envelope : { ...envelope, idempotencyKey };
}

/** What the caller may see: everything, its domain subtree, or its own account. */
export function visibilityOf(context: ControlPlaneContext, caller: Caller): Visibility {
  if (caller.role === 'ROOT_ADMIN') return { kind: 'all' };
  if (caller.role === 'USER') return { kind: 'account', accountId: caller.accountId };
  return { kind: 'domains', domainIds: domainSubtreeIds(db(context), caller.domainPath) };
}

export function requireRootAdmin(caller: Caller, operation: string): void {
  if (caller.role !== 'ROOT_ADMIN') throw new ApiError('FORBIDDEN', `${operation} is for the root admin only; the caller's role is ${caller.role}`);
}

/** Runs a command through the commander and turns a domain refusal into the caller's error. */
export async function execute<Command, State, Event extends DomainEvent>(
  context: ControlPlaneContext,
  stream: string,
  decider: Decider<Command, State, Event>,
  command: Command,
  envelope: CommandEnvelope,
): Promise<CommandResult<State, Event>> {
  try {
    return await context.commander.execute(stream, decider, command, envelope);
  } catch (error) {
    throw toApiError(error);
  }
}

export function toApiError(error: unknown): unknown {
  if (error instanceof ApiError) return error;
  if (error instanceof CommandRejectedError) return new ApiError(error.rejection.code, error.rejection.message, error.rejection.field);
  if (error instanceof ConcurrencyConflictError) return new ApiError('CONFLICT', error.message);
  if (error instanceof InvalidPageRequestError) return new ApiError('BAD_USER_INPUT', error.message, error.field);
  if (error instanceof InvalidTimeWindowError) return new ApiError('BAD_USER_INPUT', error.message, error.field);
  return error;
}

/** What a job that failed on this error records: the error's code and words, or an internal error's. */
export function jobErrorOf(error: unknown): JobError {
  const failure = toApiError(error);
  return {
    code: failure instanceof ApiError ? failure.code : 'INTERNAL_ERROR',
    errorCode: failure instanceof ApiError ? failure.errorCode : 530,
    message: failure instanceof Error ? failure.message : String(failure),
  };
}

/** Runs a read and turns its refusals (a bad cursor, say) into the caller's error. */
export function guarded<R>(run: () => R): R {
  try {
    return run();
  } catch (error) {
    throw toApiError(error);
  }
}

/** Read-your-writes: returns once the local read model shows everything up to these positions. */
export async function settled(context: ControlPlaneContext, positions: readonly number[]): Promise<void> {
  const last = positions.length === 0 ? 0 : Math.max(...positions);
  if (last === 0) return;
  const reached = await context.readModel.waitForPosition(last, context.readYourWritesMs);
  if (!reached) throw new ApiError('INTERNAL_ERROR', `the read model did not reach position ${last} within ${context.readYourWritesMs} ms`);
}

export function setting<K extends ConfigKeyName>(context: ControlPlaneContext, name: K, zoneId?: string | null): ConfigValue<K> {
  const snapshot = settingsSnapshot(db(context), zoneId ?? null);
  return effectiveSetting(name, snapshot.global, snapshot.zone);
}
