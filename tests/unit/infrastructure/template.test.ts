import { describe, expect, it } from 'vitest';
import { templateDecider, templateStream, type RegisterTemplateCommand, type TemplateEvent } from '../../../domain/template/index.js';
import { given } from '../../support/given.js';

const at = '2025-01-01T00:00:00.000Z';
const register: RegisterTemplateCommand = {
  type: 'RegisterTemplate',
  templateId: 't1',
  name: 'demo-linux',
  osTypeName: 'Debian GNU/Linux 12 (64-bit)',
  url: 'http://images.example/debian-12.qcow2',
  format: 'QCOW2',
  hypervisor: 'KVM',
  size: 2 * 1024 ** 3,
  at,
};
const registered: TemplateEvent = {
  type: 'TemplateRegistered',
  data: {
    templateId: 't1',
    name: 'demo-linux',
    displayText: 'demo-linux',
    osTypeName: 'Debian GNU/Linux 12 (64-bit)',
    url: 'http://images.example/debian-12.qcow2',
    format: 'QCOW2',
    hypervisor: 'KVM',
    size: 2 * 1024 ** 3,
    isDynamicallyScalable: false,
    zoneId: null,
    accountId: null,
    isPublic: true,
    created: at,
  },
};

describe('template', () => {
  it('names its stream template-<id>', () => {
    expect(templateStream('t1')).toBe('template-t1');
  });

  describe('RegisterTemplate', () => {
    it('registers a cross-zone public template', () => {
      const state = given(templateDecider).when(register).then([registered]);
      expect(state.kind === 'template' && state.deleted).toBe(false);
    });
    it('keeps optional fields', () => {
      given(templateDecider)
        .when({ ...register, displayText: 'Debian', isDynamicallyScalable: true, zoneId: 'z1', accountId: 'a1', isPublic: false, hypervisor: 'Simulator', format: 'OVA' })
        .then([
          {
            type: 'TemplateRegistered',
            data: { ...registered.data, displayText: 'Debian', isDynamicallyScalable: true, zoneId: 'z1', accountId: 'a1', isPublic: false, hypervisor: 'Simulator', format: 'OVA' },
          } as TemplateEvent,
        ]);
    });
    it.each([
      [{ templateId: '' }, 'templateId'],
      [{ name: '' }, 'name'],
      [{ displayText: 7 as unknown as string }, 'displayText'],
      [{ osTypeName: '' }, 'osType'],
      [{ osTypeName: 'bogus' }, 'osType'],
      [{ osTypeName: 'debian gnu/linux 12 (64-bit)' }, 'osType'],
      [{ osTypeName: '4037087a-e590-4823-8587-65ea56ea4792' }, 'osType'],
      [{ url: 'ftp://x/y' }, 'url'],
      [{ url: 'debian.qcow2' }, 'url'],
      [{ format: 'VMDK' as 'RAW' }, 'format'],
      [{ hypervisor: 'Bochs' as 'KVM' }, 'hypervisor'],
      [{ size: 0 }, 'size'],
      [{ size: 1.5 }, 'size'],
      [{ isDynamicallyScalable: 'yes' as unknown as boolean }, 'isDynamicallyScalable'],
      [{ isPublic: 'no' as unknown as boolean }, 'isPublic'],
      [{ zoneId: '' }, 'zoneId'],
      [{ accountId: '' }, 'accountId'],
      [{ at: '' }, 'at'],
      [{ format: 'VHD' as const }, 'format'],
      [{ hypervisor: 'VMware' as const }, 'format'],
    ] as const)('rejects %o', (change, field) => {
      given(templateDecider).when({ ...register, ...change } as RegisterTemplateCommand).then('BAD_USER_INPUT', { field });
    });
    it('rejects an existing template', () => {
      given(templateDecider, [registered]).when(register).then('CONFLICT', { field: 'templateId' });
    });
  });

  describe('DeleteTemplate', () => {
    const deleted: TemplateEvent = { type: 'TemplateDeleted', data: { templateId: 't1' } };
    it('deletes once; repeats are no-ops', () => {
      const state = given(templateDecider, [registered]).when({ type: 'DeleteTemplate' }).then([deleted]);
      expect(state.kind === 'template' && state.deleted).toBe(true);
      given(templateDecider, [registered, deleted]).when({ type: 'DeleteTemplate' }).then([]);
    });
    it('rejects a missing template', () => {
      given(templateDecider).when({ type: 'DeleteTemplate' }).then('NOT_FOUND');
    });
  });
});
