// Template aggregate, stream `template-<templateId>`. Registration records where the image comes from
// and what it is; instances copy the fields they depend on (OS type, size, scalability) when deployed.

import { reject, type Decider, type DomainEvent, type Rejection } from '../shared/decider.js';
import { firstFailure, optionalText, requireBoolean, requireId, requireName, requireTimestamp } from '../config/validation.js';
import { osTypeByDescription, osTypeMessages } from '../os-type/index.js';
import { HYPERVISOR_TYPES, type HypervisorType } from '../zone/zone.js';

export const TEMPLATE_STREAM_PREFIX = 'template-';

export function templateStream(templateId: string): string {
  return `${TEMPLATE_STREAM_PREFIX}${templateId}`;
}

export const TEMPLATE_FORMATS = ['QCOW2', 'RAW', 'VHD', 'VHDX', 'OVA', 'TAR', 'ISO'] as const;
export type TemplateFormat = (typeof TEMPLATE_FORMATS)[number];

// Which image formats each hypervisor can boot; registering a VHD for KVM would only fail at first deploy.
const FORMATS_BY_HYPERVISOR: Readonly<Record<HypervisorType, readonly TemplateFormat[]>> = {
  KVM: ['QCOW2', 'RAW', 'ISO'],
  VMware: ['OVA', 'ISO'],
  XenServer: ['VHD', 'ISO'],
  Hyperv: ['VHD', 'VHDX', 'ISO'],
  LXC: ['TAR'],
  Ovm3: ['RAW', 'ISO'],
  Simulator: TEMPLATE_FORMATS,
};

export interface Template {
  readonly templateId: string;
  readonly name: string;
  readonly displayText: string;
  /** Guest OS display name, e.g. `Debian GNU/Linux 12 (64-bit)`. */
  readonly osTypeName: string;
  readonly url: string;
  readonly format: TemplateFormat;
  readonly hypervisor: HypervisorType;
  /** Virtual size in bytes: the smallest root disk an instance from this template can have. */
  readonly size: number;
  readonly isDynamicallyScalable: boolean;
  /** Null for a cross-zone template. */
  readonly zoneId: string | null;
  /** Null for templates registered by the system/root admin for everyone. */
  readonly accountId: string | null;
  readonly isPublic: boolean;
  readonly created: string;
}

export type TemplateState = { readonly kind: 'absent' } | ({ readonly kind: 'template'; readonly deleted: boolean } & Template);

export interface RegisterTemplateCommand {
  readonly type: 'RegisterTemplate';
  readonly templateId: string;
  readonly name: string;
  readonly displayText?: string | null;
  readonly osTypeName: string;
  readonly url: string;
  readonly format: TemplateFormat;
  readonly hypervisor: HypervisorType;
  readonly size: number;
  readonly isDynamicallyScalable?: boolean | null;
  readonly zoneId?: string | null;
  readonly accountId?: string | null;
  readonly isPublic?: boolean | null;
  readonly at: string;
}

export type TemplateCommand = RegisterTemplateCommand | { readonly type: 'DeleteTemplate' };

export type TemplateEvent =
  | DomainEvent<'TemplateRegistered', Template>
  | DomainEvent<'TemplateDeleted', { readonly templateId: string }>;

const TEMPLATE_URL = /^(https?|nfs|file):\/\/\S+$/i;

function validateRegister(command: RegisterTemplateCommand): Template | Rejection {
  const invalid = firstFailure(
    requireId(command.templateId, 'templateId'),
    requireName(command.name, 'name', 'Template name'),
    optionalText(command.displayText, 'displayText', 'displayText'),
    // The argument is registerTemplate's osType; an OS outside the catalogue would mean nothing to an instance.
    typeof command.osTypeName === 'string' && osTypeByDescription(command.osTypeName)
      ? undefined
      : reject('BAD_USER_INPUT', osTypeMessages.unknownDescription(String(command.osTypeName)), 'osType'),
    typeof command.url === 'string' && TEMPLATE_URL.test(command.url)
      ? undefined
      : reject('BAD_USER_INPUT', `url must be an http(s)://, nfs:// or file:// URL, got ${String(command.url)}`, 'url'),
    TEMPLATE_FORMATS.includes(command.format)
      ? undefined
      : reject('BAD_USER_INPUT', `format must be one of ${TEMPLATE_FORMATS.join(', ')}, got ${String(command.format)}`, 'format'),
    HYPERVISOR_TYPES.includes(command.hypervisor)
      ? undefined
      : reject('BAD_USER_INPUT', `hypervisor must be one of ${HYPERVISOR_TYPES.join(', ')}, got ${String(command.hypervisor)}`, 'hypervisor'),
    typeof command.size === 'number' && Number.isSafeInteger(command.size) && command.size > 0
      ? undefined
      : reject('BAD_USER_INPUT', `size must be a positive number of bytes, got ${String(command.size)}`, 'size'),
    command.isDynamicallyScalable === undefined || command.isDynamicallyScalable === null
      ? undefined
      : requireBoolean(command.isDynamicallyScalable, 'isDynamicallyScalable', 'isDynamicallyScalable'),
    command.isPublic === undefined || command.isPublic === null ? undefined : requireBoolean(command.isPublic, 'isPublic', 'isPublic'),
    command.zoneId === undefined || command.zoneId === null ? undefined : requireId(command.zoneId, 'zoneId'),
    command.accountId === undefined || command.accountId === null ? undefined : requireId(command.accountId, 'accountId'),
    requireTimestamp(command.at),
  );
  if (invalid) return invalid;
  if (!FORMATS_BY_HYPERVISOR[command.hypervisor].includes(command.format)) {
    return reject(
      'BAD_USER_INPUT',
      `Format ${command.format} is not supported for hypervisor ${command.hypervisor}; use ${FORMATS_BY_HYPERVISOR[command.hypervisor].join(' or ')}`,
      'format',
    );
  }
  return {
    templateId: command.templateId,
    name: command.name,
    displayText: command.displayText ?? command.name,
    osTypeName: command.osTypeName,
    url: command.url,
    format: command.format,
    hypervisor: command.hypervisor,
    size: command.size,
    isDynamicallyScalable: command.isDynamicallyScalable ?? false,
    zoneId: command.zoneId ?? null,
    accountId: command.accountId ?? null,
    isPublic: command.isPublic ?? true,
    created: command.at,
  };
}

export const templateDecider: Decider<TemplateCommand, TemplateState, TemplateEvent> = {
  initialState: { kind: 'absent' },

  decide(command, state) {
    switch (command.type) {
      case 'RegisterTemplate': {
        const data = validateRegister(command);
        if ('kind' in data) return data;
        if (state.kind === 'template') return reject('CONFLICT', `Template ${command.templateId} already exists`, 'templateId');
        return [{ type: 'TemplateRegistered', data }];
      }
      case 'DeleteTemplate':
        if (state.kind === 'absent') return reject('NOT_FOUND', 'Template does not exist', 'id');
        return state.deleted ? [] : [{ type: 'TemplateDeleted', data: { templateId: state.templateId } }];
    }
  },

  evolve(state, event) {
    switch (event.type) {
      case 'TemplateRegistered':
        return { kind: 'template', deleted: false, ...event.data };
      case 'TemplateDeleted':
        return state.kind === 'template' ? { ...state, deleted: true } : state;
    }
  },
};
