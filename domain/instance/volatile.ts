// Volatile root disks (CloudStack's `isvolatile` offerings, "Reset Instance to New Root Disk on
// Reboot"): every reboot and every start gives the instance a new root volume, a fresh copy of its
// template, and the old one is deleted (VOLUME.DELETE and VOLUME.CREATE usage), so nothing the guest
// wrote survives. The first start of a root never written to resets nothing.
import { v5 as uuidv5 } from 'uuid';
import type { Volume } from './model.js';
import { rootVolumeOf, type Instance } from './state.js';

/** Names the fresh roots: a pure function of the instance and the job, so a repeated decision names the same volume. */
const VOLATILE_ROOT_NAMESPACE = '8b0f6f2e-4a1d-5c3e-9f7a-1d2c3b4a5e6f';

/** The root volume a start or reboot by `jobId` replaces the instance's with, or undefined when it keeps its root. */
export function freshVolatileRoot(instance: Instance, jobId: string): Volume | undefined {
  if (instance.serviceOffering.isVolatile !== true) return undefined;
  const root = rootVolumeOf(instance);
  if (!root || root.state !== 'Ready') return undefined;
  const id = uuidv5(`volatile-root|${instance.id}|${jobId}`, VOLATILE_ROOT_NAMESPACE);
  return {
    ...root,
    id,
    name: `ROOT-${instance.id.slice(0, 8)}-${id.slice(0, 8)}`,
    templateId: instance.template.id,
    // Created from the template when the instance starts again, on the pool the old root was on.
    state: 'Allocated',
    deleteProtection: false,
  };
}
