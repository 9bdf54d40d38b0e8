// Resolving an instance operation's arguments against the read model: the instance acted on, the
// offering, the template and the placement named, the owner an instance belongs to and what it may
// use; and the custom compute a `details` map carries. Each refusal names its argument.
import { mayActFor } from '../../../domain/account/index.js';
import type { CustomCompute, Instance, InstanceCaller, ServiceOfferingSnapshot, TemplateSnapshot } from '../../../domain/instance/index.js';
import { getAccount, type AccountNode } from '../../../projections/accounts/index.js';
import {
  getCluster,
  getHost,
  getServiceOffering,
  getTemplate,
  type ServiceOfferingNode,
  type TemplateNode,
} from '../../../projections/infrastructure/index.js';
import { findInstance } from '../../../projections/instances/queries.js';
import { db, visibilityOf, type ControlPlaneContext } from '../context.js';
import { ApiError, type Caller } from '../port.js';

export function instanceCaller(caller: Caller): InstanceCaller {
  return { role: caller.role, accountId: caller.accountId };
}

/**
 * The instance the caller acts on: NOT_FOUND if it may not see it (or it is expunged), as for one that
 * does not exist; FORBIDDEN if it sees it but may not act for its owner (a domain admin and the root
 * admin's instance).
 */
export function requireInstance(context: ControlPlaneContext, caller: Caller, id: string, field = 'id'): Instance {
  const instance = findInstance(db(context), visibilityOf(context, caller), id);
  if (!instance || instance.expunged) throw new ApiError('NOT_FOUND', `Unable to find a virtual machine with id ${JSON.stringify(id)}`, field);
  if (!mayActFor(caller, ownerOfInstance(context, instance))) {
    throw new ApiError('FORBIDDEN', `Virtual machine ${instance.id} belongs to a root admin; a ${caller.role} may not act on it`, field);
  }
  return instance;
}

export function offeringSnapshot(node: ServiceOfferingNode): ServiceOfferingSnapshot {
  return {
    id: node.id,
    name: node.name,
    cpuNumber: node.cpuNumber,
    cpuSpeed: node.cpuSpeed,
    memory: node.memory,
    customized: node.customized,
    minCpuNumber: node.minCpuNumber,
    maxCpuNumber: node.maxCpuNumber,
    minMemory: node.minMemory,
    maxMemory: node.maxMemory,
    dynamicScalingEnabled: node.dynamicScalingEnabled,
    hostTags: node.hostTags,
    offerHa: node.offerHa,
    storageTags: node.storageTags,
    isVolatile: node.isVolatile,
  };
}

export function templateSnapshot(node: TemplateNode): TemplateSnapshot {
  // An instance carries its OS type by id; a template registered before the catalogue has only its name.
  return { id: node.id, size: node.size, osTypeId: node.osTypeId ?? node.osTypeName, dynamicallyScalable: node.isDynamicallyScalable };
}

export function requireOffering(context: ControlPlaneContext, id: string, field: string): ServiceOfferingNode {
  const node = getServiceOffering(db(context), id);
  if (!node) throw new ApiError('BAD_USER_INPUT', `Unable to find service offering ${JSON.stringify(id)}`, field);
  return node;
}

/**
 * The account an instance belongs to, with what it may use: the caller itself, or the account an
 * admin deploys for. Resources are checked against it as well as against the caller, as CloudStack
 * checks them against the VM's owner.
 */
export type Owner = Pick<Caller, 'accountId' | 'role' | 'domainId' | 'domainPath'>;

export function ownerOf(account: AccountNode): Owner {
  return { accountId: account.id, role: account.role, domainId: account.domainId, domainPath: account.domainPath };
}

export function ownerOfInstance(context: ControlPlaneContext, instance: Instance): Owner {
  const account = getAccount(db(context), instance.accountId);
  // Every instance's account is in the read model; were it not, the owner may use only what is shared.
  return account ? ownerOf(account) : { accountId: instance.accountId, role: 'USER', domainId: instance.domainId, domainPath: '' };
}

/**
 * A template the caller and the instance's owner may both use in the zone: public or theirs,
 * registered there or for every zone.
 */
