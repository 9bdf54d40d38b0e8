// What the infrastructure operations share: the ids an argument references, checked against the read
// model (a refusal names the argument), and creating a thing: one command, or a claim in its owner
// first (createClaimed), then the new node once the read model shows it. Argument types are read by
// ../args.ts.
import type { CommandEnvelope } from '../../../adapters/eventstore/command-handler.js';
import type { Decider, DomainEvent } from '../../../domain/shared/decider.js';
import { zoneDecider, zoneStream, type ZoneCommand, type ZoneEvent, type ZoneState } from '../../../domain/zone/index.js';
import { getCluster, getZone, type ClusterNode, type ZoneNode } from '../../../projections/infrastructure/index.js';
import type { PageRequest } from '../../../projections/pagination.js';
import type { Reach } from '../../../projections/visibility.js';
import { createClaimed, type Claim, type Creation } from '../claims.js';
import { db, execute, settled, type ControlPlaneContext } from '../context.js';
import { ApiError, type Caller, type InfrastructureArgs } from '../port.js';

export type Args = InfrastructureArgs;

export function badInput(field: string, message: string): never {
  throw new ApiError('BAD_USER_INPUT', message, field);
}

export function requireZone(context: ControlPlaneContext, id: string, field = 'zoneId'): ZoneNode {
  const zone = getZone(db(context), id);
  if (!zone) badInput(field, `Unable to find zone ${JSON.stringify(id)}`);
  return zone;
}

export function requireCluster(context: ControlPlaneContext, id: string, field = 'clusterId'): ClusterNode {
  const cluster = getCluster(db(context), id);
  if (!cluster) badInput(field, `Unable to find cluster ${JSON.stringify(id)}`);
  return cluster;
}

/** A node the command just created; its absence after `settled` means the read model is broken. */
export function readBack<T>(node: T | undefined, what: string, id: string): T {
  if (node === undefined) throw new ApiError('INTERNAL_ERROR', `${what} ${id} was created but cannot be read back`);
  return node;
}

/** Runs the command that creates a thing, waits for the read model to show it, and returns it as shown. */
export async function created<Command, State, Event extends DomainEvent, Node>(
  context: ControlPlaneContext,
  stream: string,
  decider: Decider<Command, State, Event>,
  command: Command,
  envelope: CommandEnvelope,
  read: () => Node | undefined,
  what: string,
  id: string,
): Promise<Node> {
  const result = await execute(context, stream, decider, command, envelope);
  await settled(context, result.positions);
  return readBack(read(), what, id);
}

/** `created` for a thing whose name or addressing another aggregate keeps unique (see createClaimed). */
export async function createdClaimed<OC, OS, OE extends DomainEvent, Command, State, Event extends DomainEvent, Node>(
  context: ControlPlaneContext,
  owner: Claim<OC, OS, OE>,
  creation: Creation<Command, State, Event>,
  envelope: CommandEnvelope,
  read: () => Node | undefined,
  what: string,
  id: string,
): Promise<Node> {
  const { positions } = await createClaimed(context, envelope, owner, creation);
  await settled(context, positions);
  return readBack(read(), what, id);
}

/** The claim of a host's or storage pool's name in its zone. */
export function zoneNameClaim(zoneId: string, kind: 'host' | 'storagePool', id: string, name: string): Claim<ZoneCommand, ZoneState, ZoneEvent> {
  return { stream: zoneStream(zoneId), decider: zoneDecider, claim: { type: 'ClaimName', kind, id, name }, release: { type: 'ReleaseName', kind, id } };
}

export type ZoneFilter = PageRequest & { readonly zoneId?: string | null };
export const page = (args: PageRequest): PageRequest => ({ first: args.first ?? null, after: args.after ?? null });

/** Whose own networks and templates the caller may use: its account's, or (an admin) its domain subtree's. */
export function reachOf(caller: Caller): Reach {
  return caller.role === 'USER' ? { kind: 'account', accountId: caller.accountId } : { kind: 'subtree', domainPath: caller.domainPath };
}
