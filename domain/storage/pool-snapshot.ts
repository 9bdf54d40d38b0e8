// A storage pool's folded state as a snapshot. Its stream takes an event per volume reserved and
// released, so a pool holding the cloud's volumes grows by as many events: a cold load restores this and
// folds only what came after it. The reservations are a persistent map in memory and, as a host's, a
// list here: [volumeId, bytes] pairs.

import { Map as ImmutableMap } from 'immutable';
import { DEFAULT_SNAPSHOT_EVERY, type StateSnapshotting } from '../shared/decider.js';
import type { StoragePool, StoragePoolState } from './pool.js';

type VolumeHold = readonly [volumeId: string, bytes: number];
type StoragePoolJson = { readonly kind: 'absent' } | ({ readonly kind: 'pool'; readonly reservations: readonly VolumeHold[] } & Omit<StoragePool, 'reservations'>);

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isVolumeHold(value: unknown): value is VolumeHold {
  return Array.isArray(value) && value.length === 2 && typeof value[0] === 'string' && Number.isSafeInteger(value[1]) && (value[1] as number) > 0;
}

export const storagePoolSnapshotting: StateSnapshotting<StoragePoolState> = {
  kind: 'storagepool',
  // 1 was the state as it was, reservations a record; 2: reservations a list of [volumeId, bytes].
  version: 2,
  every: DEFAULT_SNAPSHOT_EVERY,

  toJson(state): StoragePoolJson {
    if (state.kind === 'absent') return state;
    return { ...state, reservations: [...state.reservations.entries()] };
  },

  fromJson(json) {
    if (!isRecord(json)) throw new Error('a storagepool snapshot is an object');
    if (json.kind === 'absent') return { kind: 'absent' };
    if (json.kind !== 'pool' || !Array.isArray(json.reservations)) throw new Error('a storagepool snapshot is an absent pool or a pool with its reservations');
    const { reservations, ...pool } = json as Extract<StoragePoolJson, { kind: 'pool' }>;
    const bad = reservations.find((hold) => !isVolumeHold(hold));
    if (bad !== undefined) throw new Error(`a storagepool snapshot's reservations are [volumeId, bytes] pairs, got ${JSON.stringify(bad)}`);
    // usedBytes is derived from the reservations; a snapshot where they disagree was not written by toJson.
    const held = reservations.reduce((sum, [, bytes]) => sum + bytes, 0);
    if (pool.usedBytes !== held) throw new Error(`a storagepool snapshot's usedBytes ${String(pool.usedBytes)} is not the ${held} bytes its reservations hold`);
    return { ...pool, reservations: ImmutableMap(reservations) };
  },
};
