// An instance's affinity groups (behaviour §6.3): replaced only while Stopped; a deleted group is left
// whatever the state.
import { describe, it } from 'vitest';
import { instanceDecider } from '../../../domain/instance/index.js';
import { AT, history, ID, owner, stranger } from './fixtures.js';
import { given } from '../../support/given.js';

const update = (affinityGroupIds: string[], caller = owner) => ({ type: 'UpdateAffinityGroups' as const, instanceId: ID.vm, at: AT, caller, affinityGroupIds });
const updated = (affinityGroupIds: string[]) => ({ type: 'InstanceAffinityGroupsUpdated' as const, data: { instanceId: ID.vm, affinityGroupIds } });

describe('instance affinity groups', () => {
  it('replaces the set of a stopped instance, once per change', () => {
    given(instanceDecider, history.stopped()).when(update(['ag-1', 'ag-2', 'ag-1'])).then([updated(['ag-1', 'ag-2'])]);
    given(instanceDecider, [...history.stopped(), updated(['ag-1', 'ag-2'])]).when(update(['ag-2', 'ag-1'])).then([]);
  });
  it('refuses a running instance with CloudStack’s message', () => {
    given(instanceDecider, history.running())
      .when(update(['ag-1']))
      .then('INVALID_STATE', { message: /^Unable update affinity groups of the virtual machine .* in state Running; make sure the virtual machine is stopped/ });
  });
  it('another account’s instance does not exist for a user', () => {
    given(instanceDecider, history.stopped()).when(update(['ag-1'], stranger)).then('NOT_FOUND');
  });
  it('leaves a deleted group in any state', () => {
    given(instanceDecider, [...history.stopped(), updated(['ag-1', 'ag-2'])])
      .when({ type: 'LeaveAffinityGroup', instanceId: ID.vm, at: AT, affinityGroupId: 'ag-1' })
      .then([updated(['ag-2'])]);
    given(instanceDecider, history.running()).when({ type: 'LeaveAffinityGroup', instanceId: ID.vm, at: AT, affinityGroupId: 'ag-1' }).then([]);
  });
});
