// The CloudStack configuration keys vmledger honours. Values are stored as CloudStack stores them (a
// normalised string per key) so that `configurations` can show exactly what an operator set, and are
// decoded to typed values only when read through `effectiveSetting`.
import { INSTANCE_NAME_SETTING } from '../shared/instance-name.js';

export type ConfigScope = 'global' | 'zone';

export const VM_ALLOCATION_ALGORITHMS = [
  'random',
  'firstfit',
  'userdispersing',
  'firstfitleastconsumed',
  'userconcentratedpod_random',
  'userconcentratedpod_firstfit',
] as const;
export type VmAllocationAlgorithm = (typeof VM_ALLOCATION_ALGORITHMS)[number];

export const HOST_CAPACITY_TYPES = ['CPU', 'RAM', 'COMBINED'] as const;
export type HostCapacityType = (typeof HOST_CAPACITY_TYPES)[number];

interface KeyBase {
  readonly scopes: readonly ConfigScope[];
  readonly description: string;
}
export type ConfigKeyDefinition =
  | (KeyBase & { readonly type: 'boolean'; readonly default: boolean })
  | (KeyBase & { readonly type: 'integer'; readonly default: number; readonly min: number; readonly max: number; readonly unit?: string })
  | (KeyBase & { readonly type: 'float'; readonly default: number; readonly min: number; readonly max: number })
  | (KeyBase & { readonly type: 'select'; readonly default: string; readonly options: readonly string[] })
  | (KeyBase & { readonly type: 'list'; readonly default: readonly string[] })
  | (KeyBase & { readonly type: 'string'; readonly default: string; readonly pattern: RegExp; readonly rule: string })
  /** An IANA time-zone name, stored in its canonical spelling. */
  | (KeyBase & { readonly type: 'timezone'; readonly default: string });

const INT_MAX = 2_147_483_647;

