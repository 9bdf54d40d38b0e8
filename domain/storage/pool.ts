// Primary storage pool aggregate, stream `storagepool-<poolId>`. Like a host owns CPU and memory, a pool
// owns its bytes: volumes hold reservations here so concurrent volume allocations cannot overfill it.

import { Map as ImmutableMap } from 'immutable';
import { isRejection, reject, type Decider, type DomainEvent, type Rejection } from '../shared/decider.js';
import { firstFailure, normalizeTags, requireId, requireName, requireTimestamp } from '../config/validation.js';
import { isOverprovisioningFactor, storageShortfall } from './capacity.js';
import { storagePoolSnapshotting } from './pool-snapshot.js';

export const STORAGE_POOL_STREAM_PREFIX = 'storagepool-';

export function storagePoolStream(poolId: string): string {
  return `${STORAGE_POOL_STREAM_PREFIX}${poolId}`;
}

export const STORAGE_POOL_TYPES = ['NFS', 'local', 'SharedMountPoint'] as const;
export type StoragePoolType = (typeof STORAGE_POOL_TYPES)[number];
export const STORAGE_POOL_SCOPES = ['ZONE', 'CLUSTER', 'HOST'] as const;
export type StoragePoolScope = (typeof STORAGE_POOL_SCOPES)[number];

export interface StoragePool {
  readonly poolId: string;
  readonly zoneId: string;
  readonly scope: StoragePoolScope;
  readonly clusterId: string | null;
  readonly hostId: string | null;
  readonly name: string;
  readonly type: StoragePoolType;
  /** NFS server address; null for pools mounted on the hosts themselves. */
  readonly server: string | null;
  readonly path: string;
  readonly capacityBytes: number;
  readonly tags: readonly string[];
  readonly created: string;
  // A persistent map, as a host's: a pool holds a reservation per volume, and copying a record of them
  // on every reservation made folding the stream quadratic. Read it through the accessors below.
  /** Volume id → the bytes it holds here. */
  readonly reservations: ImmutableMap<string, number>;
  readonly usedBytes: number;
}

export type StoragePoolState = { readonly kind: 'absent' } | ({ readonly kind: 'pool' } & StoragePool);

/** The bytes `volumeId` holds in this pool, or undefined when it holds none. */
export function bytesHeldBy(pool: Pick<StoragePool, 'reservations'>, volumeId: string): number | undefined {
  return pool.reservations.get(volumeId);
}

/** Ids of the volumes holding space here, in no particular order. */
export function reservedVolumeIds(pool: Pick<StoragePool, 'reservations'>): readonly string[] {
  return [...pool.reservations.keys()];
}

export interface CreateStoragePoolCommand {
  readonly type: 'CreateStoragePool';
  readonly poolId: string;
  readonly zoneId: string;
  readonly scope: StoragePoolScope;
  readonly clusterId?: string | null;
  readonly hostId?: string | null;
  readonly name: string;
  readonly poolType: StoragePoolType;
  readonly server?: string | null;
  readonly path: string;
  readonly capacityBytes: number;
  readonly tags?: readonly string[];
  readonly at: string;
}

export type StoragePoolCommand =
  | CreateStoragePoolCommand
  | {
      readonly type: 'ReserveStorage';
      readonly volumeId: string;
      readonly bytes: number;
      /** `storage.overprovisioning.factor` as configured when asked (1 when absent). */
      readonly overprovisioningFactor?: number;
    }
  | { readonly type: 'ReleaseStorage'; readonly volumeId: string };

export type StoragePoolEvent =
  | DomainEvent<'StoragePoolCreated', Omit<StoragePool, 'reservations' | 'usedBytes'>>
  | DomainEvent<'StoragePoolSpaceReserved', { readonly poolId: string; readonly volumeId: string; readonly bytes: number }>
  | DomainEvent<'StoragePoolSpaceReleased', { readonly poolId: string; readonly volumeId: string; readonly bytes: number }>;

