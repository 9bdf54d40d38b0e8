// deployVirtualMachine: resolves the zone, offering, template, owner and networks, checks the command
// against the aggregate's rules before anything is appended, then claims the name, opens the job,
// allocates the NICs' addresses and records the instance, or compensates what it claimed.
import { v5 as uuidv5 } from 'uuid';
import { EVENT_ID_NAMESPACE } from '../../../adapters/eventstore/command-handler.js';
import { isInDomainSubtree, mayActFor } from '../../../domain/account/index.js';
import { instanceDecider, instanceStream, type InstanceCommand, type Nic } from '../../../domain/instance/index.js';
import { jobDecider, jobStream } from '../../../domain/job/index.js';
import { isRejection } from '../../../domain/shared/decider.js';
import { findAccountByName, getAccount } from '../../../projections/accounts/index.js';
import { defaultNetworkFor, getNetwork, getZone, storagePoolSnapshot } from '../../../projections/infrastructure/index.js';
import { largestPossibleVolume } from '../../../domain/allocation/index.js';
import { overprovisioningFactor } from '../../../sagas/volume-storage.js';
import { abandonDeployment } from '../../../sagas/deploy-compensation.js';
import { db, envelopeOf, execute, now, setting, settled, jobErrorOf, type ControlPlaneContext } from '../context.js';
import { findJob } from '../jobs.js';
import { claimNicAddress } from './addresses.js';
import { claimInstanceName } from './names.js';
import { resolveAffinityGroups } from '../affinity.js';
import { ApiError, type Caller, type DeployArgs, type JobView } from '../port.js';
import {
  checkPlacement,
  customCompute,
  instanceCaller,
  mayUse,
  offeringSnapshot,
  otherDetails,
  ownerOf,
  requireOffering,
  requireTemplate,
  templateSnapshot,
  type Owner,
} from './resolve.js';

const GiB = 1024 ** 3;

/**
 * vmledger keeps no SSH key pairs yet, so any one a deployment names is unknown: refused, as CloudStack
 * refuses an unknown one, rather than stored and silently meaning nothing.
 */
function refuseUnknownReferences(args: DeployArgs): void {
  const keyPair = args.keyPairs?.[0];
  if (keyPair !== undefined) throw new ApiError('BAD_USER_INPUT', `Unable to find SSH key pair ${JSON.stringify(keyPair)}`, 'keyPairs');
}

