// Offering aggregate, stream `offering-<offeringId>`: a service (compute) offering or a disk offering.
// Offerings are immutable once created (as in CloudStack, where only names and tags may change), so an
// instance that recorded an offering id can always recompute what it was promised.

import { isRejection, reject, type Decider, type DomainEvent, type Rejection } from '../shared/decider.js';
import {
  MAX_INT32,
  firstFailure,
  normalizeTags,
  optionalText,
  requireBoolean,
  requireId,
  requireIntInRange,
  requireName,
  requirePositiveInt,
  requireTimestamp,
} from '../config/validation.js';
import { checkLeaseDuration, leaseMessages, parseLeaseExpiryAction, type LeaseExpiryAction } from './lease.js';

export const OFFERING_STREAM_PREFIX = 'offering-';

export function offeringStream(offeringId: string): string {
  return `${OFFERING_STREAM_PREFIX}${offeringId}`;
}

/** CloudStack refuses less than 32 MiB for any instance. */
export const MIN_MEMORY_MIB = 32;

export type ComputeSpec =
  | { readonly kind: 'fixed'; readonly cpuNumber: number; readonly cpuSpeed: number; readonly memory: number }
  | {
      readonly kind: 'customConstrained';
      readonly cpuSpeed: number;
      readonly minCpuNumber: number;
      readonly maxCpuNumber: number;
      readonly minMemory: number;
      readonly maxMemory: number;
    }
  | { readonly kind: 'customUnconstrained'; readonly cpuSpeed: number | null };

export interface ServiceOffering {
  readonly offeringId: string;
  readonly name: string;
  readonly displayText: string;
  readonly compute: ComputeSpec;
  readonly hostTags: readonly string[];
  /** Storage tags the root volume's pool must carry (CloudStack's `tags` of createServiceOffering); absent in older events. */
  readonly storageTags?: readonly string[];
  /** CloudStack's `isvolatile`: the root disk is reset to the template on every reboot and start; absent in older events. */
  readonly isVolatile?: boolean;
  readonly dynamicScalingEnabled: boolean;
  readonly offerHa: boolean;
  readonly leaseDuration: number | null;
  readonly leaseExpiryAction: LeaseExpiryAction | null;
  readonly created: string;
}

export interface DiskOffering {
  readonly offeringId: string;
  readonly name: string;
  readonly displayText: string;
  /** Bytes; null when the size is chosen per volume (custom). */
  readonly diskSize: number | null;
  readonly storageTags: readonly string[];
  readonly created: string;
}

export type OfferingState =
  | { readonly kind: 'absent' }
  | ({ readonly kind: 'service'; readonly deleted: boolean } & ServiceOffering)
  | ({ readonly kind: 'disk'; readonly deleted: boolean } & DiskOffering);

export interface CreateServiceOfferingCommand {
  readonly type: 'CreateServiceOffering';
  readonly offeringId: string;
  readonly name: string;
  readonly displayText?: string | null;
  readonly cpuNumber?: number | null;
  readonly cpuSpeed?: number | null;
  readonly memory?: number | null;
  /** Defaults to true exactly when cpuNumber and memory are both absent, as CloudStack infers it. */
  readonly customized?: boolean | null;
  readonly minCpuNumber?: number | null;
  readonly maxCpuNumber?: number | null;
  readonly minMemory?: number | null;
  readonly maxMemory?: number | null;
  readonly hostTags?: readonly string[];
  readonly storageTags?: readonly string[];
  readonly isVolatile?: boolean | null;
  readonly dynamicScalingEnabled?: boolean | null;
  readonly offerHa?: boolean | null;
  readonly leaseDuration?: number | null;
  readonly leaseExpiryAction?: string | null;
  /** Effective `instance.lease.enabled`; CloudStack ignores the lease arguments while the feature is off. */
  readonly leaseFeatureEnabled: boolean;
  readonly at: string;
}

export interface CreateDiskOfferingCommand {
  readonly type: 'CreateDiskOffering';
  readonly offeringId: string;
  readonly name: string;
  readonly displayText?: string | null;
  readonly diskSize?: number | null;
  readonly customized?: boolean | null;
  readonly storageTags?: readonly string[];
  readonly at: string;
}

export type OfferingCommand = CreateServiceOfferingCommand | CreateDiskOfferingCommand | { readonly type: 'DeleteOffering' };

export type OfferingEvent =
  | DomainEvent<'ServiceOfferingCreated', ServiceOffering>
  | DomainEvent<'DiskOfferingCreated', DiskOffering>
  | DomainEvent<'OfferingDeleted', { readonly offeringId: string; readonly offeringKind: 'service' | 'disk' }>;

const given = (value: unknown): boolean => value !== undefined && value !== null;

