// A deployment claims the instance's name (its own stream) before it opens its job. A process killed
// in between leaves a name (and perhaps addresses) that no job describes, so no saga will ever undo
// it. This finds such claims once they are older than a grace period and hands them to the
// deployment's compensation, which closes the instance's stream first: a deployment still under way
// (in another API process, say) then fails cleanly instead of recording an instance whose claims
// were given back. The grace only spares such a deployment that needless failure.
import type { Database } from 'better-sqlite3';
import type { Clock } from '../adapters/clock/port.js';
import type { CommandEnvelope } from '../adapters/eventstore/command-handler.js';
import type { Commander } from '../adapters/eventstore/commander.js';
import type { NicClaim } from '../domain/job/index.js';
import { orphanedAddresses, orphanedNames, pendingJobOfInstance } from '../projections/jobs/queries.js';
import { abandonDeployment, INTERRUPTED } from './deploy-compensation.js';

export const CLAIM_GRACE_MS = 2 * 60_000;

export interface OrphanedClaimOptions {
  readonly commander: Commander;
  readonly clock: Clock;
  readonly readModel: () => Database;
}

const ACTOR: CommandEnvelope['actor'] = { kind: 'system', component: 'orphaned-claims' };

/** Gives back the names and addresses claimed before `now - CLAIM_GRACE_MS` for instances that do not exist. */
export async function releaseOrphanedClaims(options: OrphanedClaimOptions): Promise<{ names: number; addresses: number }> {
  const db = options.readModel();
  const now = options.clock.now();
  const before = new Date(now.getTime() - CLAIM_GRACE_MS).toISOString();
  type Nic = NicClaim & { addresses: string[] };
  const deployments = new Map<string, { accountId: string | null; name: string | null; nics: Nic[] }>();
  const of = (instanceId: string) => {
    let entry = deployments.get(instanceId);
    if (!entry) deployments.set(instanceId, (entry = { accountId: null, name: null, nics: [] }));
    return entry;
  };
  for (const claim of orphanedNames(db, before)) Object.assign(of(claim.instanceId), { accountId: claim.accountId, name: claim.name });
  // An address is claimed before its NIC is recorded: a NIC the process died before recording is
  // known by its claims alone, and gives them back by name.
  for (const claim of orphanedAddresses(db, before)) {
    const nics = of(claim.instanceId).nics;
    let nic = nics.find((n) => n.networkId === claim.networkId && n.nicId === claim.nicId);
    if (!nic) nics.push((nic = { networkId: claim.networkId, nicId: claim.nicId, addresses: [] }));
    nic.addresses.push(claim.address);
  }

  const released = { names: 0, addresses: 0 };
  const at = now.toISOString();
  for (const [instanceId, claims] of deployments) {
    const envelope: CommandEnvelope = { actor: ACTOR, correlationId: instanceId, occurredAt: at };
    const deployment = { instanceId, accountId: claims.accountId, name: claims.name, jobId: pendingJobOfInstance(db, instanceId) ?? null, nics: claims.nics };
    if ((await abandonDeployment(options.commander, deployment, INTERRUPTED, envelope)) === 'recorded') continue;
    if (claims.accountId) released.names++;
    released.addresses += claims.nics.length;
  }
  return released;
}
