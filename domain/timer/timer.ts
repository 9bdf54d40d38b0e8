// A durable timer: a due time kept in the log, in a stream of its own. Arming it is an event with its
// due time; firing it is an event appended at the revision at which it was seen armed and due, so of
// two processes that fire it at once exactly one succeeds (the other re-decides and is refused), and
// it can never fire before its due time (the decider compares the firing time, passed in, with it).
// What happens when a timer fires belongs to its `kind`'s handler; the handler's end is recorded too
// (`TimerCompleted`), so a timer fired just before a crash has its handler run again after the restart.
// A handler may ask for the timer again (`rearmAt`): the lease's re-evaluation, a schedule's next fire.
// An arming or a cancellation asked for while the handler runs is kept (`TimerChangeRequested`) and
// wins over the handler's own `rearmAt` when it completes: the handler decided from what it read, the
// request from a change made after that (a schedule updated while it fires).
import { reject, type Decider, type DomainEvent } from '../shared/decider.js';

/** The timer's stream name: the one place it is spelled. */
export const TIMER_STREAM_PREFIX = 'timer-';

export function timerStream(timerId: string): string {
  return `${TIMER_STREAM_PREFIX}${timerId}`;
}

/** What a timer is for: the handler that runs when it fires (`kind`) and what that handler acts on. */
export interface TimerPurpose {
  readonly kind: string;
  readonly subjectId: string;
}

export type TimerStatus = 'unset' | 'armed' | 'fired' | 'done' | 'cancelled';

export interface TimerState {
  readonly status: TimerStatus;
  readonly purpose: TimerPurpose | null;
  /** ISO-8601 UTC; the due time of the arming in force (or of the last one). */
  readonly dueAt: string | null;
  /** While firing: the arming (a due time) or cancellation (null) asked for since it fired, if any. */
  readonly requested: { readonly dueAt: string | null } | null;
}

export type TimerCommand =
  | ({ readonly type: 'ScheduleTimer'; readonly timerId: string; readonly dueAt: string } & TimerPurpose)
  | { readonly type: 'CancelTimer'; readonly timerId: string }
  | { readonly type: 'FireTimer'; readonly timerId: string; readonly at: string }
  /** The handler of a fired timer is done; `rearmAt` arms the timer again for the same purpose. */
  | { readonly type: 'CompleteTimer'; readonly timerId: string; readonly at: string; readonly rearmAt: string | null };

export type TimerEvent =
  | DomainEvent<'TimerScheduled', { readonly timerId: string; readonly dueAt: string } & TimerPurpose>
  | DomainEvent<'TimerCancelled', { readonly timerId: string }>
  /** Armed (a due time) or cancelled (null) while firing: applied when the handler completes. */
  | DomainEvent<'TimerChangeRequested', { readonly timerId: string; readonly dueAt: string | null }>
  | DomainEvent<'TimerFired', { readonly timerId: string; readonly dueAt: string; readonly firedAt: string }>
  | DomainEvent<'TimerCompleted', { readonly timerId: string; readonly completedAt: string }>;

const initialState: TimerState = { status: 'unset', purpose: null, dueAt: null, requested: null };

export const timerDecider: Decider<TimerCommand, TimerState, TimerEvent> = {
  initialState,
  decide(command, state) {
    switch (command.type) {
      case 'ScheduleTimer': {
        if (Number.isNaN(Date.parse(command.dueAt))) return reject('BAD_USER_INPUT', `Invalid due time ${JSON.stringify(command.dueAt)}`, 'dueAt');
        // Arming again at the same time is a no-op, so a caller may (re)arm whenever in doubt.
        if (state.status === 'armed' && state.dueAt === command.dueAt && state.purpose?.kind === command.kind) return [];
        // A fired timer is re-armed when its handler completes, or its handler's run would be lost:
        // the arming is kept until then.
        if (state.status === 'fired') {
          if (state.requested?.dueAt === command.dueAt) return [];
          return [{ type: 'TimerChangeRequested', data: { timerId: command.timerId, dueAt: command.dueAt } }];
        }
        return [{ type: 'TimerScheduled', data: { timerId: command.timerId, dueAt: command.dueAt, kind: command.kind, subjectId: command.subjectId } }];
      }
      case 'CancelTimer':
        if (state.status === 'fired') return state.requested !== null && state.requested.dueAt === null ? [] : [{ type: 'TimerChangeRequested', data: { timerId: command.timerId, dueAt: null } }];
        return state.status === 'armed' ? [{ type: 'TimerCancelled', data: { timerId: command.timerId } }] : [];
      case 'FireTimer': {
        if (state.status !== 'armed' || state.dueAt === null) return reject('INVALID_STATE', `Timer ${command.timerId} is not armed (${state.status})`);
        if (Date.parse(command.at) < Date.parse(state.dueAt)) return reject('INVALID_STATE', `Timer ${command.timerId} is due at ${state.dueAt}, not at ${command.at}`);
        return [{ type: 'TimerFired', data: { timerId: command.timerId, dueAt: state.dueAt, firedAt: command.at } }];
      }
      case 'CompleteTimer': {
        if (state.status !== 'fired' || state.purpose === null) return reject('INVALID_STATE', `Timer ${command.timerId} has not fired (${state.status})`);
        const completed: TimerEvent = { type: 'TimerCompleted', data: { timerId: command.timerId, completedAt: command.at } };
        const rearmAt = state.requested === null ? command.rearmAt : state.requested.dueAt;
        if (rearmAt === null) return [completed];
        return [completed, { type: 'TimerScheduled', data: { timerId: command.timerId, dueAt: rearmAt, ...state.purpose } }];
      }
    }
  },
  evolve(state, event) {
    switch (event.type) {
      case 'TimerScheduled':
        return { status: 'armed', purpose: { kind: event.data.kind, subjectId: event.data.subjectId }, dueAt: event.data.dueAt, requested: null };
      case 'TimerCancelled':
        return { ...state, status: 'cancelled' };
      case 'TimerChangeRequested':
        return { ...state, requested: { dueAt: event.data.dueAt } };
      case 'TimerFired':
        return { ...state, status: 'fired', requested: null };
      case 'TimerCompleted':
        return { ...state, status: 'done', requested: null };
    }
  },
};