function validateCompute(command: CreateServiceOfferingCommand): ComputeSpec | Rejection {
  const { cpuNumber, cpuSpeed, memory, minCpuNumber, maxCpuNumber, minMemory, maxMemory } = command;
  if (given(command.customized)) {
    const bad = requireBoolean(command.customized, 'customized', 'customized');
    if (bad) return bad;
  }
  const customized = command.customized ?? (!given(cpuNumber) && !given(memory));
  const bounds = { minCpuNumber, maxCpuNumber, minMemory, maxMemory };
  const boundsGiven = Object.entries(bounds).filter(([, value]) => given(value));
  const speedCheck = given(cpuSpeed) ? requirePositiveInt(cpuSpeed, 'cpuSpeed', 'CPU speed (MHz)') : undefined;
  if (speedCheck) return speedCheck;

  if (!customized) {
    const invalid = firstFailure(
      given(cpuNumber) ? requirePositiveInt(cpuNumber, 'cpuNumber', 'CPU cores') : reject('BAD_USER_INPUT', 'A fixed offering needs cpuNumber', 'cpuNumber'),
      given(cpuSpeed) ? undefined : reject('BAD_USER_INPUT', 'A fixed offering needs cpuSpeed', 'cpuSpeed'),
      given(memory) ? requireIntInRange(memory, 'memory', 'Memory (MiB)', MIN_MEMORY_MIB, MAX_INT32) : reject('BAD_USER_INPUT', 'A fixed offering needs memory', 'memory'),
      boundsGiven.length > 0
        ? reject('BAD_USER_INPUT', `${boundsGiven[0]?.[0]} applies only to customized offerings`, boundsGiven[0]?.[0])
        : undefined,
    );
    if (invalid) return invalid;
    return { kind: 'fixed', cpuNumber: cpuNumber as number, cpuSpeed: cpuSpeed as number, memory: memory as number };
  }

  // A customized offering takes its cores and memory from the deploy call, never from the offering.
  if (given(cpuNumber)) return reject('BAD_USER_INPUT', 'cpuNumber cannot be set on a customized offering; use minCpuNumber/maxCpuNumber', 'cpuNumber');
  if (given(memory)) return reject('BAD_USER_INPUT', 'memory cannot be set on a customized offering; use minMemory/maxMemory', 'memory');
  if (boundsGiven.length === 0) return { kind: 'customUnconstrained', cpuSpeed: given(cpuSpeed) ? (cpuSpeed as number) : null };

  const missing = Object.entries(bounds).find(([, value]) => !given(value));
  if (missing) {
    return reject('BAD_USER_INPUT', 'For a custom constrained offering minCpuNumber, maxCpuNumber, minMemory and maxMemory must all be specified', missing[0]);
  }
  const invalid = firstFailure(
    given(cpuSpeed) ? undefined : reject('BAD_USER_INPUT', 'A custom constrained offering needs cpuSpeed', 'cpuSpeed'),
    requirePositiveInt(minCpuNumber, 'minCpuNumber', 'Minimum CPU cores'),
    requirePositiveInt(maxCpuNumber, 'maxCpuNumber', 'Maximum CPU cores'),
    requireIntInRange(minMemory, 'minMemory', 'Minimum memory (MiB)', MIN_MEMORY_MIB, MAX_INT32),
    requireIntInRange(maxMemory, 'maxMemory', 'Maximum memory (MiB)', MIN_MEMORY_MIB, MAX_INT32),
  );
  if (invalid) return invalid;
  const spec = {
    kind: 'customConstrained',
    cpuSpeed: cpuSpeed as number,
    minCpuNumber: minCpuNumber as number,
    maxCpuNumber: maxCpuNumber as number,
    minMemory: minMemory as number,
    maxMemory: maxMemory as number,
  } as const;
  if (spec.minCpuNumber > spec.maxCpuNumber) {
    return reject('BAD_USER_INPUT', `maxCpuNumber (${spec.maxCpuNumber}) must not be less than minCpuNumber (${spec.minCpuNumber})`, 'maxCpuNumber');
  }
  if (spec.minMemory > spec.maxMemory) {
    return reject('BAD_USER_INPUT', `maxMemory (${spec.maxMemory}) must not be less than minMemory (${spec.minMemory})`, 'maxMemory');
  }
  return spec;
}

type Lease = { readonly leaseDuration: number | null; readonly leaseExpiryAction: LeaseExpiryAction | null };

/**
 * ConfigurationManagerImpl.validateAndGetLeaseExpiryAction, without its acceptance of the test-only
 * UNKNOWN action. The values are checked even while the feature is off (then no lease is kept).
 */
export function validateOfferingLease(duration: unknown, action: unknown, featureEnabled: boolean): Lease | Rejection {
  const noLease = { leaseDuration: null, leaseExpiryAction: null } as const;
  const badDuration = checkLeaseDuration(duration, false);
  if (badDuration) return badDuration;
  const parsed = parseLeaseExpiryAction(action);
  if (isRejection(parsed)) return parsed;
  if (!featureEnabled) return noLease;
  if (!given(duration) && parsed === null) return noLease;
  if (!given(duration) || parsed === null) return reject('BAD_USER_INPUT', leaseMessages.needsBoth, given(duration) ? 'leaseExpiryAction' : 'leaseDuration');
  return { leaseDuration: duration as number, leaseExpiryAction: parsed };
}

