// Input rules shared by several commands: hostnames, customized compute and instance details.
import { reject, type Rejection } from '../shared/decider.js';
import { HOSTNAME } from '../shared/instance-name.js';
import { messages } from './messages.js';
import type { Role } from '../account/index.js';
import type { Compute, CustomCompute, Details, ServiceOfferingSnapshot } from './model.js';

export function checkHostname(name: string, field = 'name'): Rejection | null {
  return HOSTNAME.test(name) ? null : reject('BAD_USER_INPUT', messages.invalidHostname, field);
}

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/** CloudStack's user data is base64 text; anything else would reach the guest garbled. */
export function checkUserData(userData: string | null | undefined): Rejection | null {
  if (userData === null || userData === undefined) return null;
  return userData.length % 4 === 0 && BASE64.test(userData) ? null : reject('BAD_USER_INPUT', messages.userDataNotBase64, 'userData');
}

const MAX_INT = 2_147_483_647;
/** CloudStack's floor for custom memory when the offering sets no minimum. */
const DEFAULT_MIN_MEMORY = 32;

const isPositiveInt = (value: number | undefined): value is number => value !== undefined && Number.isInteger(value) && value > 0;

interface Part {
  readonly fixed: number | null;
  readonly given: number | undefined;
  /** The rejection for a missing or out-of-range custom value, or null when it is acceptable. */
  readonly check: (value: number | undefined) => Rejection | null;
  readonly what: string;
  readonly field: keyof Compute;
}

/**
 * The compute an offering gives once the caller's custom values are applied
 * (`UserVmManagerImpl.validateCustomParameters`): open parts must be given and within the offering's
 * bounds, fixed parts may not be given at all.
 */
export function resolveCompute(offering: ServiceOfferingSnapshot, custom: CustomCompute | undefined): Compute | Rejection {
  const given = custom ?? {};
  const open = (value: number | null) => offering.customized && value === null;
  if (!offering.customized && (offering.cpuNumber === null || offering.cpuSpeed === null || offering.memory === null)) {
    return reject('BAD_USER_INPUT', `Service offering ${offering.id} is not customized but leaves compute unset`, 'serviceOfferingId');
  }
  const anyOpen = open(offering.cpuNumber) || open(offering.cpuSpeed) || open(offering.memory);
  const anyGiven = given.cpuNumber !== undefined || given.cpuSpeed !== undefined || given.memory !== undefined;
  if (anyOpen && !anyGiven) {
    return reject(
      'BAD_USER_INPUT',
      'Need to specify custom parameter values cpu, cpu speed and memory when using custom offering',
      'details',
    );
  }
  const within = (min: number, max: number, text: string, field: keyof Compute) => (value: number | undefined) =>
    isPositiveInt(value) && value >= min && value <= max ? null : reject('BAD_USER_INPUT', text, `details.${field}`);
  const cpuMin = offering.minCpuNumber ?? 1;
  const cpuMax = offering.maxCpuNumber ?? MAX_INT;
  const memMin = offering.minMemory ?? DEFAULT_MIN_MEMORY;
  const memMax = offering.maxMemory ?? MAX_INT;
  const parts: readonly Part[] = [
    {
      fixed: offering.cpuNumber,
      given: given.cpuNumber,
      check: within(cpuMin, cpuMax, `Invalid cpu cores value, specify a value between ${cpuMin} and ${cpuMax}`, 'cpuNumber'),
      what: 'cpu cores',
      field: 'cpuNumber',
    },
    {
      fixed: offering.cpuSpeed,
      given: given.cpuSpeed,
      check: within(1, MAX_INT, `Invalid cpu speed value, specify a value between 1 and ${MAX_INT}`, 'cpuSpeed'),
      what: 'cpu speed',
      field: 'cpuSpeed',
    },
    {
      fixed: offering.memory,
      given: given.memory,
      check: within(memMin, memMax, `Invalid memory value, specify a value between ${memMin} and ${memMax}`, 'memory'),
      what: 'memory',
      field: 'memory',
    },
  ];
  const values: number[] = [];
  for (const part of parts) {
    if (part.fixed !== null) {
      if (part.given !== undefined) {
        return reject(
          'BAD_USER_INPUT',
          `The ${part.what} of this offering id:${offering.id} is not customizable. This is predefined in the template.`,
          `details.${part.field}`,
        );
      }
      values.push(part.fixed);
      continue;
    }
    const problem = part.check(part.given);
    if (problem) return problem;
    values.push(part.given ?? 0);
  }
  const [cpuNumber = 0, cpuSpeed = 0, memory = 0] = values;
  return { cpuNumber, cpuSpeed, memory };
}

const LEASE_DETAIL_KEYS = ['leaseexpirydate', 'leaseexpiryaction', 'leaseactionexecution'];

export interface DetailRules {
  readonly role: Role;
  readonly denied: readonly string[];
  readonly readOnly: readonly string[];
}

/**
 * The details an update leaves on the instance (`updateVirtualMachine`): the given map replaces the
 * old one, but a non-root-admin may neither write nor drop a denied or read-only setting.
 */
export function nextDetails(current: Details, requested: Details, rules: DetailRules): Details | Rejection {
  const keys = Object.keys(requested);
  if (keys.includes('extraconfig')) return reject('BAD_USER_INPUT', messages.extraConfigInDetails, 'details');
  if (keys.some((key) => LEASE_DETAIL_KEYS.includes(key))) return reject('BAD_USER_INPUT', messages.leaseInDetails, 'details');
  if (rules.role === 'ROOT_ADMIN') return { ...requested };
  const guarded = new Set([...rules.denied, ...rules.readOnly]);
  for (const key of keys) {
    if (rules.denied.includes(key)) return reject('BAD_USER_INPUT', messages.deniedDetail(key), 'details');
    if (rules.readOnly.includes(key)) return reject('BAD_USER_INPUT', messages.readOnlyDetail(key), 'details');
  }
  const kept = Object.fromEntries(Object.entries(current).filter(([key]) => guarded.has(key)));
  return { ...requested, ...kept };
}

export function sameDetails(a: Details, b: Details): boolean {
  const keys = Object.keys(a);
  return keys.length === Object.keys(b).length && keys.every((key) => Object.hasOwn(b, key) && a[key] === b[key]);
}

const DAY_MS = 86_400_000;

/** `at` plus whole days, as CloudStack computes a lease's expiry (time of day preserved). */
export function addDays(at: string, days: number): string | null {
  const start = Date.parse(at);
  return Number.isNaN(start) ? null : new Date(start + days * DAY_MS).toISOString();
}
