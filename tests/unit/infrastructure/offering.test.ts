import { describe, expect, it } from 'vitest';
import {
  GIB,
  offeringDecider,
  offeringStream,
  resolveComputeResources,
  resolveDiskSize,
  validateOfferingLease,
  type ComputeSpec,
  type CreateDiskOfferingCommand,
  type CreateServiceOfferingCommand,
  type OfferingEvent,
  type ServiceOffering,
} from '../../../domain/offering/index.js';
import { isRejection, type Rejection } from '../../../domain/shared/decider.js';
import { given } from '../../support/given.js';

const at = '2025-01-01T00:00:00.000Z';
const createSmall: CreateServiceOfferingCommand = {
  type: 'CreateServiceOffering',
  offeringId: 'so1',
  name: 'Small Instance',
  cpuNumber: 1,
  cpuSpeed: 500,
  memory: 512,
  leaseFeatureEnabled: false,
  at,
};
const smallData: ServiceOffering = {
  offeringId: 'so1',
  name: 'Small Instance',
  displayText: 'Small Instance',
  compute: { kind: 'fixed', cpuNumber: 1, cpuSpeed: 500, memory: 512 },
  hostTags: [],
  storageTags: [],
  isVolatile: false,
  dynamicScalingEnabled: true,
  offerHa: false,
  leaseDuration: null,
  leaseExpiryAction: null,
  created: at,
};
const smallCreated: OfferingEvent = { type: 'ServiceOfferingCreated', data: smallData };
const constrained: CreateServiceOfferingCommand = {
  type: 'CreateServiceOffering',
  offeringId: 'so3',
  name: 'Custom Constrained',
  customized: true,
  cpuSpeed: 1000,
  minCpuNumber: 1,
  maxCpuNumber: 8,
  minMemory: 512,
  maxMemory: 16384,
  leaseFeatureEnabled: false,
  at,
};
const createdWith = (data: Partial<ServiceOffering>): OfferingEvent[] => [{ type: 'ServiceOfferingCreated', data: { ...smallData, ...data } }];

