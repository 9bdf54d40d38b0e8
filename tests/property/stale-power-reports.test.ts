// A power report the agent took before a stop settled is history, however late it is processed
// (reports and replies travel on different queues): no interleaving of such reports with a stop
// leaves the instance Running or bills a start after the stop.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fold, isRejection } from '../../domain/shared/decider.js';
import { instanceDecider, type InstanceCommand, type InstanceEvent } from '../../domain/instance/index.js';
import { AT, ID, cmd, deploy, eventsOf } from '../unit/instance/fixtures.js';

const STARTED = Date.parse(AT);
const STOP_SETTLED = STARTED + 60_000;
const iso = (ms: number) => new Date(ms).toISOString();

/** A report taken while the instance still ran: after its start settled, before its stop did. */
const staleReportArb = fc.record({
  takenAt: fc.integer({ min: STARTED, max: STOP_SETTLED - 1 }),
  host: fc.constantFrom(ID.host1, ID.host2),
});

describe('stale power reports', () => {
  it('never bring a stopped instance back, in any order with the stop', () => {
    fc.assert(
      fc.property(fc.array(staleReportArb, { maxLength: 6 }), fc.nat(), fc.nat(), (reports, requestAt, settleAt) => {
        const reportCommands: InstanceCommand[] = reports.map((r) => cmd.report('running', r.host, iso(r.takenAt)));
        // The stop's request and its outcome go anywhere among the reports, the request first.
        const commands = [...reportCommands];
        const request = requestAt % (commands.length + 1);
        commands.splice(request, 0, cmd.stop());
        const settle = request + 1 + (settleAt % (commands.length - request));
        commands.splice(settle, 0, cmd.stopOk('job-stop', iso(STOP_SETTLED)));

        let history: readonly InstanceEvent[] = eventsOf(deploy(), cmd.start(), cmd.startOk('job-start', ID.host1, iso(STARTED)));
        let afterStop: InstanceEvent[] | null = null;
        for (const command of commands) {
          const decision = instanceDecider.decide(command, fold(instanceDecider, history));
          if (isRejection(decision)) continue;
          history = [...history, ...decision];
          if (afterStop) afterStop.push(...decision);
          if (decision.some((e) => e.type === 'InstanceStopped')) afterStop = [];
        }
        const instance = fold(instanceDecider, history);
        expect(instance.exists && instance.state).toBe('Stopped');
        expect(afterStop).toEqual([]);
      }),
      { numRuns: 300 },
    );
  });
});
