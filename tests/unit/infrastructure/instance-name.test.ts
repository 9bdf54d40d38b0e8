import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { CommandRejectedError } from '../../../adapters/eventstore/command-handler.js';
import { Commander } from '../../../adapters/eventstore/commander.js';
import { SqliteEventStore } from '../../../adapters/eventstore/sqlite/sqlite-event-store.js';
import { accountDecider, accountStream, instanceNameDecider, instanceNameStream, type InstanceNameEvent } from '../../../domain/account/index.js';
import { releaseInstanceName, reserveInstanceName } from '../../../sagas/instance-names.js';
import { given } from '../../support/given.js';

const reserve = (instanceId: string, name: string) => ({ type: 'ReserveInstanceName' as const, accountId: 'a1', instanceId, name, accountName: 'alice' });
const release = (instanceId: string) => ({ type: 'ReleaseInstanceName' as const, accountId: 'a1', instanceId });
const reserved = (instanceId: string, name: string): InstanceNameEvent => ({ type: 'InstanceNameReserved', data: { accountId: 'a1', instanceId, name } });
const released = (instanceId: string, name: string): InstanceNameEvent => ({ type: 'InstanceNameReleased', data: { accountId: 'a1', instanceId, name } });

describe('an instance name, one stream per name and account', () => {
  it('names its stream after the account and the lower-cased name', () => {
    expect(instanceNameStream('a1', 'Web-1')).toBe('instancename-a1-web-1');
    expect(instanceNameStream('a1', 'WEB-1')).toBe(instanceNameStream('a1', 'web-1'));
  });

  it('is reserved once; the holder repeating it appends nothing, another instance is refused', () => {
    given(instanceNameDecider).when(reserve('vm1', 'web-1')).then([reserved('vm1', 'web-1')]);
    given(instanceNameDecider, [reserved('vm1', 'web-1')]).when(reserve('vm1', 'web-1')).then([]);
    given(instanceNameDecider, [reserved('vm1', 'web-1')])
      .when(reserve('vm2', 'WEB-1'))
      .then('CONFLICT', { field: 'name', message: 'Instance name WEB-1 is not unique in account alice' });
  });

  it('is free again once its holder releases it; a release by anybody else appends nothing', () => {
    given(instanceNameDecider, [reserved('vm1', 'web-1')]).when(release('vm1')).then([released('vm1', 'web-1')]);
    given(instanceNameDecider, [reserved('vm1', 'web-1')]).when(release('vm2')).then([]);
    given(instanceNameDecider).when(release('vm1')).then([]);
    given(instanceNameDecider, [reserved('vm1', 'web-1'), released('vm1', 'web-1')]).when(reserve('vm2', 'web-1')).then([reserved('vm2', 'web-1')]);
  });

  it('refuses bad input', () => {
    given(instanceNameDecider).when(reserve('', 'web-1')).then('BAD_USER_INPUT', { field: 'instanceId' });
    given(instanceNameDecider).when(reserve('vm1', ' ')).then('BAD_USER_INPUT', { field: 'name' });
  });
});

describe('claiming names through the commander', () => {
  const dirs: string[] = [];
  afterEach(() => {
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });
  const envelope = { actor: { kind: 'system' as const, component: 'test' }, correlationId: 'c', occurredAt: '2025-03-01T10:00:00.000Z' };

  async function withAccount(...legacyNames: Array<[string, string]>) {
    const dir = mkdtempSync(join(tmpdir(), 'vmledger-names-'));
    dirs.push(dir);
    const store = SqliteEventStore.open(join(dir, 'events.sqlite'));
    const commander = new Commander(store);
    await commander.execute(
      accountStream('a1'),
      accountDecider,
      { type: 'CreateAccount', accountId: 'a1', domainId: 'd1', domainPath: '/', name: 'alice', role: 'USER', user: { userId: 'u1', username: 'alice', apiKey: 'alice-key-0123456789' }, at: envelope.occurredAt },
      envelope,
    );
    // What a log written before name streams holds: the reservations on the account stream.
    if (legacyNames.length > 0) {
      const events = legacyNames.map(([instanceId, name]) => ({ type: 'InstanceNameReserved', data: { accountId: 'a1', instanceId, name } }));
      await store.append(accountStream('a1'), events.map((e, i) => ({ id: `00000000-0000-4000-8000-00000000000${i}`, type: e.type, data: e.data, metadata: { occurredAt: envelope.occurredAt } })), 1);
    }
    return { store, commander };
  }

  const refusal = (promise: Promise<unknown>) => promise.then(() => undefined, (error: unknown) => (error instanceof CommandRejectedError ? error.rejection.code : error));

  it('appends to the name\'s stream only, and a second instance is refused whatever the case', async () => {
    const { store, commander } = await withAccount();
    await reserveInstanceName(commander, { accountId: 'a1', instanceId: 'vm1', name: 'web-1' }, envelope);
    expect((await store.readStream(instanceNameStream('a1', 'web-1'))).map((e) => e.type)).toEqual(['InstanceNameReserved']);
    expect((await store.readStream(accountStream('a1'))).map((e) => e.type)).toEqual(['AccountCreated', 'UserCreated']);
    expect(await refusal(reserveInstanceName(commander, { accountId: 'a1', instanceId: 'vm2', name: 'Web-1' }, envelope))).toBe('CONFLICT');
    await releaseInstanceName(commander, { accountId: 'a1', instanceId: 'vm1', name: 'web-1' }, envelope);
    await reserveInstanceName(commander, { accountId: 'a1', instanceId: 'vm2', name: 'Web-1' }, envelope);
    await store.close();
  });

  it('keeps a name an older log reserved on the account stream held until it is released, even without its name', async () => {
    const { store, commander } = await withAccount(['vm1', 'web-1']);
    expect(await refusal(reserveInstanceName(commander, { accountId: 'a1', instanceId: 'vm2', name: 'WEB-1' }, envelope))).toBe('CONFLICT');
    await releaseInstanceName(commander, { accountId: 'a1', instanceId: 'vm1', name: null }, envelope);
    await reserveInstanceName(commander, { accountId: 'a1', instanceId: 'vm2', name: 'WEB-1' }, envelope);
    expect(await refusal(reserveInstanceName(commander, { accountId: 'a1', instanceId: 'vm3', name: 'web-1' }, envelope))).toBe('CONFLICT');
    await store.close();
  });
});
