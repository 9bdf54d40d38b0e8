// The one set of import rules in its two modes (api/control-plane/instances/import-checks.ts): an
// import stops at the first failing rule, its preview collects every one.
import { describe, expect, it } from 'vitest';
import { ImportChecks } from '../../../api/control-plane/instances/import-checks.js';
import { ApiError } from '../../../api/control-plane/port.js';
import { reject } from '../../../domain/shared/decider.js';

const rules = (checks: ImportChecks): string[] => {
  const ran: string[] = [];
  ran.push('name');
  checks.fail(new ApiError('BAD_USER_INPUT', 'Instance name cannot be empty', 'name'));
  ran.push('offering');
  checks.attempt(() => {
    throw new ApiError('BAD_USER_INPUT', 'Service offering ID: x cannot be found', 'serviceOfferingId');
  });
  ran.push('disks');
  checks.reject(reject('BAD_USER_INPUT', 'No attached disks found for the unmanaged VM: v', 'name'));
  ran.push('end');
  return ran;
};

describe('ImportChecks', () => {
  it('given an import, when a rule fails, then that failure is thrown and no later rule runs', () => {
    const ran: string[] = [];
    expect(() => ran.push(...rules(ImportChecks.firstError()))).toThrow('Instance name cannot be empty');
    expect(ran).toEqual([]);
  });

  it('given a preview, when rules fail, then every failure is recorded with its code, message and field, and the rules go on', () => {
    const checks = ImportChecks.collectAll();
    expect(rules(checks)).toEqual(['name', 'offering', 'disks', 'end']);
    expect(checks.failed).toBe(true);
    expect(checks.problems).toEqual([
      { code: 'BAD_USER_INPUT', message: 'Instance name cannot be empty', field: 'name' },
      { code: 'BAD_USER_INPUT', message: 'Service offering ID: x cannot be found', field: 'serviceOfferingId' },
      { code: 'BAD_USER_INPUT', message: 'No attached disks found for the unmanaged VM: v', field: 'name' },
    ]);
  });

  it('given the same failure reached twice, then it is one problem', () => {
    const checks = ImportChecks.collectAll();
    checks.fail(new ApiError('CONFLICT', 'NIC with MAC address m exists on network n and forced flag is disabled', 'forced'));
    checks.fail(new ApiError('CONFLICT', 'NIC with MAC address m exists on network n and forced flag is disabled', 'forced'));
    expect(checks.problems).toHaveLength(1);
  });

  it('given a rule that fails with something other than an ApiError (a bug), then it propagates in both modes', () => {
    for (const checks of [ImportChecks.firstError(), ImportChecks.collectAll()]) {
      expect(() => checks.attempt(() => { throw new TypeError('boom'); })).toThrow(TypeError);
    }
  });
});
