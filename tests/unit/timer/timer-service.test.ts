// The timer service on a real log and index, with a manual clock: given armed timers, when the clock
// moves (or the process restarts, or two processes poll), then each due timer fires once, none early.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Commander } from '../../../adapters/eventstore/commander.js';
import { timerDecider, timerStream } from '../../../domain/timer/index.js';
import { timerWorld, type TimerWorld } from '../../support/timer-world.js';

const at = (world: TimerWorld, ms: number) => new Date(world.clock.now().getTime() + ms);

describe('the durable timer service', () => {
  let world: TimerWorld;
  beforeEach(async () => {
    world = await timerWorld();
  });
  afterEach(async () => {
    await world.close();
  });

  it('fires a timer at its due time by the clock, not before, and once', async () => {
    const service = world.service('a');
    await service.schedule('t1', { kind: 'test', subjectId: 'vm-1' }, at(world, 5_000));
    await world.settle();

    world.clock.advance(4_999);
    expect(await service.tick()).toBe(0);
    world.clock.advance(1);
    expect(await service.tick()).toBe(1);
    await world.settle();
    expect(await service.tick()).toBe(0);

    expect(world.handled.map((h) => [h.subjectId, h.firedAt.toISOString()])).toEqual([['vm-1', '2026-03-01T00:00:05.000Z']]);
    expect(await world.firings()).toHaveLength(1);
  });

  it('polls every second on its own once started, so a clock stepped forward is noticed at the next poll', async () => {
    const service = world.service('a');
    await service.schedule('t1', { kind: 'test', subjectId: 'vm-1' }, at(world, 3_600_000));
    await world.settle();
    await service.start();
    // A resumed VM: the wall clock jumps an hour at once.
    world.clock.advance(3_600_000);
    world.clock.advance(1_000);
    await service.stop();
    expect(world.handled).toHaveLength(1);
  });

  it('keeps a moved timer to its new time, and a cancelled one silent', async () => {
    const service = world.service('a');
    await service.schedule('moved', { kind: 'test', subjectId: 'vm-1' }, at(world, 1_000));
    await service.schedule('moved', { kind: 'test', subjectId: 'vm-1' }, at(world, 10_000));
    await service.schedule('cancelled', { kind: 'test', subjectId: 'vm-2' }, at(world, 1_000));
    await service.cancel('cancelled');
    await world.settle();
    world.clock.advance(5_000);
    expect(await service.tick()).toBe(0);
    world.clock.advance(5_000);
    expect(await service.tick()).toBe(1);
    expect(world.handled.map((h) => h.subjectId)).toEqual(['vm-1']);
  });

  it('arms the timer again when its handler asks, and fires it then', async () => {
    const service = world.service('a', async (firing) => (world.handled.length < 3 ? new Date(firing.firedAt.getTime() + 60_000) : null));
    await service.schedule('t1', { kind: 'test', subjectId: 'vm-1' }, at(world, 0));
    await world.settle();
    for (let minute = 0; minute < 5; minute++) {
      expect(await service.tick()).toBe(minute < 3 ? 1 : 0);
      await world.settle();
      world.clock.advance(60_000);
    }
    expect(world.handled).toHaveLength(3);
  });

  it('after a restart fires every timer that came due while it was down, once', async () => {
    const first = world.service('first');
    for (let i = 0; i < 3; i++) await first.schedule(`t${i}`, { kind: 'test', subjectId: `vm-${i}` }, at(world, 1_000 * (i + 1)));
    await world.settle();
    await first.stop();

    world.clock.advance(60_000);
    const second = world.service('second');
    await second.start();
    expect(await second.tick()).toBe(3);
    expect(world.handled.map((h) => h.by)).toEqual(['second', 'second', 'second']);
  });

  it('runs the handler again after a restart when the process died between the firing and its end', async () => {
    const dying = world.service('dying');
    await dying.schedule('t1', { kind: 'test', subjectId: 'vm-1' }, at(world, 0));
    // What the crash leaves: the firing appended, the handler's end not.
    const now = world.clock.now().toISOString();
    await new Commander(world.store).execute(timerStream('t1'), timerDecider, { type: 'FireTimer', timerId: 't1', at: now }, {
      actor: { kind: 'system', component: 'dying' },
      correlationId: 't1',
      occurredAt: now,
    });
    await world.settle();

    const restarted = world.service('restarted');
    await restarted.start();
    await restarted.stop();
    expect(world.handled.map((h) => [h.by, h.subjectId])).toEqual([['restarted', 'vm-1']]);
    await world.settle();
    expect(await restarted.tick()).toBe(0);
    expect(await world.firings()).toHaveLength(1);
  });

  it('with two processes polling one log, each due timer is fired by exactly one of them', async () => {
    const a = world.service('a');
    const b = world.service('b');
    for (let i = 0; i < 40; i++) await a.schedule(`t${i}`, { kind: 'test', subjectId: `vm-${i}` }, at(world, 500 * (i % 4)));
    await world.settle();
    world.clock.advance(2_000);
    const [byA, byB] = await Promise.all([a.tick(), b.tick()]);
    expect(byA + byB).toBe(40);
    const fired = await world.firings();
    expect(fired).toHaveLength(40);
    expect(new Set(fired.map((f) => f.timerId)).size).toBe(40);
    expect(world.handled).toHaveLength(40);
  });
});
