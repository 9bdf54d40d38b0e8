// Configuration overrides. One decider serves two kinds of stream: `config-global` and
// `config-zone-<zoneId>`; the command's zoneId says which one it is decided against. Keeping a zone's
// overrides in their own stream means changing one zone never conflicts with changing another.

import { reject, type Decider, type DomainEvent } from '../shared/decider.js';
import {
  CONFIG_KEYS,
  decodeConfigValue,
  defaultValueString,
  isConfigKey,
  parseConfigValue,
  type ConfigKeyDefinition,
  type ConfigKeyName,
  type ConfigScope,
  type ConfigValue,
} from './registry.js';
import { requireId } from './validation.js';

/** Both kinds of configuration stream begin with it. */
export const CONFIG_STREAM_PREFIX = 'config-';
export const GLOBAL_CONFIG_STREAM = `${CONFIG_STREAM_PREFIX}global`;
export function configStream(zoneId?: string | null): string {
  return zoneId === undefined || zoneId === null ? GLOBAL_CONFIG_STREAM : `${CONFIG_STREAM_PREFIX}zone-${zoneId}`;
}

export interface ConfigState {
  /** Explicitly set values (normalised strings); absent keys fall back to the next scope. */
  readonly values: Readonly<Record<string, string>>;
}

export type ConfigCommand =
  | { readonly type: 'UpdateConfiguration'; readonly name: string; readonly value: string; readonly zoneId?: string | null }
  | { readonly type: 'ResetConfiguration'; readonly name: string; readonly zoneId?: string | null };

export type ConfigEvent =
  | DomainEvent<'ConfigurationUpdated', { readonly name: ConfigKeyName; readonly value: string; readonly zoneId: string | null }>
  | DomainEvent<'ConfigurationReset', { readonly name: ConfigKeyName; readonly zoneId: string | null }>;

function validateTarget(name: string, zoneId: string | null | undefined) {
  if (!isConfigKey(name)) return reject('BAD_USER_INPUT', `Unknown configuration key: ${name}`, 'name');
  const definition: ConfigKeyDefinition = CONFIG_KEYS[name];
  if (zoneId !== undefined && zoneId !== null) {
    const badId = requireId(zoneId, 'zoneId');
    if (badId) return badId;
    if (!definition.scopes.includes('zone')) {
      return reject('BAD_USER_INPUT', `Configuration ${name} can only be set globally, not for zone ${zoneId}`, 'zoneId');
    }
  }
  return { name, definition } as const;
}

export const configurationDecider: Decider<ConfigCommand, ConfigState, ConfigEvent> = {
  initialState: { values: {} },

  decide(command, state) {
    const target = validateTarget(command.name, command.zoneId);
    if ('kind' in target) return target;
    const zoneId = command.zoneId ?? null;
    switch (command.type) {
      case 'UpdateConfiguration': {
        if (typeof command.value !== 'string') return reject('BAD_USER_INPUT', `value for ${target.name} must be a string`, 'value');
        const parsed = parseConfigValue(target.definition, command.value);
        if (!parsed.ok) return reject('BAD_USER_INPUT', `Invalid value "${command.value}" for ${target.name}: ${parsed.reason}`, 'value');
        if (state.values[target.name] === parsed.normalized) return [];
        return [{ type: 'ConfigurationUpdated', data: { name: target.name, value: parsed.normalized, zoneId } }];
      }
      case 'ResetConfiguration':
        if (state.values[target.name] === undefined) return [];
        return [{ type: 'ConfigurationReset', data: { name: target.name, zoneId } }];
    }
  },

  evolve(state, event) {
    switch (event.type) {
      case 'ConfigurationUpdated':
        return { values: { ...state.values, [event.data.name]: event.data.value } };
      case 'ConfigurationReset': {
        const { [event.data.name]: _removed, ...rest } = state.values;
        return { values: rest };
      }
    }
  },
};

/** Zone over global over default. A zone value for a global-only key cannot exist, so it is not consulted. */
export function effectiveSetting<K extends ConfigKeyName>(name: K, globalState: ConfigState, zoneState?: ConfigState): ConfigValue<K> {
  const definition: ConfigKeyDefinition = CONFIG_KEYS[name];
  const zoneValue = definition.scopes.includes('zone') ? zoneState?.values[name] : undefined;
  const stored = zoneValue ?? globalState.values[name] ?? defaultValueString(definition);
  return decodeConfigValue(name, stored);
}

export interface ConfigurationEntry {
  readonly name: ConfigKeyName;
  readonly value: string;
  readonly defaultValue: string;
  readonly type: ConfigKeyDefinition['type'];
  readonly scopes: readonly ConfigScope[];
  /** Where the value came from. */
  readonly source: 'default' | 'global' | 'zone';
  readonly description: string;
}

/** Every key with its effective value, for the `configurations` query and `listConfigurations`-style output. */
export function configurationEntries(globalState: ConfigState, zoneState?: ConfigState): readonly ConfigurationEntry[] {
  return (Object.keys(CONFIG_KEYS) as ConfigKeyName[]).map((name) => {
    const definition: ConfigKeyDefinition = CONFIG_KEYS[name];
    const zoneValue = definition.scopes.includes('zone') ? zoneState?.values[name] : undefined;
    const globalValue = globalState.values[name];
    const defaultValue = defaultValueString(definition);
    const [value, source] =
      zoneValue !== undefined
        ? ([zoneValue, 'zone'] as const)
        : globalValue !== undefined
          ? ([globalValue, 'global'] as const)
          : ([defaultValue, 'default'] as const);
    return { name, value, defaultValue, type: definition.type, scopes: definition.scopes, source, description: definition.description };
  });
}
