import type { Database } from 'better-sqlite3';
import { configurationEntries, type ConfigState, type ConfigurationEntry } from '../../domain/config/index.js';
import { prepared } from '../sql.js';
import { GLOBAL_SCOPE } from './projection.js';

/** What `effectiveSetting`, `configurationEntries` and `allocationSettings` take: the folded config streams. */
export interface SettingsSnapshot {
  readonly global: ConfigState;
  /** Undefined when no zone was asked for. */
  readonly zone: ConfigState | undefined;
}

function valuesOf(db: Database, scope: string): ConfigState {
  const rows = prepared(db, 'SELECT name, value FROM config_value WHERE scope = ? ORDER BY name').all(scope) as Array<{ name: string; value: string }>;
  return { values: Object.fromEntries(rows.map((row) => [row.name, row.value])) };
}

export function settingsSnapshot(db: Database, zoneId?: string | null): SettingsSnapshot {
  return { global: valuesOf(db, GLOBAL_SCOPE), zone: zoneId == null ? undefined : valuesOf(db, zoneId) };
}

export interface ConfigurationNode extends ConfigurationEntry {
  /**
   * The zone asked for, on keys that can be set per zone (whose value may still come from the global
   * level or the default: see `source`); null on global-only keys and in a global listing.
   */
  readonly zoneId: string | null;
}

export interface ListConfigurationsArgs {
  /** Part of a key's name, case-insensitive, as CloudStack's listConfigurations matches it. */
  readonly name?: string | null;
  /** Effective values in this zone; keys that cannot be set per zone show their global value. */
  readonly zoneId?: string | null;
}

/** Every registered key with its effective value (zone over global over default), in registry order. */
export function listConfigurations(db: Database, args: ListConfigurationsArgs = {}): ConfigurationNode[] {
  const { global, zone } = settingsSnapshot(db, args.zoneId);
  const needle = args.name?.toLowerCase();
  return configurationEntries(global, zone)
    .filter((entry) => needle === undefined || entry.name.toLowerCase().includes(needle))
    .map((entry) => ({ ...entry, zoneId: args.zoneId != null && entry.scopes.includes('zone') ? args.zoneId : null }));
}