describe('offering', () => {
  it('names its stream offering-<id>', () => {
    expect(offeringStream('so1')).toBe('offering-so1');
  });

  describe('CreateServiceOffering', () => {
    it('creates a fixed offering with CloudStack defaults', () => {
      const state = given(offeringDecider).when(createSmall).then([smallCreated]);
      expect(state).toEqual({ kind: 'service', deleted: false, ...smallData });
    });
    it('keeps host tags, HA, scaling and display text', () => {
      given(offeringDecider)
        .when({ ...createSmall, hostTags: ['ssd', 'ssd', 'gpu'], offerHa: true, dynamicScalingEnabled: false, displayText: 'tiny' })
        .then(createdWith({ hostTags: ['ssd', 'gpu'], offerHa: true, dynamicScalingEnabled: false, displayText: 'tiny' }));
    });
    it('creates a custom constrained offering', () => {
      given(offeringDecider)
        .when(constrained)
        .then([
          {
            type: 'ServiceOfferingCreated',
            data: {
              ...smallData,
              offeringId: 'so3',
              name: 'Custom Constrained',
              displayText: 'Custom Constrained',
              compute: { kind: 'customConstrained', cpuSpeed: 1000, minCpuNumber: 1, maxCpuNumber: 8, minMemory: 512, maxMemory: 16384 },
            },
          },
        ]);
    });
    it('creates custom unconstrained offerings, inferred or explicit, with or without a speed', () => {
      const bare = { type: 'CreateServiceOffering', offeringId: 'so1', name: 'Small Instance', leaseFeatureEnabled: false, at } as const;
      given(offeringDecider).when(bare).then(createdWith({ compute: { kind: 'customUnconstrained', cpuSpeed: null } }));
      given(offeringDecider)
        .when({ ...bare, customized: true, cpuSpeed: 2000 })
        .then(createdWith({ compute: { kind: 'customUnconstrained', cpuSpeed: 2000 } }));
    });
    it('records a lease when the feature is enabled, normalising the action', () => {
      given(offeringDecider)
        .when({ ...createSmall, leaseFeatureEnabled: true, leaseDuration: 30, leaseExpiryAction: 'destroy' })
        .then(createdWith({ leaseDuration: 30, leaseExpiryAction: 'DESTROY' }));
    });
    it('ignores valid lease arguments while the feature is disabled, as CloudStack does', () => {
      given(offeringDecider).when({ ...createSmall, leaseDuration: 30, leaseExpiryAction: 'STOP' }).then([smallCreated]);
      given(offeringDecider).when({ ...createSmall, leaseDuration: 30 }).then([smallCreated]);
    });

    it.each([
      [{ leaseDuration: -5, leaseExpiryAction: 'STOP' }, 'leaseDuration'],
      [{ leaseDuration: -1 }, 'leaseDuration'],
      [{ leaseDuration: 0 }, 'leaseDuration'],
      [{ leaseDuration: 99_999, leaseExpiryAction: 'STOP' }, 'leaseDuration'],
      [{ leaseDuration: 5, leaseExpiryAction: 'UNKNOWN' }, 'leaseExpiryAction'],
    ] as const)('refuses lease values %o while the feature is disabled too', (change, field) => {
      given(offeringDecider).when({ ...createSmall, ...change }).then('BAD_USER_INPUT', { field });
    });
    it.each([
      [{ offeringId: '' }, 'offeringId'],
      [{ name: '' }, 'name'],
      [{ displayText: 5 as unknown as string }, 'displayText'],
      [{ dynamicScalingEnabled: 'yes' as unknown as boolean }, 'dynamicScalingEnabled'],
      [{ offerHa: 1 as unknown as boolean }, 'offerHa'],
      [{ customized: 'no' as unknown as boolean }, 'customized'],
      [{ at: '2025' }, 'at'],
      [{ cpuNumber: 0 }, 'cpuNumber'],
      [{ cpuSpeed: 0 }, 'cpuSpeed'],
      [{ cpuSpeed: null }, 'cpuSpeed'],
      [{ memory: 31 }, 'memory'],
      [{ memory: null, customized: false }, 'memory'],
      [{ cpuNumber: null, customized: false }, 'cpuNumber'],
      [{ minCpuNumber: 1 }, 'minCpuNumber'],
      [{ hostTags: ['a,b'] }, 'hostTags'],
      [{ cpuNumber: 2 ** 31 }, 'cpuNumber'],
    ] as const)('rejects a fixed offering with %o', (change, field) => {
      given(offeringDecider).when({ ...createSmall, ...change } as CreateServiceOfferingCommand).then('BAD_USER_INPUT', { field });
    });
    it.each([
      [{ cpuNumber: 2 }, 'cpuNumber'],
      [{ memory: 1024 }, 'memory'],
      [{ maxMemory: null }, 'maxMemory'],
      [{ minCpuNumber: undefined }, 'minCpuNumber'],
      [{ cpuSpeed: null }, 'cpuSpeed'],
      [{ minCpuNumber: 0 }, 'minCpuNumber'],
      [{ maxCpuNumber: 1.5 }, 'maxCpuNumber'],
      [{ minMemory: 16 }, 'minMemory'],
      [{ maxMemory: -1 }, 'maxMemory'],
      [{ minCpuNumber: 9 }, 'maxCpuNumber'],
      [{ minMemory: 32768 }, 'maxMemory'],
    ] as const)('rejects a custom offering with %o', (change, field) => {
      given(offeringDecider).when({ ...constrained, ...change } as CreateServiceOfferingCommand).then('BAD_USER_INPUT', { field });
    });
    it.each([
      [{ leaseDuration: 30 }, 'leaseExpiryAction'],
      [{ leaseExpiryAction: 'STOP' }, 'leaseDuration'],
      [{ leaseDuration: 0, leaseExpiryAction: 'STOP' }, 'leaseDuration'],
      [{ leaseDuration: 36501, leaseExpiryAction: 'STOP' }, 'leaseDuration'],
      [{ leaseDuration: -1, leaseExpiryAction: 'STOP' }, 'leaseDuration'],
      [{ leaseDuration: 5, leaseExpiryAction: 'UNKNOWN' }, 'leaseExpiryAction'],
    ] as const)('rejects lease %o when the feature is enabled', (change, field) => {
      given(offeringDecider).when({ ...createSmall, leaseFeatureEnabled: true, ...change }).then('BAD_USER_INPUT', { field });
    });
    it('rejects an existing offering id', () => {
      given(offeringDecider, [smallCreated]).when(createSmall).then('CONFLICT', { field: 'offeringId' });
    });
  });

  describe('CreateDiskOffering', () => {
    const createDisk: CreateDiskOfferingCommand = { type: 'CreateDiskOffering', offeringId: 'do1', name: 'Small', diskSize: 5 * GIB, at };
    const diskCreated: OfferingEvent = {
      type: 'DiskOfferingCreated',
      data: { offeringId: 'do1', name: 'Small', displayText: 'Small', diskSize: 5 * GIB, storageTags: [], created: at },
    };
    it('creates fixed and custom disk offerings', () => {
      const state = given(offeringDecider).when(createDisk).then([diskCreated]);
      expect(state.kind).toBe('disk');
      given(offeringDecider)
        .when({ type: 'CreateDiskOffering', offeringId: 'do2', name: 'Custom', customized: true, storageTags: ['ssd'], at })
        .then([{ type: 'DiskOfferingCreated', data: { offeringId: 'do2', name: 'Custom', displayText: 'Custom', diskSize: null, storageTags: ['ssd'], created: at } }]);
    });
    it.each([
      [{ offeringId: '' }, 'offeringId'],
      [{ name: '' }, 'name'],
      [{ at: '' }, 'at'],
      [{ customized: true }, 'diskSize'],
      [{ customized: false, diskSize: null }, 'diskSize'],
      [{ diskSize: 0 }, 'diskSize'],
      [{ diskSize: 1.5 }, 'diskSize'],
      [{ storageTags: [' '] }, 'tags'],
      [{ customized: 'x' as unknown as boolean }, 'customized'],
      [{ displayText: 1 as unknown as string }, 'displayText'],
    ] as const)('rejects %o', (change, field) => {
      given(offeringDecider).when({ ...createDisk, ...change } as CreateDiskOfferingCommand).then('BAD_USER_INPUT', { field });
    });
    it('rejects an existing offering id', () => {
      given(offeringDecider, [smallCreated]).when({ ...createDisk, offeringId: 'so1' }).then('CONFLICT', { field: 'offeringId' });
    });
  });

  describe('DeleteOffering', () => {
    const deleted: OfferingEvent = { type: 'OfferingDeleted', data: { offeringId: 'so1', offeringKind: 'service' } };
    it('deletes once; repeats are no-ops', () => {
      const state = given(offeringDecider, [smallCreated]).when({ type: 'DeleteOffering' }).then([deleted]);
      expect(state.kind === 'service' && state.deleted).toBe(true);
      given(offeringDecider, [smallCreated, deleted]).when({ type: 'DeleteOffering' }).then([]);
    });
    it('rejects a missing offering', () => {
      given(offeringDecider).when({ type: 'DeleteOffering' }).then('NOT_FOUND');
    });
  });
});

