// The timer decider: armed with its due time, fired once and never before it, completed (and maybe
// re-armed) by its handler.
import { describe, it } from 'vitest';
import { timerDecider, type TimerEvent } from '../../../domain/timer/index.js';
import { given } from '../../support/given.js';

const purpose = { kind: 'lease', subjectId: 'vm-1' } as const;
const scheduled = (dueAt: string): TimerEvent => ({ type: 'TimerScheduled', data: { timerId: 't1', dueAt, ...purpose } });
const fired = (dueAt: string, firedAt: string): TimerEvent => ({ type: 'TimerFired', data: { timerId: 't1', dueAt, firedAt } });
const DUE = '2026-03-01T10:00:00.000Z';

describe('a durable timer', () => {
  it('is armed with its due time, and arming it again at that time changes nothing', () => {
    given(timerDecider).when({ type: 'ScheduleTimer', timerId: 't1', dueAt: DUE, ...purpose }).then([scheduled(DUE)]);
    given(timerDecider, [scheduled(DUE)]).when({ type: 'ScheduleTimer', timerId: 't1', dueAt: DUE, ...purpose }).then([]);
    given(timerDecider, [scheduled(DUE)]).when({ type: 'ScheduleTimer', timerId: 't1', dueAt: '2026-03-02T10:00:00.000Z', ...purpose }).then([scheduled('2026-03-02T10:00:00.000Z')]);
  });

  it('refuses a due time that is no time', () => {
    given(timerDecider).when({ type: 'ScheduleTimer', timerId: 't1', dueAt: 'tomorrow', ...purpose }).then('BAD_USER_INPUT', { field: 'dueAt' });
  });

  it('fires at its due time or after, never before', () => {
    given(timerDecider, [scheduled(DUE)]).when({ type: 'FireTimer', timerId: 't1', at: '2026-03-01T09:59:59.999Z' }).then('INVALID_STATE', { message: /is due at/ });
    given(timerDecider, [scheduled(DUE)]).when({ type: 'FireTimer', timerId: 't1', at: DUE }).then([fired(DUE, DUE)]);
    given(timerDecider, [scheduled(DUE)]).when({ type: 'FireTimer', timerId: 't1', at: '2026-03-05T00:00:00.000Z' }).then([fired(DUE, '2026-03-05T00:00:00.000Z')]);
  });

  it('fires once per arming: a second firing is refused, so a second process appends nothing', () => {
    given(timerDecider, [scheduled(DUE), fired(DUE, DUE)]).when({ type: 'FireTimer', timerId: 't1', at: DUE }).then('INVALID_STATE', { message: /not armed \(fired\)/ });
    given(timerDecider).when({ type: 'FireTimer', timerId: 't1', at: DUE }).then('INVALID_STATE', { message: /not armed \(unset\)/ });
  });

  it('does not fire once cancelled', () => {
    given(timerDecider, [scheduled(DUE)]).when({ type: 'CancelTimer', timerId: 't1' }).then([{ type: 'TimerCancelled', data: { timerId: 't1' } }]);
    given(timerDecider, [scheduled(DUE), { type: 'TimerCancelled', data: { timerId: 't1' } }]).when({ type: 'FireTimer', timerId: 't1', at: DUE }).then('INVALID_STATE');
    given(timerDecider).when({ type: 'CancelTimer', timerId: 't1' }).then([]);
  });

  it('is completed by its handler, which may arm it again for the same purpose', () => {
    const history = [scheduled(DUE), fired(DUE, DUE)];
    given(timerDecider, history).when({ type: 'CompleteTimer', timerId: 't1', at: DUE, rearmAt: null }).then([{ type: 'TimerCompleted', data: { timerId: 't1', completedAt: DUE } }]);
    given(timerDecider, history)
      .when({ type: 'CompleteTimer', timerId: 't1', at: DUE, rearmAt: '2026-03-01T11:00:00.000Z' })
      .then([{ type: 'TimerCompleted', data: { timerId: 't1', completedAt: DUE } }, scheduled('2026-03-01T11:00:00.000Z')]);
    given(timerDecider, [scheduled(DUE)]).when({ type: 'CompleteTimer', timerId: 't1', at: DUE, rearmAt: null }).then('INVALID_STATE');
  });

  it('keeps an arming or a cancellation asked for while its handler runs, and applies it over the handler\'s own when it completes', () => {
    const firing = [scheduled(DUE), fired(DUE, DUE)];
    const LATER = '2026-03-01T11:30:00.000Z';
    const requested = (dueAt: string | null) => ({ type: 'TimerChangeRequested' as const, data: { timerId: 't1', dueAt } });
    given(timerDecider, firing).when({ type: 'ScheduleTimer', timerId: 't1', dueAt: LATER, ...purpose }).then([requested(LATER)]);
    given(timerDecider, [...firing, requested(LATER)]).when({ type: 'ScheduleTimer', timerId: 't1', dueAt: LATER, ...purpose }).then([]);
    given(timerDecider, firing).when({ type: 'CancelTimer', timerId: 't1' }).then([requested(null)]);
    given(timerDecider, [...firing, requested(null)]).when({ type: 'CancelTimer', timerId: 't1' }).then([]);
    // Not armed meanwhile: it cannot fire again before its handler is done.
    given(timerDecider, [...firing, requested(LATER)]).when({ type: 'FireTimer', timerId: 't1', at: LATER }).then('INVALID_STATE');
    // The request wins over the handler's re-arm, whichever it is.
    given(timerDecider, [...firing, requested(LATER)])
      .when({ type: 'CompleteTimer', timerId: 't1', at: DUE, rearmAt: '2026-03-01T12:00:00.000Z' })
      .then([{ type: 'TimerCompleted', data: { timerId: 't1', completedAt: DUE } }, scheduled(LATER)]);
    given(timerDecider, [...firing, requested(null)])
      .when({ type: 'CompleteTimer', timerId: 't1', at: DUE, rearmAt: '2026-03-01T12:00:00.000Z' })
      .then([{ type: 'TimerCompleted', data: { timerId: 't1', completedAt: DUE } }]);
    given(timerDecider, [...firing, requested(LATER), requested(null), requested(LATER)])
      .when({ type: 'CompleteTimer', timerId: 't1', at: DUE, rearmAt: null })
      .then([{ type: 'TimerCompleted', data: { timerId: 't1', completedAt: DUE } }, scheduled(LATER)]);
    // A request is for the firing it was made during: the next firing starts without one.
    given(timerDecider, [...firing, requested(null), { type: 'TimerCompleted', data: { timerId: 't1', completedAt: DUE } }, scheduled(LATER), fired(LATER, LATER)])
      .when({ type: 'CompleteTimer', timerId: 't1', at: LATER, rearmAt: '2026-03-01T12:30:00.000Z' })
      .then([{ type: 'TimerCompleted', data: { timerId: 't1', completedAt: LATER } }, scheduled('2026-03-01T12:30:00.000Z')]);
  });
});