export async function deployVirtualMachine(context: ControlPlaneContext, caller: Caller, args: DeployArgs): Promise<JobView> {
  const zone = getZone(db(context), args.zoneId);
  if (!zone) throw new ApiError('BAD_USER_INPUT', `Unable to find zone ${JSON.stringify(args.zoneId)}`, 'zoneId');
  const offering = requireOffering(context, args.serviceOfferingId, 'serviceOfferingId');
  const owner = deployOwner(context, caller, args);
  const template = requireTemplate(context, [caller, owner], args.templateId, 'templateId', zone.id);
  checkPlacement(context, caller, zone.id, args.hostId ?? null, args.clusterId ?? null);
  refuseUnknownReferences(args);
  const affinityGroupIds = resolveAffinityGroups(context, caller, owner.accountId, args.affinityGroupIds, args.affinityGroupNames);

  // A client token names the deployment: a retry with the same token finds the first job.
  const tokenKey = args.clientToken ? `${owner.accountId}|${args.clientToken}` : undefined;
  const instanceId = tokenKey ? uuidv5(`instance|${tokenKey}`, EVENT_ID_NAMESPACE) : context.newId();
  const jobId = tokenKey ? uuidv5(`deploy-job|${tokenKey}`, EVENT_ID_NAMESPACE) : context.newId();
  if (tokenKey) {
    const existing = findJob(context, caller, jobId);
    if (existing) return existing;
  }

  const networks = deployNetworks(context, caller, owner.accountId, args, zone.id);
  const rootSize = rootDiskSize(args.details, setting(context, 'storage.max.volume.size')) ?? template.size;
  refuseUnstorable(context, zone.id, rootSize, offering.storageTags, args.details?.rootdisksize !== undefined ? 'details.rootdisksize' : 'templateId');
  const at = now(context);
  const nics: Nic[] = networks.map((network, deviceId) => ({
    id: uuidv5(`nic|${instanceId}|${deviceId}`, EVENT_ID_NAMESPACE),
    networkId: network.id,
    networkOfferingId: network.networkOfferingId,
    macAddress: '',
    ipAddress: null,
    isDefault: deviceId === 0,
    deviceId,
    vlan: network.vlan,
  }));
  const command: InstanceCommand = {
    type: 'DeployInstance',
    instanceId,
    at,
    caller: instanceCaller(caller),
    jobId,
    name: args.name ?? null,
    displayName: args.displayName ?? null,
    instanceName: internalName(context, owner.accountId, instanceId, args.name ?? null),
    group: args.group ?? null,
    accountId: owner.accountId,
    domainId: owner.domainId,
    zoneId: zone.id,
    hypervisorType: template.hypervisor,
    serviceOffering: offeringSnapshot(offering),
    ...(customCompute(args.details) ? { customCompute: customCompute(args.details)! } : {}),
    template: templateSnapshot(template),
    rootVolume: {
      id: uuidv5(`volume|${instanceId}|root`, EVENT_ID_NAMESPACE),
      name: `ROOT-${instanceId.slice(0, 8)}`,
      // A root disk smaller than the template is the decider's to refuse, not to round up silently.
      size: rootSize,
      // Stored on a pool when it first starts, one the host it starts on reaches (sagas/volume-storage.ts).
      storagePoolId: null,
      diskOfferingId: null,
    },
    dataVolumes: [],
    nics,
    startVm: args.startVm ?? true,
    hostId: args.hostId ?? null,
    clusterId: args.clusterId ?? null,
    affinityGroupIds,
    userData: args.userData ?? null,
    ...(otherDetails(args.details) ? { details: otherDetails(args.details)! } : {}),
    leaseDuration: args.leaseDuration ?? null,
    leaseExpiryAction: args.leaseExpiryAction ?? null,
    offeringLease: { duration: offering.leaseDuration, expiryAction: offering.leaseExpiryAction },
    leaseFeatureEnabled: setting(context, 'instance.lease.enabled'),
  };
  // Every rule of the aggregate is checked before anything is appended.
  const dryRun = instanceDecider.decide(command, instanceDecider.initialState);
  if (isRejection(dryRun)) throw new ApiError(dryRun.code, dryRun.message, dryRun.field);
  const deployed = dryRun.find((e) => e.type === 'InstanceDeployed');
  const name = deployed?.type === 'InstanceDeployed' ? deployed.data.name : instanceId;

  const envelope = envelopeOf(context, caller, jobId);
  await claimInstanceName(context, { accountId: owner.accountId, instanceId, name }, envelope);
  // The job names the addresses before they are claimed: whatever happens next, the deployment's
  // compensation knows what to give back. The job and the addresses live in different streams: one
  // group commit can take them all.
  const claims = nics.map((nic) => ({ networkId: nic.networkId, nicId: nic.id }));
  const opening = execute(context, jobStream(jobId), jobDecider, { type: 'OpenJob', jobId, cmd: 'deployVirtualMachine', instanceId, accountId: owner.accountId, at, claims }, envelope);
  const allocations = nics.map(async (nic): Promise<Nic> => {
    const address = await claimNicAddress(context, { networkId: nic.networkId, nicId: nic.id, instanceId, macSeed: Math.floor(context.random() * 2 ** 32) }, envelope);
    return { ...nic, macAddress: address.mac, ipAddress: address.ip };
  });
  const [[openedOutcome], outcomes] = await Promise.all([Promise.allSettled([opening]), Promise.allSettled(allocations)]);
  const allocated = outcomes.filter((o): o is PromiseFulfilledResult<Nic> => o.status === 'fulfilled').map((o) => o.value);
  try {
    if (openedOutcome!.status === 'rejected') throw openedOutcome!.reason;
    const opened = openedOutcome!.value;
    const refused = outcomes.find((o): o is PromiseRejectedResult => o.status === 'rejected');
    if (refused) throw refused.reason;
    // With a client token, identical deployments racing each other record one instance: the key
    // makes the loser find the winner's events instead of being refused as a second instance.
    const recordEnvelope = tokenKey ? envelopeOf(context, caller, jobId, `deploy|${tokenKey}`) : envelope;
    const result = await execute(context, instanceStream(instanceId), instanceDecider, { ...command, nics: allocated }, recordEnvelope);
    if (result.state.exists) await context.leases.arm(result.state);
    void context.runner.advance(jobId);
    await settled(context, [...opened.positions, ...result.positions]);
  } catch (error) {
    // The deployment did not record its instance: its compensation gives back what it took and
    // closes its job, unless a racing twin (same client token) recorded the instance meanwhile.
    const jobError = jobErrorOf(error);
    const outcome = await abandonDeployment(context.commander, { instanceId, accountId: owner.accountId, name, jobId, nics: claims }, jobError, envelope);
    await settled(context, [await context.store.headPosition()]);
    if (outcome === 'recorded') void context.runner.advance(jobId);
  }
  const job = findJob(context, caller, jobId);
  if (!job) throw new ApiError('INTERNAL_ERROR', `job ${jobId} was opened but cannot be read back`);
  return job;
}

/**
 * The hypervisor's name for the instance: i-<account>-<instance>-<suffix>, the suffix being
 * `instance.name`, or the instance's own name when `vm.instancename.flag` asks for it.
 */
export function internalName(context: ControlPlaneContext, accountId: string, instanceId: string, name: string | null): string {
  const suffix = setting(context, 'vm.instancename.flag') && name ? name : setting(context, 'instance.name');
  return `i-${accountId}-${instanceId}-${suffix}`;
}

/**
 * The `rootdisksize` detail in bytes. CloudStack bounds every volume by `storage.max.volume.size`
 * (VolumeApiService.validateVolumeSizeInBytes); without it a 10^17 GiB disk would be accepted here
 * and only fail on the host, after the job had waited for an agent that could not read the command.
 */
