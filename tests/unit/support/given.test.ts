// The given/when/then helper must be able to fail, or every decider test built on it proves nothing.
import { describe, expect, it } from 'vitest';
import { reject, type Decider } from '../../../domain/shared/decider.js';
import { zoneDecider, type ZoneCommand, type ZoneEvent, type ZoneState } from '../../../domain/zone/index.js';
import { given, givenState } from '../../support/given.js';

const at = '2025-01-01T00:00:00.000Z';
const created: ZoneEvent = { type: 'ZoneCreated', data: { zoneId: 'z1', name: 'z', networkType: 'Advanced', created: at } };
const create: ZoneCommand = { type: 'CreateZone', zoneId: 'z1', name: 'z', at };
/** A zone decider that answers every command with `decision`. */
const answering = (decision: ReturnType<typeof zoneDecider.decide>): Decider<ZoneCommand, ZoneState, ZoneEvent> => ({ ...zoneDecider, decide: () => decision });

describe('given/when/then', () => {
  it('returns the state after the events, and the state before a rejection', () => {
    const after = given(zoneDecider).when(create).then([created]);
    expect(after).toMatchObject({ kind: 'zone', name: 'z' });
    const before = given(zoneDecider, [created]);
    expect(before.when(create).then('CONFLICT')).toBe(before.state);
  });

  it('hands over the accepted events, and fails on a rejection', () => {
    expect(given(zoneDecider).when(create).accepted()).toStrictEqual([created]);
    expect(() => given(zoneDecider, [created]).when(create).accepted()).toThrow(/CONFLICT/);
  });

  it('fails on a different event list', () => {
    expect(() => given(zoneDecider).when({ ...create, name: 'other' }).then([created])).toThrow();
    expect(() => given(zoneDecider).when(create).then([])).toThrow();
  });

  it('fails on an event that differs only by a stray undefined field', () => {
    const loose = { ...created, data: { ...created.data, extra: undefined } } as ZoneEvent;
    expect(() => given(answering([loose])).when(create).then([created])).toThrow();
  });

  it('fails when events were expected but the command was rejected', () => {
    expect(() => given(zoneDecider, [created]).when(create).then([])).toThrow(/CONFLICT/);
  });

  it('fails when a rejection was expected but events were decided', () => {
    expect(() => given(zoneDecider).when(create).then('CONFLICT')).toThrow(/ZoneCreated/);
  });

  it('fails on the wrong rejection code, field or message', () => {
    const when = given(zoneDecider, [created]).when(create);
    expect(() => when.then('NOT_FOUND')).toThrow();
    expect(() => when.then('CONFLICT', { field: 'name' })).toThrow();
    when.then('CONFLICT', { field: 'zoneId', message: 'Zone z1 already exists' });
    expect(() => when.then('CONFLICT', { message: 'something else' })).toThrow();
    expect(() => when.then('CONFLICT', { message: /something else/ })).toThrow();
  });

  it('checks a field that must be absent when told `field: undefined`', () => {
    expect(() => given(answering(reject('CONFLICT', 'taken', 'name'))).when(create).then('CONFLICT', { field: undefined })).toThrow();
    given(answering(reject('CONFLICT', 'taken'))).when(create).then('CONFLICT', { field: undefined, message: 'taken' });
  });

  it('fails on a rejection that does not say why', () => {
    expect(() => given(answering(reject('CONFLICT', ''))).when(create).then('CONFLICT')).toThrow();
  });

  it('catches a decide() that mutates its state', () => {
    const mutating: Decider<{ type: 'X' }, ZoneState, ZoneEvent> = {
      ...zoneDecider,
      decide: (_command, state) => {
        (state as { kind: string }).kind = 'absent';
        return [];
      },
    };
    expect(() => given(mutating, [created]).when({ type: 'X' })).toThrow(TypeError);
    expect(() => givenState(mutating, { ...given(zoneDecider, [created]).state }).when({ type: 'X' })).toThrow(TypeError);
  });
});
