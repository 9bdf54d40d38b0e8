// A deployment claims the instance's name (account stream) and its NICs' addresses (network streams)
// before it records the instance. A process killed in between leaves claims that no instance will
// ever use: the name stays taken and the addresses stay allocated. This gives them back once they
// are older than a grace period, long enough that a deployment still under way (in another API
// process, say) is never robbed.
import type { Database } from 'better-sqlite3';
import type { Clock } from '../adapters/clock/port.js';
import { unlessRefused, type CommandEnvelope } from '../adapters/eventstore/command-handler.js';
import type { Commander } from '../adapters/eventstore/commander.js';
import { accountDecider, accountStream } from '../domain/account/index.js';
import { networkDecider, networkStream } from '../domain/network/index.js';
import { prepared } from '../projections/sql.js';

export const CLAIM_GRACE_MS = 5 * 60_000;

export interface OrphanedClaimOptions {
  readonly commander: Commander;
  readonly clock: Clock;
  readonly readModel: () => Database;
}

const ACTOR: CommandEnvelope['actor'] = { kind: 'system', component: 'orphaned-claims' };

/** Releases the names and addresses claimed before `now - CLAIM_GRACE_MS` for instances that do not exist. */
export async function releaseOrphanedClaims(options: OrphanedClaimOptions): Promise<{ names: number; addresses: number }> {
  const db = options.readModel();
  const now = options.clock.now();
  const before = new Date(now.getTime() - CLAIM_GRACE_MS).toISOString();
  const names = prepared(
    db,
    `SELECT n.account_id AS accountId, n.instance_id AS instanceId FROM acct_instance_name n
     WHERE n.claimed_at < ? AND NOT EXISTS (SELECT 1 FROM instances i WHERE i.id = n.instance_id)`,
  ).all(before) as Array<{ accountId: string; instanceId: string }>;
  const addresses = prepared(
    db,
    `SELECT a.network_id AS networkId, a.nic_id AS nicId, a.instance_id AS instanceId FROM infra_network_address a
     WHERE a.allocated_at < ? AND NOT EXISTS (SELECT 1 FROM instances i WHERE i.id = a.instance_id)`,
  ).all(before) as Array<{ networkId: string; nicId: string; instanceId: string }>;
  const at = now.toISOString();
  for (const claim of names) {
    const envelope: CommandEnvelope = { actor: ACTOR, correlationId: `instance-${claim.instanceId}`, occurredAt: at };
    // Released meanwhile: nothing is held any more.
    await unlessRefused(options.commander.execute(accountStream(claim.accountId), accountDecider, { type: 'ReleaseInstanceName', instanceId: claim.instanceId }, envelope));
  }
  for (const claim of addresses) {
    const envelope: CommandEnvelope = { actor: ACTOR, correlationId: `instance-${claim.instanceId}`, occurredAt: at };
    await unlessRefused(options.commander.execute(networkStream(claim.networkId), networkDecider, { type: 'ReleaseNic', nicId: claim.nicId }, envelope));
  }
  return { names: names.length, addresses: addresses.length };
}