function rootDiskSize(details: Readonly<Record<string, string>> | null | undefined, maxGiB: number): number | undefined {
  const text = details?.rootdisksize;
  if (text === undefined) return undefined;
  const gib = Number(text);
  const field = 'details.rootdisksize';
  if (!Number.isInteger(gib) || gib <= 0) throw new ApiError('BAD_USER_INPUT', `details.rootdisksize must be a positive number of GiB, got ${JSON.stringify(text)}`, field);
  const bytes = gib * GiB;
  if (gib > maxGiB || !Number.isSafeInteger(bytes)) {
    throw new ApiError('BAD_USER_INPUT', `details.rootdisksize ${JSON.stringify(text)} GiB is larger than the maximum volume size, ${maxGiB} GiB (storage.max.volume.size)`, field);
  }
  return bytes;
}

/**
 * A root volume larger than any pool of the zone could hold, even empty, would only fail its start
 * (CloudStack: no suitable storage pool); refused before anything is appended. A zone without primary
 * storage places no volumes and refuses nothing here.
 */
function refuseUnstorable(context: ControlPlaneContext, zoneId: string, bytes: number, storageTags: readonly string[], field: string): void {
  const pools = storagePoolSnapshot(db(context), zoneId);
  if (pools.length === 0) return;
  const largest = largestPossibleVolume(pools, storageTags, overprovisioningFactor(db(context), zoneId));
  if (bytes <= largest) return;
  const tags = storageTags.length > 0 ? ` with storage tags [${storageTags.join(', ')}]` : '';
  throw new ApiError(
    'INSUFFICIENT_CAPACITY',
    largest === 0
      ? `No storage pool in zone ${zoneId} carries the storage tags [${storageTags.join(', ')}] of the service offering`
      : `A root volume of ${bytes} bytes (${field}) is larger than any storage pool${tags} in zone ${zoneId} can hold: at most ${largest} bytes`,
    field,
  );
}

/**
 * The account the instance will belong to: the caller's, or the one named by account/domainId, which
 * a user may name only when it is its own and an admin only when it may act for it.
 */
export function deployOwner(
  context: ControlPlaneContext,
  caller: Caller,
  args: Pick<DeployArgs, 'account' | 'domainId'>,
  action = 'deploy',
): Owner {
  // domainId only says where to find the account named in account: alone it would be ignored.
  if (!args.account && args.domainId != null) throw new ApiError('BAD_USER_INPUT', 'domainId names the domain of the account given in account; give account too', 'domainId');
  if (!args.account) return caller;
  const domainId = args.domainId ?? caller.domainId;
  const found = findAccountByName(db(context), args.account, domainId) ?? getAccount(db(context), args.account);
  const account = found !== undefined && (args.domainId == null || found.domainId === args.domainId) ? found : undefined;
  // Naming oneself is no privilege (CloudStack resolves a caller's own account for any role).
  if (account?.id === caller.accountId) return caller;
  // A user hears the same whether the account exists or not.
  if (caller.role === 'USER') throw new ApiError('FORBIDDEN', `Only admins may ${action} for another account`, 'account');
  // An account outside the caller's reach is as unknown to it as one that does not exist: telling
  // them apart would let a domain admin probe other domains' account names and ids.
  if (!account || (caller.role !== 'ROOT_ADMIN' && !isInDomainSubtree(caller.domainPath, account.domainPath))) {
    throw new ApiError('BAD_USER_INPUT', `Unable to find account ${JSON.stringify(args.account)} in domain ${domainId}`, 'account');
  }
  // One it can see but may not act for: a root admin's, to a domain admin.
  if (!mayActFor(caller, ownerOf(account))) throw new ApiError('FORBIDDEN', `A ${caller.role} may not ${action} for the root admin account ${account.name}`, 'account');
  return ownerOf(account);
}

/** The networks of a deployment for `ownerAccountId`: those named, or the zone's default for the owner. */
function deployNetworks(context: ControlPlaneContext, caller: Caller, ownerAccountId: string, args: DeployArgs, zoneId: string) {
  if (args.networkIds && args.networkIds.length > 0) {
    return args.networkIds.map((id, i) => {
      const network = getNetwork(db(context), id);
      // Another account's network is as unknown to the caller as one that does not exist; and, as
      // CloudStack's network permission check, the instance's owner must be able to use it too.
      const usable = network && network.zoneId === zoneId && mayUse(context, caller, network.accountId) && (network.accountId === null || network.accountId === ownerAccountId);
      if (!usable) throw new ApiError('BAD_USER_INPUT', `Unable to find network ${JSON.stringify(id)} in zone ${zoneId}`, `networkIds[${i}]`);
      return network;
    });
  }
  // CloudStack picks the zone's default network when none is named; here: the oldest the owner may use.
  const network = defaultNetworkFor(db(context), zoneId, ownerAccountId);
  if (!network) throw new ApiError('BAD_USER_INPUT', `Zone ${zoneId} has no network this account may use; name one in networkIds`, 'networkIds');
  return [network];
}