describe('validateOfferingLease', () => {
  it('returns no lease when both are absent or blank', () => {
    expect(validateOfferingLease(undefined, '  ', true)).toEqual({ leaseDuration: null, leaseExpiryAction: null });
  });
  it('quotes CloudStack messages', () => {
    expect((validateOfferingLease(5, null, true) as Rejection).message).toBe('Provide values for both: leaseduration and leaseexpiryaction');
    expect((validateOfferingLease(0, 'STOP', true) as Rejection).message).toBe('Invalid leaseduration: must be a natural number (>=1), max supported value is 36500');
  });
});

describe('resolveComputeResources', () => {
  const fixed = { name: 'Small', compute: { kind: 'fixed', cpuNumber: 1, cpuSpeed: 500, memory: 512 } as ComputeSpec };
  const bounded = {
    name: 'Custom Constrained',
    compute: { kind: 'customConstrained', cpuSpeed: 1000, minCpuNumber: 1, maxCpuNumber: 8, minMemory: 512, maxMemory: 16384 } as ComputeSpec,
  };
  const open = { name: 'Custom', compute: { kind: 'customUnconstrained', cpuSpeed: null } as ComputeSpec };
  const openWithSpeed = { name: 'Custom2', compute: { kind: 'customUnconstrained', cpuSpeed: 1500 } as ComputeSpec };
  const fieldOf = (result: unknown) => (isRejection(result) ? [result.code, result.field] : result);

  it('uses a fixed offering as is, tolerating details that repeat it', () => {
    expect(resolveComputeResources(fixed)).toEqual({ cpuNumber: 1, cpuSpeed: 500, memory: 512 });
    expect(resolveComputeResources(fixed, { cpuNumber: '1', memory: 512, rootdisksize: '20' })).toEqual({ cpuNumber: 1, cpuSpeed: 500, memory: 512 });
  });
  it('refuses details that contradict a fixed offering', () => {
    expect(fieldOf(resolveComputeResources(fixed, { cpuNumber: 2 }))).toEqual(['BAD_USER_INPUT', 'details.cpuNumber']);
    expect(fieldOf(resolveComputeResources(fixed, { cpuSpeed: 501 }))).toEqual(['BAD_USER_INPUT', 'details.cpuSpeed']);
    expect(fieldOf(resolveComputeResources(fixed, { memory: '1024' }))).toEqual(['BAD_USER_INPUT', 'details.memory']);
  });
  it('takes cores and memory within bounds and the speed from a constrained offering', () => {
    expect(resolveComputeResources(bounded, { cpuNumber: '8', memory: '512' })).toEqual({ cpuNumber: 8, cpuSpeed: 1000, memory: 512 });
    expect(resolveComputeResources(bounded, { cpuNumber: 1, memory: 16384, cpuSpeed: 1000 })).toEqual({ cpuNumber: 1, cpuSpeed: 1000, memory: 16384 });
  });
  it('refuses constrained values outside the bounds, missing values and a different speed', () => {
    expect(fieldOf(resolveComputeResources(bounded, { cpuNumber: 9, memory: 1024 }))).toEqual(['BAD_USER_INPUT', 'details.cpuNumber']);
    expect((resolveComputeResources(bounded, { cpuNumber: 9, memory: 1024 }) as Rejection).message).toBe('Invalid cpu cores value 9, specify a value between 1 and 8');
    expect(fieldOf(resolveComputeResources(bounded, { cpuNumber: 2, memory: 511 }))).toEqual(['BAD_USER_INPUT', 'details.memory']);
    expect(fieldOf(resolveComputeResources(bounded, { cpuNumber: 2, memory: 16385 }))).toEqual(['BAD_USER_INPUT', 'details.memory']);
    expect(fieldOf(resolveComputeResources(bounded, { memory: 1024 }))).toEqual(['BAD_USER_INPUT', 'details.cpuNumber']);
    expect(fieldOf(resolveComputeResources(bounded, { cpuNumber: 2 }))).toEqual(['BAD_USER_INPUT', 'details.memory']);
    expect(fieldOf(resolveComputeResources(bounded))).toEqual(['BAD_USER_INPUT', 'details.cpuNumber']);
    expect(fieldOf(resolveComputeResources(bounded, { cpuNumber: 2, memory: 1024, cpuSpeed: 2000 }))).toEqual(['BAD_USER_INPUT', 'details.cpuSpeed']);
  });
  it('refuses malformed numbers', () => {
    expect(fieldOf(resolveComputeResources(bounded, { cpuNumber: '2.5', memory: 1024 }))).toEqual(['BAD_USER_INPUT', 'details.cpuNumber']);
    expect(fieldOf(resolveComputeResources(bounded, { cpuNumber: 2, memory: 'lots' }))).toEqual(['BAD_USER_INPUT', 'details.memory']);
    expect(fieldOf(resolveComputeResources(fixed, { cpuSpeed: {} }))).toEqual(['BAD_USER_INPUT', 'details.cpuSpeed']);
  });
  it('requires all three values for an unconstrained offering without a speed', () => {
    expect(resolveComputeResources(open, { cpuNumber: 64, cpuSpeed: 3000, memory: 32 })).toEqual({ cpuNumber: 64, cpuSpeed: 3000, memory: 32 });
    expect(fieldOf(resolveComputeResources(open, { cpuNumber: 2, memory: 1024 }))).toEqual(['BAD_USER_INPUT', 'details.cpuSpeed']);
    expect(fieldOf(resolveComputeResources(open, { cpuNumber: 0, cpuSpeed: 1, memory: 1024 }))).toEqual(['BAD_USER_INPUT', 'details.cpuNumber']);
    expect(fieldOf(resolveComputeResources(open, { cpuNumber: 1, cpuSpeed: 0, memory: 1024 }))).toEqual(['BAD_USER_INPUT', 'details.cpuSpeed']);
    expect(fieldOf(resolveComputeResources(open, { cpuNumber: 1, cpuSpeed: 1, memory: 31 }))).toEqual(['BAD_USER_INPUT', 'details.memory']);
  });
  it('uses the speed of an unconstrained offering that fixes one', () => {
    expect(resolveComputeResources(openWithSpeed, { cpuNumber: 2, memory: 1024 })).toEqual({ cpuNumber: 2, cpuSpeed: 1500, memory: 1024 });
    expect(fieldOf(resolveComputeResources(openWithSpeed, { cpuNumber: 2, memory: 1024, cpuSpeed: 1 }))).toEqual(['BAD_USER_INPUT', 'details.cpuSpeed']);
  });
});

describe('resolveDiskSize', () => {
  it('uses a fixed size and refuses a different one', () => {
    expect(resolveDiskSize({ name: 'Small', diskSize: 5 * GIB }, undefined)).toBe(5 * GIB);
    expect(resolveDiskSize({ name: 'Small', diskSize: 5 * GIB }, 5 * GIB)).toBe(5 * GIB);
    expect((resolveDiskSize({ name: 'Small', diskSize: 5 * GIB }, GIB) as Rejection).field).toBe('size');
  });
  it('requires a custom size within the configured limits', () => {
    const custom = { name: 'Custom', diskSize: null };
    expect(resolveDiskSize(custom, 10 * GIB)).toBe(10 * GIB);
    expect(resolveDiskSize(custom, GIB)).toBe(GIB);
    expect((resolveDiskSize(custom, null) as Rejection).field).toBe('size');
    expect((resolveDiskSize(custom, GIB - 1) as Rejection).code).toBe('BAD_USER_INPUT');
    expect((resolveDiskSize(custom, 1025 * GIB) as Rejection).code).toBe('BAD_USER_INPUT');
    expect(resolveDiskSize(custom, 2000 * GIB, { minGiB: 1, maxGiB: 2000 })).toBe(2000 * GIB);
  });
});
