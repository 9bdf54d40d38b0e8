// The API's one argument reader: what it returns for absent, null and given values, and that a
// value of the wrong type is BAD_USER_INPUT naming the argument, whoever called.
import { describe, expect, it } from 'vitest';
import {
  oneOf,
  optionalBoolean,
  optionalDetails,
  optionalEnum,
  optionalNumber,
  optionalString,
  optionalStringList,
  pageArgs,
  requiredEnum,
  requiredString,
} from '../../../api/control-plane/args.js';
import { ApiError } from '../../../api/control-plane/port.js';

function refusal(read: () => unknown): { code: string; field?: string; message: string } {
  try {
    read();
  } catch (error) {
    if (error instanceof ApiError) return { code: error.code, field: error.field, message: error.message };
    throw error;
  }
  throw new Error('the read was not refused');
}

describe('the argument reader', () => {
  it('tells an argument not given (undefined) from one given as null, so an update can leave or clear', () => {
    expect(optionalString({}, 'group')).toBeUndefined();
    expect(optionalString({ group: null }, 'group')).toBeNull();
    expect(optionalString({ group: 'web' }, 'group')).toBe('web');
    expect(optionalNumber({}, 'vlan')).toBeUndefined();
    expect(optionalNumber({ vlan: null }, 'vlan')).toBeNull();
    expect(optionalBoolean({ startVm: false }, 'startVm')).toBe(false);
    expect(optionalStringList({ ids: null }, 'ids')).toBeNull();
    expect(optionalStringList({ ids: ['a', 'b'] }, 'ids')).toEqual(['a', 'b']);
    expect(optionalEnum({}, 'scope', ['ZONE', 'HOST'])).toBeUndefined();
    expect(pageArgs({ first: 5 })).toEqual({ first: 5, after: undefined });
  });

  it('refuses a value of the wrong type as BAD_USER_INPUT naming the argument', () => {
    expect(refusal(() => requiredString({}, 'name'))).toEqual({ code: 'BAD_USER_INPUT', field: 'name', message: 'name is required' });
    expect(refusal(() => requiredString({ name: 7 }, 'name'))).toEqual({ code: 'BAD_USER_INPUT', field: 'name', message: 'name must be a string, got number' });
    expect(refusal(() => optionalString({ url: true }, 'url'))).toMatchObject({ code: 'BAD_USER_INPUT', field: 'url' });
    expect(refusal(() => optionalNumber({ memory: '512' }, 'memory'))).toEqual({ code: 'BAD_USER_INPUT', field: 'memory', message: 'memory must be a number, got "512"' });
    expect(refusal(() => optionalNumber({ memory: Number.NaN }, 'memory'))).toMatchObject({ field: 'memory' });
    expect(refusal(() => optionalBoolean({ customized: 'yes' }, 'customized'))).toEqual({
      code: 'BAD_USER_INPUT',
      field: 'customized',
      message: 'customized must be true or false, got "yes"',
    });
    expect(refusal(() => optionalStringList({ hostTags: ['a', 1] }, 'hostTags'))).toMatchObject({ field: 'hostTags', message: 'hostTags must be a list of strings' });
    expect(refusal(() => optionalDetails({ details: { cpuNumber: { n: 2 } } }))).toMatchObject({ field: 'details', message: 'details.cpuNumber must be a string, a number or a boolean, got object' });
    expect(refusal(() => pageArgs({ first: 'ten' }))).toMatchObject({ field: 'first' });
  });

  it('reads names from a list in any case, as CloudStack matches them, and returns the canonical spelling', () => {
    expect(requiredEnum({ hypervisor: 'kvm' }, 'hypervisor', ['KVM', 'VMware'])).toBe('KVM');
    expect(oneOf('nfs', ['NFS', 'local'], 'type')).toBe('NFS');
    expect(refusal(() => optionalEnum({ leaseExpiryAction: 'PAUSE' }, 'leaseExpiryAction', ['STOP', 'DESTROY']))).toEqual({
      code: 'BAD_USER_INPUT',
      field: 'leaseExpiryAction',
      message: 'leaseExpiryAction must be one of STOP, DESTROY, got "PAUSE"',
    });
  });

  it('writes details CloudStack would receive as text, and refuses a list', () => {
    expect(optionalDetails({ details: { cpuNumber: 2, ha: true, note: 'x' } })).toEqual({ cpuNumber: '2', ha: 'true', note: 'x' });
    expect(refusal(() => optionalDetails({ details: ['a'] }))).toEqual({ code: 'BAD_USER_INPUT', field: 'details', message: 'details must be an object of string values, got a list' });
  });
});
