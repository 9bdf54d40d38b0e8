// Service (compute) and disk offerings.
import { LEASE_EXPIRY_ACTIONS, offeringDecider, offeringStream } from '../../../domain/offering/index.js';
import {
  getDiskOffering,
  getServiceOffering,
  listDiskOfferings,
  listServiceOfferings,
  type DiskOfferingNode,
  type ServiceOfferingNode,
} from '../../../projections/infrastructure/index.js';
import type { Connection, PageRequest } from '../../../projections/pagination.js';
import { optionalBoolean, optionalEnum, optionalNumber, optionalString, optionalStringList, requiredString } from '../args.js';
import { db, envelopeOf, guarded, now, requireRootAdmin, setting, type ControlPlaneContext } from '../context.js';
import type { Caller } from '../port.js';
import { badInput, created, page, type Args } from './shared.js';

const GiB = 1024 ** 3;

export async function createServiceOffering(context: ControlPlaneContext, caller: Caller, args: Args): Promise<ServiceOfferingNode> {
  requireRootAdmin(caller, 'createServiceOffering');
  const name = requiredString(args, 'name');
  const hostTags = optionalStringList(args, 'hostTags');
  const storageTags = optionalStringList(args, 'storageTags');
  const leaseExpiryAction = optionalEnum(args, 'leaseExpiryAction', LEASE_EXPIRY_ACTIONS) ?? null;
  const offeringId = context.newId();
  return created(context, offeringStream(offeringId), offeringDecider, {
    type: 'CreateServiceOffering',
    offeringId,
    name,
    displayText: optionalString(args, 'displayText') ?? null,
    cpuNumber: optionalNumber(args, 'cpuNumber') ?? null,
    cpuSpeed: optionalNumber(args, 'cpuSpeed') ?? null,
    memory: optionalNumber(args, 'memory') ?? null,
    customized: optionalBoolean(args, 'customized') ?? null,
    minCpuNumber: optionalNumber(args, 'minCpuNumber') ?? null,
    maxCpuNumber: optionalNumber(args, 'maxCpuNumber') ?? null,
    minMemory: optionalNumber(args, 'minMemory') ?? null,
    maxMemory: optionalNumber(args, 'maxMemory') ?? null,
    ...(hostTags ? { hostTags } : {}),
    ...(storageTags ? { storageTags } : {}),
    isVolatile: optionalBoolean(args, 'isVolatile') ?? null,
    dynamicScalingEnabled: optionalBoolean(args, 'dynamicScalingEnabled') ?? null,
    offerHa: optionalBoolean(args, 'offerHa') ?? null,
    leaseDuration: optionalNumber(args, 'leaseDuration') ?? null,
    leaseExpiryAction,
    leaseFeatureEnabled: setting(context, 'instance.lease.enabled'),
    at: now(context),
  }, envelopeOf(context, caller, offeringId), () => getServiceOffering(db(context), offeringId), 'service offering', offeringId);
}

/** `diskSize` is in GiB, as CloudStack's `disksize`; the offering keeps and shows bytes. */
export async function createDiskOffering(context: ControlPlaneContext, caller: Caller, args: Args): Promise<DiskOfferingNode> {
  requireRootAdmin(caller, 'createDiskOffering');
  const name = requiredString(args, 'name');
  const diskSizeGiB = optionalNumber(args, 'diskSize') ?? null;
  if (diskSizeGiB !== null && (!Number.isInteger(diskSizeGiB) || diskSizeGiB <= 0)) {
    badInput('diskSize', `diskSize must be a positive whole number of GiB, got ${diskSizeGiB}`);
  }
  const storageTags = optionalStringList(args, 'storageTags');
  const offeringId = context.newId();
  return created(context, offeringStream(offeringId), offeringDecider, {
    type: 'CreateDiskOffering',
    offeringId,
    name,
    displayText: optionalString(args, 'displayText') ?? null,
    diskSize: diskSizeGiB === null ? null : diskSizeGiB * GiB,
    customized: optionalBoolean(args, 'customized') ?? null,
    ...(storageTags ? { storageTags } : {}),
    at: now(context),
  }, envelopeOf(context, caller, offeringId), () => getDiskOffering(db(context), offeringId), 'disk offering', offeringId);
}

export function serviceOfferings(context: ControlPlaneContext, _caller: Caller, args: PageRequest): Connection<ServiceOfferingNode> {
  return guarded(() => listServiceOfferings(db(context), page(args)));
}

export function diskOfferings(context: ControlPlaneContext, _caller: Caller, args: PageRequest): Connection<DiskOfferingNode> {
  return guarded(() => listDiskOfferings(db(context), page(args)));
}
