import { describe, expect, it } from 'vitest';
import { instanceDecider } from '../../../domain/instance/index.js';
import { AT, ID, cmd, deploy, domainAdmin, eventsOf, history, owner } from './fixtures.js';
import { given } from '../../support/given.js';

describe('RebootInstance', () => {
  it('asks a running instance to reboot without leaving Running and without usage', () => {
    const state = given(instanceDecider, history.running())
      .when(cmd.reboot('job-reboot', true))
      .then([{ type: 'InstanceRebootRequested', data: { instanceId: ID.vm, jobId: 'job-reboot', forced: true, hostId: ID.host1 } }]);
    expect(state).toMatchObject({ state: 'Running', pending: { kind: 'reboot', jobId: 'job-reboot' } });
  });

  it.each([
    ['stopped', history.stopped],
    ['starting', history.starting],
    ['stopping', history.stopping],
    ['destroyed', history.destroyed],
    ['error', history.error],
  ])('refuses a %s instance with CloudStack message', (_name, make) => {
    given(instanceDecider, make())
      .when(cmd.reboot())
      .then('INVALID_STATE', { message: `The VM ${ID.vm} (Web server) is not running, unable to reboot it` });
  });

  it('refuses a second reboot while one is in flight', () => {
    const rebooting = eventsOf(deploy(), cmd.start(), cmd.startOk(), cmd.reboot());
    given(instanceDecider, rebooting)
      .when(cmd.reboot('job-2'))
      .then('INVALID_STATE', { message: `The virtual machine ${ID.vm} (Web server) is busy with reboot job job-reboot` });
  });

  it('Running --OperationSucceeded--> Running when the reboot is done', () => {
    const rebooting = eventsOf(deploy(), cmd.start(), cmd.startOk(), cmd.reboot());
    const state = given(instanceDecider, rebooting)
      .when(cmd.rebootOk())
      .then([{ type: 'InstanceRebooted', data: { instanceId: ID.vm, jobId: 'job-reboot', state: 'Running', settledAt: AT } }]);
    expect(state).toMatchObject({ state: 'Running', pending: null });
  });

  it('records a failed reboot and leaves the instance running', () => {
    const rebooting = eventsOf(deploy(), cmd.start(), cmd.startOk(), cmd.reboot());
    given(instanceDecider, rebooting)
      .when(cmd.rebootFail())
      .then([{ type: 'InstanceRebootFailed', data: { instanceId: ID.vm, jobId: 'job-reboot', reason: 'agent timeout', settledAt: AT } }]);
  });

  it('refuses reboot outcomes without that reboot in flight', () => {
    given(instanceDecider, history.running()).when(cmd.rebootOk()).then('INVALID_STATE');
    given(instanceDecider, history.running()).when(cmd.rebootFail()).then('INVALID_STATE');
    given(instanceDecider, history.stopped()).when(cmd.rebootOk()).then('INVALID_STATE', { message: /from Stopped via OperationSucceeded$/ });
  });

  it('is superseded by a stop, after which its outcome is refused', () => {
    const stopped = eventsOf(deploy(), cmd.start(), cmd.startOk(), cmd.reboot(), cmd.stop(), cmd.stopOk());
    given(instanceDecider, stopped).when(cmd.rebootOk()).then('INVALID_STATE');
  });
});

describe('MigrateInstance', () => {
  it('Running --MigrationRequested--> Migrating for a root admin', () => {
    const state = given(instanceDecider, history.running())
      .when(cmd.migrate(ID.host2))
      .then([
        {
          type: 'InstanceMigrationRequested',
          data: { instanceId: ID.vm, jobId: 'job-migrate', sourceHostId: ID.host1, targetHostId: ID.host2, state: 'Migrating' },
        },
      ]);
    expect(state).toMatchObject({ state: 'Migrating', hostId: ID.host1 });
  });

  it('is for the root admin only', () => {
    const message = 'No permission to migrate VM, Only Root Admin can migrate a VM!';
    given(instanceDecider, history.running()).when(cmd.migrate(ID.host2, owner)).then('FORBIDDEN', { message });
    given(instanceDecider, history.running()).when(cmd.migrate(ID.host2, domainAdmin)).then('FORBIDDEN', { message });
  });

  it.each([
    ['stopped', history.stopped],
    ['starting', history.starting],
    ['stopping', history.stopping],
    ['migrating', history.migrating],
    ['destroyed', history.destroyed],
  ])('refuses a %s instance', (_name, make) => {
    given(instanceDecider, make()).when(cmd.migrate()).then('INVALID_STATE', { message: `VM is not Running, unable to migrate the vm ${ID.vm}` });
  });

  it('refuses the host the instance is already on', () => {
    given(instanceDecider, history.running())
      .when(cmd.migrate(ID.host1))
      .then('BAD_USER_INPUT', {
        message: 'Cannot migrate VM, VM is already present on this host, please specify valid destination host to migrate the VM',
        field: 'hostId',
      });
  });

  it('Migrating --OperationSucceeded--> Running on the new host, with no usage', () => {
    const state = given(instanceDecider, history.migrating())
      .when(cmd.migrateOk())
      .then([
        {
          type: 'InstanceMigrated',
          data: { instanceId: ID.vm, jobId: 'job-migrate', sourceHostId: ID.host1, hostId: ID.host2, state: 'Running', settledAt: AT },
        },
      ]);
    expect(state).toMatchObject({ state: 'Running', hostId: ID.host2, pending: null });
  });

  it('Migrating --OperationFailed--> Running on the old host', () => {
    const state = given(instanceDecider, history.migrating())
      .when(cmd.migrateFail())
      .then([{ type: 'InstanceMigrationFailed', data: { instanceId: ID.vm, jobId: 'job-migrate', reason: 'target refused', state: 'Running', settledAt: AT } }]);
    expect(state).toMatchObject({ state: 'Running', hostId: ID.host1 });
  });

  it('refuses migration outcomes of another job or outside Migrating', () => {
    given(instanceDecider, history.migrating()).when(cmd.migrateOk('job-old')).then('INVALID_STATE');
    given(instanceDecider, history.migrating()).when(cmd.migrateFail('job-old')).then('INVALID_STATE');
    given(instanceDecider, history.stopped()).when(cmd.migrateFail()).then('INVALID_STATE', { message: /from Stopped via OperationFailed$/ });
  });
});
