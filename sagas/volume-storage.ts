// The runner's storage work, beside its host work: which pools a start's volumes can go to on each
// host the planner offers, reserving them on the pools' streams and recording where the volumes went,
// and, when a job finishes, putting the volumes' pool reservations right (as `finish` does for hosts).
import type { Database } from 'better-sqlite3';
import { CommandRejectedError, unlessRefused, type CommandEnvelope } from '../adapters/eventstore/command-handler.js';
import type { Commander } from '../adapters/eventstore/commander.js';
import {
  firstHostWithStorage,
  type HostCandidate,
  type PoolCandidate,
  type PoolChoiceRequest,
  type VolumePlacement,
} from '../domain/allocation/index.js';
import { effectiveSetting } from '../domain/config/configuration.js';
import type { Instance } from '../domain/instance/index.js';
import { isRejection } from '../domain/shared/decider.js';
import { storagePoolDecider, storagePoolStream } from '../domain/storage/index.js';
import { settingsSnapshot } from '../projections/configuration/index.js';
import { storagePoolSnapshot, volumeReservations } from '../projections/infrastructure/index.js';
import type { VolumeHoldings } from './workflows/workflow.js';

/** `storage.overprovisioning.factor` for the zone. */
export function overprovisioningFactor(db: Database, zoneId: string): number {
  const settings = settingsSnapshot(db, zoneId);
  return effectiveSetting('storage.overprovisioning.factor', settings.global, settings.zone);
}

/**
 * What the instance's live volumes ask of storage, with the zone's pools; undefined in a zone without
 * primary storage, where volumes stay without a pool as before pools took part in placement.
 */
export function storageRequest(db: Database, instance: Instance): { request: PoolChoiceRequest; pools: PoolCandidate[] } | undefined {
  const volumes = instance.volumes.filter((v) => v.state !== 'Destroy' && v.state !== 'Expunged');
  const pools = storagePoolSnapshot(db, instance.zoneId, volumes.map((v) => v.id));
  if (pools.length === 0) return undefined;
  return {
    pools,
    request: {
      volumes: volumes.map((v) => ({ volumeId: v.id, name: v.name, size: v.size, storagePoolId: v.storagePoolId })),
      storageTags: instance.serviceOffering.storageTags ?? [],
      overprovisioningFactor: overprovisioningFactor(db, instance.zoneId),
    },
  };
}

/**
 * Of the hosts the planner offers, in its order, the first whose reachable pools hold the volumes; or
 * why none does. Every host when the zone has no primary storage.
 */
export function hostWithStorage(db: Database, instance: Instance, hostIds: readonly string[], hosts: readonly HostCandidate[]): string | { reason: string } {
  const storage = storageRequest(db, instance);
  if (!storage) return hostIds[0] as string;
  const byId = new Map(hosts.map((h) => [h.hostId, h]));
  const offered = hostIds.flatMap((id) => {
    const host = byId.get(id);
    return host ? [{ hostId: host.hostId, name: host.name, clusterId: host.clusterId }] : [];
  });
  const found = firstHostWithStorage(offered, storage.request, storage.pools);
  return isRejection(found) ? { reason: found.message } : found.host.hostId;
}

export type PlacementOutcome =
  /** Every volume has its pool already, or the zone has no pools: nothing to do. */
  | { readonly kind: 'none' }
  /** Volumes without a pool were reserved on pools the host reaches; record these placements. */
  | { readonly kind: 'placed'; readonly placements: readonly VolumePlacement[] }
  | { readonly kind: 'refused'; readonly reason: string };

/**
 * Reserves pools on `host` for the volumes that have none. A pool that refuses (another deployment
 * took the space first) gives back what this call reserved before it and refuses the host.
 */
export async function reserveVolumes(
  commander: Commander,
  db: Database,
  instance: Instance,
  host: { readonly hostId: string; readonly name: string; readonly clusterId: string },
  envelope: CommandEnvelope,
): Promise<PlacementOutcome> {
  if (instance.volumes.every((v) => v.storagePoolId !== null || v.state === 'Destroy' || v.state === 'Expunged')) return { kind: 'none' };
  const storage = storageRequest(db, instance);
  if (!storage) return { kind: 'none' };
  const found = firstHostWithStorage([host], storage.request, storage.pools);
  if (isRejection(found)) return { kind: 'refused', reason: found.message };
  const fresh = found.placements.filter((p) => instance.volumes.find((v) => v.id === p.volumeId)?.storagePoolId === null);
  const done: VolumePlacement[] = [];
  for (const placement of fresh) {
    try {
      await commander.execute(
        storagePoolStream(placement.poolId),
        storagePoolDecider,
        { type: 'ReserveStorage', volumeId: placement.volumeId, bytes: placement.bytes, overprovisioningFactor: storage.request.overprovisioningFactor },
        envelope,
      );
      done.push(placement);
    } catch (error) {
      if (!(error instanceof CommandRejectedError)) throw error;
      for (const given of done) {
        await commander.execute(storagePoolStream(given.poolId), storagePoolDecider, { type: 'ReleaseStorage', volumeId: given.volumeId }, envelope);
      }
      return { kind: 'refused', reason: error.message };
    }
  }
  return { kind: 'placed', placements: done };
}

/**
 * Reserves space on pools for volumes (idempotent per volume and pool). Resolves the first refusal's
 * reason, or undefined; what was reserved before a refusal is given back when the job finishes.
 */
export async function reserveStorage(
  commander: Commander,
  db: Database,
  zoneId: string,
  holds: readonly { readonly poolId: string; readonly volumeId: string; readonly bytes: number }[],
  envelope: CommandEnvelope,
): Promise<string | undefined> {
  const factor = overprovisioningFactor(db, zoneId);
  for (const hold of holds) {
    try {
      await commander.execute(storagePoolStream(hold.poolId), storagePoolDecider, { type: 'ReserveStorage', volumeId: hold.volumeId, bytes: hold.bytes, overprovisioningFactor: factor }, envelope);
    } catch (error) {
      if (!(error instanceof CommandRejectedError)) throw error;
      return error.message;
    }
  }
  return undefined;
}

/**
 * Makes the pools' books say what the instance's volumes hold: each held volume reserved on its pool
 * (kept whatever the pool's free space says: the volume is there), every other reservation of the
 * instance's volumes given back. The read model only spares commands that would change nothing: one
 * it has not caught up with is still sent, and a reservation it does not show yet is given back by a
 * later job.
 */
export async function reconcileVolumes(commander: Commander, db: Database, zoneId: string, holdings: VolumeHoldings, envelope: CommandEnvelope): Promise<void> {
  if (holdings.ids.length === 0) return;
  const held = volumeReservations(db, holdings.ids);
  const wanted = new Set(holdings.hold.map((h) => `${h.poolId}|${h.volumeId}`));
  for (const row of held) {
    if (!wanted.has(`${row.poolId}|${row.volumeId}`)) {
      await commander.execute(storagePoolStream(row.poolId), storagePoolDecider, { type: 'ReleaseStorage', volumeId: row.volumeId }, envelope);
    }
  }
  const factor = overprovisioningFactor(db, zoneId);
  for (const hold of holdings.hold) {
    if (held.some((row) => row.poolId === hold.poolId && row.volumeId === hold.volumeId && row.bytes === hold.bytes)) continue;
    await unlessRefused(
      commander.execute(storagePoolStream(hold.poolId), storagePoolDecider, { type: 'ReserveStorage', volumeId: hold.volumeId, bytes: hold.bytes, overprovisioningFactor: factor }, envelope),
    );
  }
}