function decideCreateService(command: CreateServiceOfferingCommand, state: OfferingState): readonly OfferingEvent[] | Rejection {
  const invalid = firstFailure(
    requireId(command.offeringId, 'offeringId'),
    requireName(command.name, 'name', 'Offering name'),
    optionalText(command.displayText, 'displayText', 'displayText'),
    given(command.dynamicScalingEnabled) ? requireBoolean(command.dynamicScalingEnabled, 'dynamicScalingEnabled', 'dynamicScalingEnabled') : undefined,
    given(command.offerHa) ? requireBoolean(command.offerHa, 'offerHa', 'offerHa') : undefined,
    given(command.isVolatile) ? requireBoolean(command.isVolatile, 'isVolatile', 'isVolatile') : undefined,
    requireTimestamp(command.at),
  );
  if (invalid) return invalid;
  const compute = validateCompute(command);
  if (isRejection(compute)) return compute;
  const hostTags = normalizeTags(command.hostTags, 'hostTags');
  if (isRejection(hostTags)) return hostTags;
  const storageTags = normalizeTags(command.storageTags, 'storageTags');
  if (isRejection(storageTags)) return storageTags;
  const lease = validateOfferingLease(command.leaseDuration, command.leaseExpiryAction, command.leaseFeatureEnabled);
  if (isRejection(lease)) return lease;
  if (state.kind !== 'absent') return reject('CONFLICT', `Offering ${command.offeringId} already exists`, 'offeringId');
  return [
    {
      type: 'ServiceOfferingCreated',
      data: {
        offeringId: command.offeringId,
        name: command.name,
        displayText: command.displayText ?? command.name,
        compute,
        hostTags,
        storageTags,
        isVolatile: command.isVolatile ?? false,
        // CloudStack creates offerings with dynamic scaling enabled unless told otherwise.
        dynamicScalingEnabled: command.dynamicScalingEnabled ?? true,
        offerHa: command.offerHa ?? false,
        ...lease,
        created: command.at,
      },
    },
  ];
}

function decideCreateDisk(command: CreateDiskOfferingCommand, state: OfferingState): readonly OfferingEvent[] | Rejection {
  const invalid = firstFailure(
    requireId(command.offeringId, 'offeringId'),
    requireName(command.name, 'name', 'Offering name'),
    optionalText(command.displayText, 'displayText', 'displayText'),
    given(command.customized) ? requireBoolean(command.customized, 'customized', 'customized') : undefined,
    requireTimestamp(command.at),
  );
  if (invalid) return invalid;
  const customized = command.customized ?? !given(command.diskSize);
  if (customized && given(command.diskSize)) {
    return reject('BAD_USER_INPUT', 'A customized disk offering takes its size per volume; do not pass diskSize', 'diskSize');
  }
  if (!customized) {
    if (!given(command.diskSize)) return reject('BAD_USER_INPUT', 'A non-customized disk offering needs diskSize', 'diskSize');
    if (typeof command.diskSize !== 'number' || !Number.isSafeInteger(command.diskSize) || command.diskSize <= 0) {
      return reject('BAD_USER_INPUT', `diskSize must be a positive number of bytes, got ${String(command.diskSize)}`, 'diskSize');
    }
  }
  const storageTags = normalizeTags(command.storageTags, 'tags');
  if (isRejection(storageTags)) return storageTags;
  if (state.kind !== 'absent') return reject('CONFLICT', `Offering ${command.offeringId} already exists`, 'offeringId');
  return [
    {
      type: 'DiskOfferingCreated',
      data: {
        offeringId: command.offeringId,
        name: command.name,
        displayText: command.displayText ?? command.name,
        diskSize: customized ? null : (command.diskSize as number),
        storageTags,
        created: command.at,
      },
    },
  ];
}

export const offeringDecider: Decider<OfferingCommand, OfferingState, OfferingEvent> = {
  initialState: { kind: 'absent' },

  decide(command, state) {
    switch (command.type) {
      case 'CreateServiceOffering':
        return decideCreateService(command, state);
      case 'CreateDiskOffering':
        return decideCreateDisk(command, state);
      case 'DeleteOffering':
        if (state.kind === 'absent') return reject('NOT_FOUND', 'Offering does not exist', 'id');
        // Instances keep referring to a deleted offering; deletion only stops new use of it.
        return state.deleted ? [] : [{ type: 'OfferingDeleted', data: { offeringId: state.offeringId, offeringKind: state.kind } }];
    }
  },

  evolve(state, event) {
    switch (event.type) {
      case 'ServiceOfferingCreated':
        return { kind: 'service', deleted: false, ...event.data };
      case 'DiskOfferingCreated':
        return { kind: 'disk', deleted: false, ...event.data };
      case 'OfferingDeleted':
        return state.kind === 'absent' ? state : { ...state, deleted: true };
    }
  },
};