function validateCreate(command: CreateStoragePoolCommand): Omit<StoragePool, 'reservations' | 'usedBytes'> | Rejection {
  const tags = normalizeTags(command.tags, 'tags');
  if (isRejection(tags)) return tags;
  const clusterId = command.clusterId ?? null;
  const hostId = command.hostId ?? null;
  const server = command.server ?? null;
  const invalid = firstFailure(
    requireId(command.poolId, 'poolId'),
    requireId(command.zoneId, 'zoneId'),
    requireName(command.name, 'name', 'Storage pool name'),
    STORAGE_POOL_TYPES.includes(command.poolType)
      ? undefined
      : reject('BAD_USER_INPUT', `type must be one of ${STORAGE_POOL_TYPES.join(', ')}, got ${String(command.poolType)}`, 'type'),
    STORAGE_POOL_SCOPES.includes(command.scope)
      ? undefined
      : reject('BAD_USER_INPUT', `scope must be one of ${STORAGE_POOL_SCOPES.join(', ')}, got ${String(command.scope)}`, 'scope'),
    typeof command.path === 'string' && command.path.startsWith('/') && !/\s/.test(command.path)
      ? undefined
      : reject('BAD_USER_INPUT', `path must be an absolute path without spaces, got ${String(command.path)}`, 'path'),
    typeof command.capacityBytes === 'number' && Number.isSafeInteger(command.capacityBytes) && command.capacityBytes > 0
      ? undefined
      : reject('BAD_USER_INPUT', `capacityBytes must be a positive integer, got ${String(command.capacityBytes)}`, 'capacityBytes'),
    requireTimestamp(command.at),
  );
  if (invalid) return invalid;
  // Scope follows what the storage physically is: local disks belong to one host, shared storage
  // to a cluster or the whole zone.
  const scopeProblem = firstFailure(
    command.scope === 'ZONE' && (clusterId !== null || hostId !== null)
      ? reject('BAD_USER_INPUT', 'A zone-wide pool takes neither clusterId nor hostId', clusterId !== null ? 'clusterId' : 'hostId')
      : undefined,
    command.scope !== 'ZONE' && clusterId === null ? reject('BAD_USER_INPUT', `A ${command.scope}-scoped pool needs a clusterId`, 'clusterId') : undefined,
    clusterId !== null ? requireId(clusterId, 'clusterId') : undefined,
    command.scope === 'HOST' ? (hostId === null ? reject('BAD_USER_INPUT', 'A host-scoped pool needs a hostId', 'hostId') : requireId(hostId, 'hostId')) : undefined,
    command.scope === 'CLUSTER' && hostId !== null ? reject('BAD_USER_INPUT', 'A cluster-wide pool takes no hostId', 'hostId') : undefined,
    command.poolType === 'local' && command.scope !== 'HOST'
      ? reject('BAD_USER_INPUT', 'Local storage is host-scoped; give scope HOST with a hostId', 'scope')
      : undefined,
    command.poolType !== 'local' && command.scope === 'HOST'
      ? reject('BAD_USER_INPUT', `${command.poolType} storage is shared and cannot be host-scoped`, 'scope')
      : undefined,
    command.poolType === 'NFS' && (server === null || !/^[A-Za-z0-9.:\-[\]]+$/.test(server))
      ? reject('BAD_USER_INPUT', `An NFS pool needs the NFS server's address, got ${String(server)}`, 'server')
      : undefined,
    command.poolType !== 'NFS' && server !== null
      ? reject('BAD_USER_INPUT', `A ${command.poolType} pool is mounted on the hosts and takes no server`, 'server')
      : undefined,
  );
  if (scopeProblem) return scopeProblem;
  return {
    poolId: command.poolId,
    zoneId: command.zoneId,
    scope: command.scope,
    clusterId,
    hostId,
    name: command.name,
    type: command.poolType,
    server,
    path: command.path,
    capacityBytes: command.capacityBytes,
    tags,
    created: command.at,
  };
}

export const storagePoolDecider: Decider<StoragePoolCommand, StoragePoolState, StoragePoolEvent> = {
  initialState: { kind: 'absent' },
  // A volume's reservation is an event here: the stream grows with every instance the pool holds.
  snapshot: storagePoolSnapshotting,

  decide(command, state) {
    if (command.type === 'CreateStoragePool') {
      const data = validateCreate(command);
      if (isRejection(data)) return data;
      if (state.kind === 'pool') return reject('CONFLICT', `Storage pool ${command.poolId} already exists`, 'poolId');
      return [{ type: 'StoragePoolCreated', data }];
    }
    if (state.kind !== 'pool') return reject('NOT_FOUND', 'Storage pool does not exist', 'storageId');
    const invalidVolume = requireId(command.volumeId, 'volumeId');
    if (invalidVolume) return invalidVolume;
    const held = bytesHeldBy(state, command.volumeId);
    switch (command.type) {
      case 'ReserveStorage': {
        if (typeof command.bytes !== 'number' || !Number.isSafeInteger(command.bytes) || command.bytes <= 0) {
          return reject('BAD_USER_INPUT', `size must be a positive number of bytes, got ${String(command.bytes)}`, 'size');
        }
        const factor = command.overprovisioningFactor ?? 1;
        if (!isOverprovisioningFactor(factor)) {
          return reject('BAD_USER_INPUT', `storage.overprovisioning.factor must be a number of at least 1, got ${String(factor)}`, 'storage.overprovisioning.factor');
        }
        if (held === command.bytes) return [];
        // A volume that grows is checked for its new size against what the others hold.
        const shortfall = storageShortfall(state, state.usedBytes - (held ?? 0), command.bytes, factor);
        if (shortfall !== undefined) return reject('INSUFFICIENT_CAPACITY', `Storage pool ${state.name} ${shortfall} for volume ${command.volumeId}`);
        return [{ type: 'StoragePoolSpaceReserved', data: { poolId: state.poolId, volumeId: command.volumeId, bytes: command.bytes } }];
      }
      case 'ReleaseStorage':
        return held === undefined ? [] : [{ type: 'StoragePoolSpaceReleased', data: { poolId: state.poolId, volumeId: command.volumeId, bytes: held } }];
    }
  },

  evolve(state, event) {
    if (event.type === 'StoragePoolCreated') return { kind: 'pool', ...event.data, reservations: ImmutableMap(), usedBytes: 0 };
    if (state.kind !== 'pool') return state;
    const held = bytesHeldBy(state, event.data.volumeId) ?? 0;
    switch (event.type) {
      case 'StoragePoolSpaceReserved':
        return {
          ...state,
          reservations: state.reservations.set(event.data.volumeId, event.data.bytes),
          usedBytes: state.usedBytes - held + event.data.bytes,
        };
      case 'StoragePoolSpaceReleased':
        return { ...state, reservations: state.reservations.delete(event.data.volumeId), usedBytes: state.usedBytes - held };
    }
  },
};

/** Whether a pool carries every storage tag a disk offering asks for. */
export function poolHasTags(pool: Pick<StoragePool, 'tags'>, required: readonly string[]): boolean {
  return required.every((tag) => pool.tags.includes(tag));
}
