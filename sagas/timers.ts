// The durable timer service. Due times live in the log (domain/timer) and in an on-disk index of armed
// timers by due time (projections/timers), which this service asks every `pollMs` (a second) by the
// injected clock's wall time: nothing waits on an in-process timeout for a far-off due time, memory
// does not grow with the number of future timers, and a clock step (NTP, a resumed VM) is noticed at
// the next poll. Firing is an append at the revision at which the timer was seen armed and due, so
// two services on one log never fire one arming twice; the kind's handler runs after the firing, and
// its end is recorded. A handler must be idempotent: after a crash between the firing and that record
// it runs again when the service starts.
import type { Database } from 'better-sqlite3';
import type { Clock } from '../adapters/clock/port.js';
import { CommandRejectedError, unlessRefused, type CommandEnvelope } from '../adapters/eventstore/command-handler.js';
import type { Commander } from '../adapters/eventstore/commander.js';
import { timerDecider, timerStream, type TimerCommand, type TimerPurpose } from '../domain/timer/index.js';
import { dueTimers, unfinishedFirings, type TimerRow } from '../projections/timers/index.js';

/** One firing of a timer, as its handler sees it. */
export interface TimerFiring {
  readonly timerId: string;
  readonly subjectId: string;
  readonly dueAt: Date;
  readonly firedAt: Date;
}

/** Does what the timer is for; returns when the timer should fire again for the same purpose, or null. */
export type TimerHandler = (firing: TimerFiring) => Promise<Date | null>;

export interface TimerServiceOptions {
  readonly commander: Commander;
  readonly readModel: () => Database;
  readonly clock: Clock;
  /** How often the index is asked for due timers (default a second). */
  readonly pollMs?: number;
  /** Timers fired per query of the index (the next query follows at once while it is full). */
  readonly batchSize?: number;
  /** When a handler that threw is tried again (default a minute). */
  readonly retryMs?: number;
  /** Names the service in its events' actor, so two processes' firings can be told apart. */
  readonly component?: string;
  readonly onError?: (error: unknown, timerId: string) => void;
}

export class TimerService {
  private readonly handlers = new Map<string, TimerHandler>();
  /** Timers this process is firing now: the index shows them armed until it catches up. */
  private readonly inFlight = new Set<string>();
  private cancelPoll: (() => void) | undefined;
  private running: Promise<unknown> = Promise.resolve();
  private stopped = false;

  constructor(private readonly options: TimerServiceOptions) {}

  /** The handler of one kind of timer; a timer of a kind with none stays armed. */
  register(kind: string, handler: TimerHandler): void {
    this.handlers.set(kind, handler);
  }

  /** Arms (or re-arms) a timer; while it is firing, the arming takes effect when its handler completes, over the handler's own. */
  async schedule(timerId: string, purpose: TimerPurpose, dueAt: Date): Promise<void> {
    await this.execute({ type: 'ScheduleTimer', timerId, dueAt: dueAt.toISOString(), ...purpose });
  }

  async cancel(timerId: string): Promise<void> {
    await this.execute({ type: 'CancelTimer', timerId });
  }

  /** Runs the handlers of firings a crash interrupted, then polls the index every `pollMs`. */
  async start(): Promise<void> {
    this.stopped = false;
    const interrupted = unfinishedFirings(this.options.readModel(), Number.MAX_SAFE_INTEGER);
    await Promise.all(interrupted.map((row) => this.guarded(row, () => this.handle(row, new Date(row.dueMs)))));
    this.poll();
  }

  private poll(): void {
    if (this.stopped) return;
    const next = new Date(this.options.clock.now().getTime() + (this.options.pollMs ?? 1000));
    this.cancelPoll = this.options.clock.at(next, () => {
      this.running = this.tick()
        .catch((error: unknown) => this.options.onError?.(error, ''))
        .finally(() => this.poll());
    });
  }

  /** Fires every timer due by now; returns how many this service fired. */
  async tick(): Promise<number> {
    const batchSize = this.options.batchSize ?? 500;
    let fired = 0;
    for (;;) {
      const now = this.options.clock.now();
      const due = dueTimers(this.options.readModel(), now.getTime(), batchSize + this.inFlight.size).filter((row) => !this.inFlight.has(row.timerId));
      if (due.length === 0) return fired;
      const results = await Promise.all(due.slice(0, batchSize).map((row) => this.guarded(row, () => this.fire(row, now))));
      fired += results.filter(Boolean).length;
      // A full batch may hide more due timers; otherwise the rest waits for the next poll.
      if (due.length < batchSize || this.stopped) return fired;
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.cancelPoll?.();
    await this.running;
  }

  private async guarded(row: TimerRow, run: () => Promise<boolean>): Promise<boolean> {
    if (this.inFlight.has(row.timerId)) return false;
    this.inFlight.add(row.timerId);
    try {
      return await run();
    } catch (error) {
      this.options.onError?.(error, row.timerId);
      return false;
    } finally {
      this.inFlight.delete(row.timerId);
    }
  }

  /** The firing: an append at the revision that showed the timer armed and due; refused if another fired it first. */
  private async fire(row: TimerRow, now: Date): Promise<boolean> {
    try {
      await this.execute({ type: 'FireTimer', timerId: row.timerId, at: now.toISOString() });
    } catch (error) {
      if (error instanceof CommandRejectedError) return false;
      throw error;
    }
    await this.handle(row, now);
    return true;
  }

  private async handle(row: TimerRow, firedAt: Date): Promise<boolean> {
    const handler = this.handlers.get(row.kind);
    let rearmAt: Date | null;
    try {
      if (!handler) throw new Error(`no handler for timers of kind ${JSON.stringify(row.kind)}`);
      rearmAt = await handler({ timerId: row.timerId, subjectId: row.subjectId, dueAt: new Date(row.dueMs), firedAt });
    } catch (error) {
      this.options.onError?.(error, row.timerId);
      rearmAt = new Date(this.options.clock.now().getTime() + (this.options.retryMs ?? 60_000));
    }
    const at = this.options.clock.now().toISOString();
    await unlessRefused(this.execute({ type: 'CompleteTimer', timerId: row.timerId, at, rearmAt: rearmAt?.toISOString() ?? null }));
    return true;
  }

  private execute(command: TimerCommand) {
    const envelope: CommandEnvelope = {
      actor: { kind: 'system', component: this.options.component ?? 'timer-service' },
      correlationId: command.timerId,
      occurredAt: this.options.clock.now().toISOString(),
    };
    return this.options.commander.execute(timerStream(command.timerId), timerDecider, command, envelope);
  }
}
