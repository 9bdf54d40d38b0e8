// The single definition of "fits in this pool", shared by the pool aggregate (which enforces it when a
// reservation is appended) and the pool choice (which predicts it), as domain/host/capacity.ts is for
// hosts: if the two disagreed, placement could keep choosing a pool whose stream then refuses.
import type { StoragePoolType } from './pool.js';

export interface PoolCapacity {
  readonly type: StoragePoolType;
  readonly capacityBytes: number;
}

/**
 * What a pool may hand out: CloudStack multiplies the size of thin-provisioned NFS pools by
 * `storage.overprovisioning.factor` (CapacityManagerImpl, StorageManagerImpl.checkPoolforSpace); other
 * pool types hold their real size.
 */
export function overprovisionedBytes(pool: PoolCapacity, factor: number): number {
  return pool.type === 'NFS' ? Math.floor(pool.capacityBytes * factor) : pool.capacityBytes;
}

/** Why `bytes` more do not fit in a pool that has `allocatedBytes` handed out, or undefined when they do. */
export function storageShortfall(pool: PoolCapacity, allocatedBytes: number, bytes: number, factor: number): string | undefined {
  const total = overprovisionedBytes(pool, factor);
  const free = total - allocatedBytes;
  if (bytes <= free) return undefined;
  const over = total === pool.capacityBytes ? '' : ` (${pool.capacityBytes} × overprovisioning factor ${factor})`;
  return `has ${Math.max(0, free)} of ${total} bytes${over} free, ${bytes} needed`;
}

/** A usable `storage.overprovisioning.factor` value. */
export function isOverprovisioningFactor(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value) && value >= 1;
}
