import { describe, expect, it } from 'vitest';
import { ApiError } from '../../../api/control-plane/port.js';
import { guardArguments, MAX_LIST_LENGTH, MAX_NAME_LENGTH, MAX_STRING_BYTES } from '../../../api/graphql/limits/index.js';

function refusal(operation: string, args: Record<string, unknown>): ApiError {
  try {
    guardArguments(operation, args);
  } catch (error) {
    expect(error).toBeInstanceOf(ApiError);
    return error as ApiError;
  }
  throw new Error('expected a refusal');
}

describe('argument size guard', () => {
  it('accepts ordinary arguments', () => {
    expect(() =>
      guardArguments('deployVirtualMachine', {
        zoneId: '0b7f6d5e-0000-4000-8000-000000000001',
        name: 'web-1',
        userData: 'x'.repeat(MAX_STRING_BYTES),
        details: { cpuNumber: '2' },
        networkIds: ['n1', 'n2'],
        startVm: true,
      }),
    ).not.toThrow();
  });

  it('bounds names and ids at 255 characters, naming the argument and the operation', () => {
    const error = refusal('deployVirtualMachine', { name: 'n'.repeat(MAX_NAME_LENGTH + 1) });
    expect(error.code).toBe('BAD_USER_INPUT');
    expect(error.errorCode).toBe(431);
    expect(error.field).toBe('name');
    expect(error.message).toContain(`${MAX_NAME_LENGTH + 1} characters long; at most ${MAX_NAME_LENGTH}`);
    expect(error.message).toContain('argument name of deployVirtualMachine');
    expect(error.message).toContain('"nnnn');
    expect(refusal('virtualMachine', { id: 'i'.repeat(256) }).field).toBe('id');
    expect(refusal('deployVirtualMachine', { serviceOfferingId: 'i'.repeat(256) }).field).toBe('serviceOfferingId');
    expect(() => guardArguments('deployVirtualMachine', { name: 'n'.repeat(MAX_NAME_LENGTH) })).not.toThrow();
  });

  it('bounds every other string at 64 KiB of UTF-8', () => {
    expect(refusal('deployVirtualMachine', { userData: 'u'.repeat(MAX_STRING_BYTES + 1) }).field).toBe('userData');
    // Counted in bytes: 30,000 three-byte characters are 90,000 bytes.
    expect(refusal('updateConfiguration', { name: 'k', value: '€'.repeat(30_000) }).field).toBe('value');
  });

  it('looks inside lists, input objects and JSON', () => {
    const tag = refusal('addHost', { hostTags: ['ok', 't'.repeat(300)] });
    expect(tag.field).toBe('hostTags');
    expect(tag.message).toContain('hostTags[1]');
    const detail = refusal('deployVirtualMachine', { details: { note: 'd'.repeat(MAX_STRING_BYTES + 1) } });
    expect(detail.field).toBe('details');
    expect(detail.message).toContain('details.note');
    expect(refusal('deployVirtualMachine', { details: { ['k'.repeat(300)]: 'v' } }).message).toContain('has a key');
  });

  it('bounds list lengths and JSON object sizes', () => {
    expect(refusal('virtualMachines', { ids: Array.from({ length: MAX_LIST_LENGTH + 1 }, (_, index) => `id-${index}`) }).message).toContain(
      `${MAX_LIST_LENGTH + 1} items`,
    );
    const wide = Object.fromEntries(Array.from({ length: MAX_LIST_LENGTH + 1 }, (_, index) => [`k${index}`, 'v']));
    expect(refusal('deployVirtualMachine', { details: wide }).message).toContain(`${MAX_LIST_LENGTH + 1} keys`);
  });
});
