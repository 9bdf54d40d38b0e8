// What an import would make (issue 16 item 6, importVmPreview): the instance, each of its source's
// disks with the volume it becomes, each NIC with its network, MAC and address. Every source's
// planner fills one of these as it applies its rules (import-sources.ts), so the preview shows what
// the import would record, as far as the rules got; the import itself records the command the same
// planning built.
import type { InstanceCommand } from '../../../domain/instance/index.js';
import type { ImportProblem } from './import-checks.js';
import type { ImportSource } from './import-external.js';
import type { PlannedNic } from './import.js';
import type { Owner } from './resolve.js';


export interface ImportPlanInstanceView {
  readonly name: string;
  readonly instanceName: string | null;
  readonly displayName: string;
  readonly hostName: string | null;
  readonly accountId: string | null;
  readonly domainId: string | null;
  readonly serviceOfferingId: string;
  readonly templateId: string | null;
  readonly cpuNumber: number | null;
  readonly cpuSpeed: number | null;
  readonly memory: number | null;
  readonly state: 'Running' | 'Stopped' | null;
  readonly zoneId: string;
  readonly clusterId: string | null;
  readonly hostId: string | null;
}

export interface ImportPlanDiskView {
  readonly id: string;
  readonly type: 'ROOT' | 'DATADISK' | null;
  readonly sourcePath: string | null;
  readonly sourceFormat: string | null;
  readonly size: number | null;
  readonly controller: string | null;
  readonly storagePoolId: string | null;
  readonly diskOfferingId: string | null;
  readonly copied: boolean;
}

export interface ImportPlanNicView {
  readonly id: string;
  readonly networkId: string | null;
  readonly macAddress: string | null;
  readonly ipAddress: string | null;
  readonly isDefault: boolean;
}

/** A VMware conversion's choices (behaviour §4.7 steps 1, 2, 4): null for the other sources. */
export interface ImportPlanConversionView {
  readonly sourceHost: string | null;
  readonly vmxPath: string | null;
  readonly convertInstanceHostId: string | null;
  readonly importInstanceHostId: string | null;
  readonly temporaryStoragePoolId: string | null;
  readonly temporaryPath: string | null;
}

export interface ImportVmPreviewView {
  readonly importSource: ImportSource;
  readonly ok: boolean;
  readonly instance: ImportPlanInstanceView | null;
  readonly disks: readonly ImportPlanDiskView[];
  readonly nics: readonly ImportPlanNicView[];
  readonly conversion: ImportPlanConversionView | null;
  readonly problems: readonly ImportProblem[];
}

/** What the rules have found so far: filled in as they pass. */
export interface ImportDraft {
  instance: ImportPlanInstanceView | null;
  disks: ImportPlanDiskView[];
  nics: ImportPlanNicView[];
  conversion: ImportPlanConversionView | null;
}

export const emptyDraft = (): ImportDraft => ({ instance: null, disks: [], nics: [], conversion: null });

/** An import every rule has passed: what it records. */
export interface PlannedImport {
  readonly owner: Owner;
  readonly command: Extract<InstanceCommand, { type: 'ImportInstance' }>;
  readonly nics: readonly PlannedNic[];
}

export interface PlanOutcome {
  /** Undefined when a rule failed (a preview; an import has thrown by then). */
  readonly planned: PlannedImport | undefined;
  readonly draft: ImportDraft;
}

/** The NICs as the planner resolved them (the domain's own MAC unless a new one is due). */
export function nicViews(nics: readonly PlannedNic[]): ImportPlanNicView[] {
  return nics.map((planned) => ({
    id: String(planned.nic.deviceId),
    networkId: planned.nic.networkId,
    macAddress: planned.requestedMac,
    ipAddress: planned.requestedIp,
    isDefault: planned.nic.isDefault,
  }));
}

/** The volumes an import records for its source's disks, the pool left null while no pool was found. */
export interface PlannedVolumes {
  readonly rootVolume: { readonly size: number; readonly storagePoolId: string | null; readonly diskOfferingId: string | null };
  readonly dataVolumes: ReadonlyArray<{ readonly size: number; readonly storagePoolId: string | null; readonly diskOfferingId: string | null }>;
  readonly diskPositions: readonly number[];
}

/**
 * The draft's disks with the volumes planned for them: which is the root, their pool and offering.
 * A planner applies it as soon as the disk mapping has passed, so a preview stopped by another rule
 * (a NIC's network, say) still shows the disks as the import would place them.
 */
export function withVolumes(disks: readonly ImportPlanDiskView[], planned: PlannedVolumes): ImportPlanDiskView[] {
  const volumes = [planned.rootVolume, ...planned.dataVolumes];
  return disks.map((disk, position) => {
    const index = planned.diskPositions.indexOf(position);
    const volume = volumes[index];
    if (volume === undefined) return disk;
    return { ...disk, type: index === 0 ? 'ROOT' : 'DATADISK', size: volume.size, storagePoolId: volume.storagePoolId, diskOfferingId: volume.diskOfferingId };
  });
}