export const CONFIG_KEYS = {
  'vm.allocation.algorithm': {
    type: 'select',
    options: VM_ALLOCATION_ALGORITHMS,
    default: 'random',
    scopes: ['global'],
    description:
      "Order in which hosts are tried: 'random', 'firstfit', 'userdispersing', 'firstfitleastconsumed', 'userconcentratedpod_random', 'userconcentratedpod_firstfit'",
  },
  // Seconds, whatever the name says (CloudStack's CapacityManager key, default 3600): how long a stopped
  // instance still counts on its last host — for non-strict affinity priorities (behaviour §6.3).
  'capacity.skipcounting.hours': {
    type: 'integer',
    default: 3600,
    min: 0,
    max: INT_MAX,
    unit: 'seconds',
    scopes: ['global', 'zone'],
    description: "Time (in seconds) to wait before release VM's cpu and memory when VM in stopped state",
  },
  'allow.user.expunge.recover.vm': {
    type: 'boolean',
    default: false,
    scopes: ['global'],
    description: 'Determines whether users can expunge or recover their instances',
  },
  'unmanage.vm.preserve.nics': {
    type: 'boolean',
    default: false,
    scopes: ['global', 'zone'],
    description: 'If set to True, do not remove VM nics (and its MAC addresses) when unmanaging a VM, leaving them allocated but not reserved. If set to False, nics are removed and MAC addresses can be reassigned',
  },
  // Minutes (behaviour §4.1): how long the copy of each disk of an external host's VM may take. CloudStack
  // takes a value <= 0 as its default; vmledger refuses one (both timeouts are validated positive).
  'remote.kvm.instance.disks.copy.timeout': {
    type: 'integer',
    default: 30,
    min: 1,
    max: 100_000,
    unit: 'minutes',
    scopes: ['global'],
    description: 'Timeout (in mins) to prepare and copy the disks of remote KVM instance while importing the instance from an external host',
  },
  // Hours (behaviour §4.1): how long a VMware guest's conversion (virt-v2v) may take on its host.
  'convert.vmware.instance.to.kvm.timeout': {
    type: 'integer',
    default: 3,
    min: 1,
    max: 100_000,
    unit: 'hours',
    scopes: ['global'],
    description: 'Timeout (in hours) for the VM conversion (virt-v2v) from VMware to KVM',
  },
  // Behaviour §4.7 checkExtraParamsAllowed: extraParams reach virt-v2v only when allowed, and each listed.
  'convert.vmware.instance.to.kvm.extra.params.allowed': {
    type: 'boolean',
    default: false,
    scopes: ['global'],
    description: 'Disabled by default. If enabled, allows extra parameters to be passed to the virt-v2v binary on KVM conversion',
  },
  'convert.vmware.instance.to.kvm.extra.params.allowed.list': {
    type: 'list',
    default: [],
    scopes: ['global'],
    description: 'Comma separated list of allowed extra parameters to be passed to the virt-v2v binary on KVM conversion',
  },
  'enable.dynamic.scale.vm': {
    type: 'boolean',
    default: false,
    scopes: ['global', 'zone'],
    description: 'Enables/Disables dynamically scaling a running instance (CPU and memory)',
  },
  'vmsnapshot.max': {
    type: 'integer',
    default: 10,
    min: 0,
    max: INT_MAX,
    scopes: ['global'],
    description: 'Maximum vm snapshots for a single vm',
  },
  'expunge.delay': {
    type: 'integer',
    default: 86400,
    min: 0,
    max: INT_MAX,
    unit: 'seconds',
    scopes: ['global'],
    description: 'Determines how long (in seconds) to wait before actually expunging a destroyed instance',
  },
  'expunge.interval': {
    type: 'integer',
    default: 86400,
    min: 1,
    max: INT_MAX,
    unit: 'seconds',
    scopes: ['global'],
    description: 'The interval (in seconds) to wait before running the expunge thread',
  },
  'ping.interval': {
    type: 'integer',
    default: 60,
    min: 1,
    max: INT_MAX,
    unit: 'seconds',
    scopes: ['global'],
    description: 'Interval (in seconds) at which the management server checks that the agents of hosts are alive',
  },
  'ping.timeout': {
    type: 'float',
    default: 2.5,
    min: 1,
    max: 1000,
    scopes: ['global'],
    description: 'Multiplier of ping.interval: a host whose agent has not been heard of for that long is Disconnected',
  },
  'user.vm.denied.details': {
    type: 'list',
    default: ['rootdisksize', 'cpuOvercommitRatio', 'memoryOvercommitRatio', 'Message.ReservedCapacityFreed.Flag'],
    scopes: ['global'],
    description: 'Instance details hidden from users (comma-separated)',
  },
  'user.vm.readonly.details': {
    type: 'list',
    default: ['dataDiskController', 'rootDiskController'],
    scopes: ['global'],
    description: 'Instance details users may see but not change (comma-separated)',
  },
  'vm.instancename.flag': {
    type: 'boolean',
    default: false,
    scopes: ['global'],
    description: 'Append the user-provided name to the internal name of the instance (i-<account>-<vm>-<name>)',
  },
  'instance.name': {
    type: 'string',
    default: 'VM',
    // The value becomes part of i-<acct>-<vm>-<i.n>, whose parts are split on '-', and of hypervisor
    // domain names, which agents accept only in this form (domain/shared/instance-name.ts). Stricter
    // than CloudStack's NetUtils.verifyInstanceName, which refuses only hyphen, space and plus sign.
    pattern: INSTANCE_NAME_SETTING,
    rule: "must be 1-64 letters, digits, '_' or '.'",
    scopes: ['global'],
    description: 'Name of the deployment instance, used as suffix of internal instance names',
  },
  'vm.destroy.forcestop': {
    type: 'boolean',
    default: false,
    scopes: ['global'],
    description: 'On destroy, force-stop the instance instead of a graceful stop',
  },
  'host.capacityType.to.order.clusters': {
    type: 'select',
    options: HOST_CAPACITY_TYPES,
    default: 'CPU',
    scopes: ['global'],
    description: "The host capacity type (CPU, RAM or COMBINED) used to order hosts for 'firstfitleastconsumed'",
  },
  'host.capacityType.to.order.clusters.cputomemoryweight': {
    type: 'float',
    default: 0.5,
    min: 0,
    max: 1,
    scopes: ['global'],
    description: 'Weight of CPU against memory when host.capacityType.to.order.clusters is COMBINED (0..1)',
  },
  'custom.diskoffering.size.min': {
    type: 'integer',
    default: 1,
    min: 1,
    max: INT_MAX,
    unit: 'GiB',
    scopes: ['global'],
    description: 'Minimum size in GiB of a volume created from a custom-sized disk offering',
  },
  'custom.diskoffering.size.max': {
    type: 'integer',
    default: 1024,
    min: 1,
    max: INT_MAX,
    unit: 'GiB',
    scopes: ['global'],
    description: 'Maximum size in GiB of a volume created from a custom-sized disk offering',
  },
  'storage.max.volume.size': {
    type: 'integer',
    default: 2000,
    min: 1,
    // 2^23 GiB is 2^53 bytes: any size this allows is still an exact (safe) integer count of bytes.
    max: 8_388_607,
    unit: 'GiB',
    scopes: ['global'],
    description: 'The maximum size for a volume (in GB)',
  },
  'storage.overprovisioning.factor': {
    type: 'float',
    default: 2,
    min: 1,
    max: 1000,
    scopes: ['global', 'zone'],
    description: 'Used for storage overprovisioning calculation; available storage will be (actualStorageSize * storage.overprovisioning.factor)',
  },
  'instance.lease.enabled': {
    type: 'boolean',
    default: false,
    scopes: ['global'],
    description:
      'Indicates whether to enable the Instance lease, will be applicable only on instances created after lease is enabled. Disabling the feature cancels lease on existing instances with lease. Re-enabling feature will not cause lease expiry actions on grandfathered instances',
  },
  'instance.lease.scheduler.interval': {
    type: 'integer',
    default: 3600,
    min: 1,
    max: INT_MAX,
    unit: 'seconds',
    scopes: ['global'],
    description: 'VM Lease Scheduler interval in seconds',
  },
  'instance.lease.eventscheduler.interval': {
    type: 'integer',
    default: 86400,
    min: 1,
    max: INT_MAX,
    unit: 'seconds',
    scopes: ['global'],
    description: 'Lease expiry event Scheduler interval in seconds',
  },
  'instance.lease.expiryevent.daysbefore': {
    type: 'integer',
    default: 7,
    min: 1,
    max: INT_MAX,
    scopes: ['global'],
    description: 'Indicates how many days in advance, expiry events will be created before expiry.',
  },
  'usage.timezone': {
    type: 'timezone',
    default: 'UTC',
    scopes: ['global'],
    description: 'The time zone whose midnights split usage records into days (an IANA name such as UTC or Europe/Paris)',
  },
} as const satisfies Readonly<Record<string, ConfigKeyDefinition>>;

