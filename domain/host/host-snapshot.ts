// A host's folded state as a snapshot. Its stream takes a reservation on every start and a release on
// every stop, so a busy host's stream grows by tens of thousands of events: a cold load restores this
// and folds only what came after it. The reservations are a persistent map in memory and a list here.

import { Map as ImmutableMap } from 'immutable';
import { DEFAULT_SNAPSHOT_EVERY, type StateSnapshotting } from '../shared/decider.js';
import type { Host, HostAggregateState, Reservation } from './host.js';

type HostJson = { readonly kind: 'absent' } | ({ readonly kind: 'host'; readonly reservations: readonly Reservation[] } & Omit<Host, 'reservations'>);

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export const hostSnapshotting: StateSnapshotting<HostAggregateState> = {
  kind: 'host',
  // 1: the host's fields as they are, its reservations as a list of Reservation.
  version: 1,
  every: DEFAULT_SNAPSHOT_EVERY,

  toJson(state): HostJson {
    if (state.kind === 'absent') return state;
    return { ...state, reservations: [...state.reservations.values()] };
  },

  fromJson(json) {
    if (!isRecord(json)) throw new Error('a host snapshot is an object');
    if (json.kind === 'absent') return { kind: 'absent' };
    if (json.kind !== 'host' || !Array.isArray(json.reservations)) throw new Error('a host snapshot is an absent host or a host with its reservations');
    const { reservations, ...host } = json as Extract<HostJson, { kind: 'host' }>;
    return { ...host, reservations: ImmutableMap(reservations.map((reservation) => [reservation.instanceId, reservation] as const)) };
  },
};
