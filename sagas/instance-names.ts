// Claiming and giving back an instance's name: on the name's own stream (domain/account/instance-name.ts),
// and, for names an older log reserved on the account stream, there too. On a log written with name
// streams the account stream holds no names, so both steps read a handful of events whatever the
// account's size.
import type { CommandEnvelope } from '../adapters/eventstore/command-handler.js';
import type { Commander } from '../adapters/eventstore/commander.js';
import { accountDecider, accountStream } from '../domain/account/index.js';
import { instanceNameDecider, instanceNameStream } from '../domain/account/instance-name.js';

export interface InstanceNameClaim {
  readonly accountId: string;
  readonly instanceId: string;
  readonly name: string;
}

/** Claims `name` for the instance; CONFLICT (a CommandRejectedError) when another instance holds it. */
export async function reserveInstanceName(commander: Commander, claim: InstanceNameClaim, envelope: CommandEnvelope): Promise<void> {
  const { accountId, instanceId, name } = claim;
  const checked = await commander.execute(accountStream(accountId), accountDecider, { type: 'CheckInstanceName', instanceId, name }, envelope);
  const accountName = checked.state.kind === 'account' ? checked.state.name : accountId;
  await commander.execute(instanceNameStream(accountId, name), instanceNameDecider, { type: 'ReserveInstanceName', accountId, instanceId, name, accountName }, envelope);
}

/**
 * Gives the instance's name back; idempotent. `name` is the one it claimed, when known: a claim whose
 * name nobody knows any more (an older log's) can only be on the account stream, which is released too.
 */
export async function releaseInstanceName(commander: Commander, claim: { readonly accountId: string; readonly instanceId: string; readonly name: string | null }, envelope: CommandEnvelope): Promise<void> {
  const { accountId, instanceId, name } = claim;
  if (name !== null) await commander.execute(instanceNameStream(accountId, name), instanceNameDecider, { type: 'ReleaseInstanceName', accountId, instanceId }, envelope);
  await commander.execute(accountStream(accountId), accountDecider, { type: 'ReleaseInstanceName', instanceId }, envelope);
}