export type ConfigKeyName = keyof typeof CONFIG_KEYS;

type ValueOfDefinition<D> = D extends { readonly type: 'boolean' }
  ? boolean
  : D extends { readonly type: 'integer' | 'float' }
    ? number
    : D extends { readonly type: 'select'; readonly options: readonly (infer O)[] }
      ? O
      : D extends { readonly type: 'list' }
        ? readonly string[]
        : string;

/** The decoded type of a key, e.g. `ConfigValue<'expunge.delay'>` is `number`. */
export type ConfigValue<K extends ConfigKeyName> = ValueOfDefinition<(typeof CONFIG_KEYS)[K]>;

export function isConfigKey(name: string): name is ConfigKeyName {
  return Object.prototype.hasOwnProperty.call(CONFIG_KEYS, name);
}

export function configKeyDefinition(name: ConfigKeyName): ConfigKeyDefinition {
  return CONFIG_KEYS[name];
}

/** The default as the normalised string that would be stored for it. */
export function defaultValueString(definition: ConfigKeyDefinition): string {
  switch (definition.type) {
    case 'boolean':
    case 'integer':
    case 'float':
      return String(definition.default);
    case 'list':
      return definition.default.join(',');
    case 'select':
    case 'string':
    case 'timezone':
      return definition.default;
  }
}

