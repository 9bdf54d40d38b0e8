// Turning an offering plus the caller's `details` into concrete resources. The instance domain calls these
// at deploy, changeServiceForVirtualMachine and scale time; keeping them here keeps the offering's rules in
// one place (CloudStack's UserVmManagerImpl.validateCustomParameters).

import { reject, type Rejection } from '../shared/decider.js';
import { MAX_INT32 } from '../config/validation.js';
import type { ComputeResources } from '../host/capacity.js';
import { MIN_MEMORY_MIB, type DiskOffering, type ServiceOffering } from './offering.js';

/** The detail keys CloudStack uses for custom offerings (VmDetailConstants). */
export const CPU_NUMBER_DETAIL = 'cpuNumber';
export const CPU_SPEED_DETAIL = 'cpuSpeed';
export const MEMORY_DETAIL = 'memory';

export type InstanceDetails = Readonly<Record<string, unknown>>;

type Parsed = { readonly present: false } | { readonly present: true; readonly value: number } | Rejection;

// Details arrive as strings from `details[0].cpuNumber=2` style input and as numbers from JSON.
function readDetail(details: InstanceDetails | undefined, key: string): Parsed {
  const raw = details?.[key];
  if (raw === undefined || raw === null || raw === '') return { present: false };
  const value = typeof raw === 'number' ? raw : typeof raw === 'string' && /^\s*\d+\s*$/.test(raw) ? Number(raw) : Number.NaN;
  if (!Number.isSafeInteger(value)) return reject('BAD_USER_INPUT', `details.${key} must be a whole number, got ${String(raw)}`, `details.${key}`);
  return { present: true, value };
}

function outOfRange(key: string, label: string, value: number, min: number, max: number): Rejection | undefined {
  return value < min || value > max
    ? reject('BAD_USER_INPUT', `Invalid ${label} value ${value}, specify a value between ${min} and ${max}`, `details.${key}`)
    : undefined;
}

function requireDetail(parsed: Parsed, key: string, offering: Pick<ServiceOffering, 'name'>): number | Rejection {
  if ('kind' in parsed) return parsed;
  if (!parsed.present) {
    return reject(
      'BAD_USER_INPUT',
      `Need to specify custom parameter values cpu, cpu speed and memory when using custom offering ${offering.name}: details.${key} is missing`,
      `details.${key}`,
    );
  }
  return parsed.value;
}

/**
 * Resources an instance gets from `offering` with `details`. Fixed offerings ignore details that repeat
 * their own values but refuse different ones, since silently dropping a requested size would surprise the
 * caller; custom offerings require cores and memory and check them against the offering's bounds.
 */
export function resolveComputeResources(
  offering: Pick<ServiceOffering, 'name' | 'compute'>,
  details?: InstanceDetails,
): ComputeResources | Rejection {
  const cpuNumber = readDetail(details, CPU_NUMBER_DETAIL);
  const cpuSpeed = readDetail(details, CPU_SPEED_DETAIL);
  const memory = readDetail(details, MEMORY_DETAIL);
  for (const parsed of [cpuNumber, cpuSpeed, memory]) if ('kind' in parsed) return parsed;
  const compute = offering.compute;

  const speedFixedBy = (fixed: number): number | Rejection => {
    if ('kind' in cpuSpeed || !cpuSpeed.present || cpuSpeed.value === fixed) return fixed;
    return reject('BAD_USER_INPUT', `Service offering ${offering.name} fixes the CPU speed at ${fixed} MHz; details.cpuSpeed ${cpuSpeed.value} is not allowed`, `details.${CPU_SPEED_DETAIL}`);
  };

  switch (compute.kind) {
    case 'fixed': {
      const checks: ReadonlyArray<[Parsed, number, string]> = [
        [cpuNumber, compute.cpuNumber, CPU_NUMBER_DETAIL],
        [cpuSpeed, compute.cpuSpeed, CPU_SPEED_DETAIL],
        [memory, compute.memory, MEMORY_DETAIL],
      ];
      for (const [parsed, fixed, key] of checks) {
        if (!('kind' in parsed) && parsed.present && parsed.value !== fixed) {
          return reject('BAD_USER_INPUT', `Service offering ${offering.name} is not customized; details.${key} must be omitted or equal ${fixed}`, `details.${key}`);
        }
      }
      return { cpuNumber: compute.cpuNumber, cpuSpeed: compute.cpuSpeed, memory: compute.memory };
    }
    case 'customConstrained': {
      const cores = requireDetail(cpuNumber, CPU_NUMBER_DETAIL, offering);
      if (typeof cores !== 'number') return cores;
      const mem = requireDetail(memory, MEMORY_DETAIL, offering);
      if (typeof mem !== 'number') return mem;
      const speed = speedFixedBy(compute.cpuSpeed);
      if (typeof speed !== 'number') return speed;
      const bad =
        outOfRange(CPU_NUMBER_DETAIL, 'cpu cores', cores, compute.minCpuNumber, compute.maxCpuNumber) ??
        outOfRange(MEMORY_DETAIL, 'memory', mem, compute.minMemory, compute.maxMemory);
      return bad ?? { cpuNumber: cores, cpuSpeed: speed, memory: mem };
    }
    case 'customUnconstrained': {
      const cores = requireDetail(cpuNumber, CPU_NUMBER_DETAIL, offering);
      if (typeof cores !== 'number') return cores;
      const mem = requireDetail(memory, MEMORY_DETAIL, offering);
      if (typeof mem !== 'number') return mem;
      const speed = compute.cpuSpeed === null ? requireDetail(cpuSpeed, CPU_SPEED_DETAIL, offering) : speedFixedBy(compute.cpuSpeed);
      if (typeof speed !== 'number') return speed;
      const bad =
        outOfRange(CPU_NUMBER_DETAIL, 'cpu cores', cores, 1, MAX_INT32) ??
        outOfRange(CPU_SPEED_DETAIL, 'cpu speed', speed, 1, MAX_INT32) ??
        outOfRange(MEMORY_DETAIL, 'memory', mem, MIN_MEMORY_MIB, MAX_INT32);
      return bad ?? { cpuNumber: cores, cpuSpeed: speed, memory: mem };
    }
  }
}

export const GIB = 1024 ** 3;

export interface CustomDiskSizeLimits {
  /** `custom.diskoffering.size.min`, GiB. */
  readonly minGiB: number;
  /** `custom.diskoffering.size.max`, GiB. */
  readonly maxGiB: number;
}

/** Size in bytes of a volume created from `offering`; `size` is required exactly for custom offerings. */
export function resolveDiskSize(
  offering: Pick<DiskOffering, 'name' | 'diskSize'>,
  size: number | null | undefined,
  limits: CustomDiskSizeLimits = { minGiB: 1, maxGiB: 1024 },
): number | Rejection {
  if (offering.diskSize !== null) {
    if (size !== undefined && size !== null && size !== offering.diskSize) {
      return reject('BAD_USER_INPUT', `Disk offering ${offering.name} has a fixed size of ${offering.diskSize} bytes; size cannot be specified`, 'size');
    }
    return offering.diskSize;
  }
  if (size === undefined || size === null) return reject('BAD_USER_INPUT', `Disk offering ${offering.name} is custom-sized; size is required`, 'size');
  if (!Number.isSafeInteger(size) || size < limits.minGiB * GIB || size > limits.maxGiB * GIB) {
    return reject('BAD_USER_INPUT', `Custom disk size must be between ${limits.minGiB} and ${limits.maxGiB} GiB, got ${String(size)} bytes`, 'size');
  }
  return size;
}