export function requireTemplate(context: ControlPlaneContext, parties: readonly Owner[], id: string, field: string, zoneId: string): TemplateNode {
  const node = getTemplate(db(context), id);
  // A private template is its owner's (and the root admin's), as the templates list shows.
  const usableBy = (party: Owner) => node !== undefined && (node.isPublic || party.role === 'ROOT_ADMIN' || (node.accountId !== null && mayUse(context, party, node.accountId)));
  if (!node || !parties.every(usableBy)) {
    throw new ApiError('BAD_USER_INPUT', `Unable to find template ${JSON.stringify(id)}`, field);
  }
  if (node.zoneId !== null && node.zoneId !== zoneId) {
    throw new ApiError('BAD_USER_INPUT', `Template ${node.name} (${node.id}) is not available in zone ${zoneId}`, field);
  }
  return node;
}

/**
 * The root admin's placement of a start: a host of the zone, a cluster of the zone, and the host
 * within the cluster when both are named. Checked before anything is appended, so a wrong id is a
 * refused request rather than a job that fails. Only the root admin may place (the decider refuses
 * anyone else): only it learns whether a host or cluster exists.
 */
export function checkPlacement(context: ControlPlaneContext, caller: Caller, zoneId: string, hostId: string | null, clusterId: string | null): void {
  if (caller.role !== 'ROOT_ADMIN') return;
  const host = hostId === null ? undefined : getHost(db(context), hostId);
  if (hostId !== null && (!host || host.zoneId !== zoneId)) throw new ApiError('BAD_USER_INPUT', `Unable to find host ${JSON.stringify(hostId)} in zone ${zoneId}`, 'hostId');
  if (clusterId === null) return;
  const cluster = getCluster(db(context), clusterId);
  if (!cluster || cluster.zoneId !== zoneId) throw new ApiError('BAD_USER_INPUT', `Unable to find cluster ${JSON.stringify(clusterId)} in zone ${zoneId}`, 'clusterId');
  if (host && host.clusterId !== cluster.id) throw new ApiError('BAD_USER_INPUT', `Host ${host.name} is not in cluster ${cluster.name}`, 'hostId');
}

/** Whether the caller (or an instance's owner) may use a resource owned by this account (null: shared by all). */
export function mayUse(context: ControlPlaneContext, caller: Owner, ownerAccountId: string | null): boolean {
  if (ownerAccountId === null || caller.role === 'ROOT_ADMIN' || ownerAccountId === caller.accountId) return true;
  const owner = getAccount(db(context), ownerAccountId);
  return owner !== undefined && mayActFor(caller, ownerOf(owner));
}

/** A new offering's details carry only its custom compute values; another key would be dropped unseen. */
export function checkScaleDetails(details: Readonly<Record<string, string>> | null | undefined): void {
  const other = Object.keys(details ?? {}).find((key) => !COMPUTE_DETAILS.has(key));
  if (other !== undefined) throw new ApiError('BAD_USER_INPUT', `details for a service offering change take cpuNumber, cpuSpeed and memory only, not ${JSON.stringify(other)}`, `details.${other}`);
}

/** CloudStack's `details` carry the custom compute values: cpuNumber, cpuSpeed, memory. */
export function customCompute(details: Readonly<Record<string, string>> | null | undefined): CustomCompute | undefined {
  if (!details) return undefined;
  const read = (key: string): number | undefined => {
    const text = details[key];
    if (text === undefined) return undefined;
    const value = Number(text);
    if (!Number.isInteger(value)) throw new ApiError('BAD_USER_INPUT', `details.${key} must be a whole number, got ${JSON.stringify(text)}`, `details.${key}`);
    return value;
  };
  const compute = { cpuNumber: read('cpuNumber'), cpuSpeed: read('cpuSpeed'), memory: read('memory') };
  const defined = Object.fromEntries(Object.entries(compute).filter(([, v]) => v !== undefined)) as CustomCompute;
  return Object.keys(defined).length === 0 ? undefined : defined;
}

const COMPUTE_DETAILS = new Set(['cpuNumber', 'cpuSpeed', 'memory']);
export function otherDetails(details: Readonly<Record<string, string>> | null | undefined): Record<string, string> | undefined {
  if (!details) return undefined;
  return Object.fromEntries(Object.entries(details).filter(([key]) => !COMPUTE_DETAILS.has(key)));
}