export type ParsedValue = { readonly ok: true; readonly normalized: string } | { readonly ok: false; readonly reason: string };

/** Validates a raw value for a key and returns the normalised string that will be stored. */
export function parseConfigValue(definition: ConfigKeyDefinition, raw: string): ParsedValue {
  const value = raw.trim();
  switch (definition.type) {
    case 'boolean': {
      const lower = value.toLowerCase();
      return lower === 'true' || lower === 'false' ? { ok: true, normalized: lower } : { ok: false, reason: "must be 'true' or 'false'" };
    }
    case 'integer': {
      if (!/^[+-]?\d+$/.test(value)) return { ok: false, reason: 'must be an integer' };
      const n = Number(value);
      if (!Number.isSafeInteger(n) || n < definition.min || n > definition.max) {
        return { ok: false, reason: `must be between ${definition.min} and ${definition.max}` };
      }
      return { ok: true, normalized: String(n) };
    }
    case 'float': {
      if (!/^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/.test(value)) return { ok: false, reason: 'must be a number' };
      const n = Number(value);
      if (!Number.isFinite(n) || n < definition.min || n > definition.max) {
        return { ok: false, reason: `must be between ${definition.min} and ${definition.max}` };
      }
      return { ok: true, normalized: String(n) };
    }
    case 'select': {
      // CloudStack matches select values case-insensitively but stores the canonical option.
      const option = definition.options.find((o) => o.toLowerCase() === value.toLowerCase());
      return option === undefined ? { ok: false, reason: `must be one of ${definition.options.join(', ')}` } : { ok: true, normalized: option };
    }
    case 'list': {
      const items = value === '' ? [] : value.split(',').map((item) => item.trim());
      if (items.some((item) => item === '')) return { ok: false, reason: 'must be a comma-separated list without empty items' };
      return { ok: true, normalized: [...new Set(items)].join(',') };
    }
    case 'string':
      return definition.pattern.test(value) ? { ok: true, normalized: value } : { ok: false, reason: definition.rule };
    case 'timezone': {
      const zone = canonicalTimeZone(value);
      return zone === undefined ? { ok: false, reason: 'must be an IANA time zone name such as UTC or Europe/Paris' } : { ok: true, normalized: zone };
    }
  }
}

/** Decodes a stored (already validated) string. */
export function decodeConfigValue<K extends ConfigKeyName>(name: K, stored: string): ConfigValue<K> {
  const definition: ConfigKeyDefinition = CONFIG_KEYS[name];
  switch (definition.type) {
    case 'boolean':
      return (stored === 'true') as ConfigValue<K>;
    case 'integer':
    case 'float':
      return Number(stored) as ConfigValue<K>;
    case 'list':
      return (stored === '' ? [] : stored.split(',')) as unknown as ConfigValue<K>;
    case 'select':
    case 'string':
    case 'timezone':
      return stored as ConfigValue<K>;
  }
}

/**
 * The name as the time-zone database spells it, or undefined when the runtime does not know the zone.
 * An alias keeps the operator's spelling (Asia/Kolkata, not ICU's Asia/Calcutta); only its case is fixed.
 */
function canonicalTimeZone(name: string): string | undefined {
  // Offsets such as +01:00 are accepted by Intl but are not zones: they have no daylight-saving rules.
  if (!/^[A-Za-z][A-Za-z0-9_+\-/]*$/.test(name)) return undefined;
  let resolved: string;
  try {
    resolved = new Intl.DateTimeFormat('en-US', { timeZone: name }).resolvedOptions().timeZone;
  } catch {
    return undefined;
  }
  return resolved.toLowerCase() === name.toLowerCase() ? resolved : name;
}
