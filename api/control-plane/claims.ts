// Creating something whose name (or addressing) another aggregate keeps unique: a zone's name is the
// region's, a host's or pool's name and a network's VLAN and CIDR are their zone's, an account's name
// is its domain's. The claim is appended to the owner's stream first, where the expected revision lets
// only one of two concurrent claims through; then the thing's own stream is created; if that fails,
// the claim is given back. Every rule of the thing is checked before the claim, so a refused creation
// leaves no claim behind.
import type { CommandEnvelope, CommandResult } from '../../adapters/eventstore/command-handler.js';
import { isRejection, type Decider, type DomainEvent } from '../../domain/shared/decider.js';
import { execute, type ControlPlaneContext } from './context.js';
import { ApiError } from './port.js';

export interface Claim<Command, State, Event extends DomainEvent> {
  readonly stream: string;
  readonly decider: Decider<Command, State, Event>;
  readonly claim: Command;
  readonly release: Command;
}

export interface Creation<Command, State, Event extends DomainEvent> {
  readonly stream: string;
  readonly decider: Decider<Command, State, Event>;
  readonly command: Command;
}

export async function createClaimed<OC, OS, OE extends DomainEvent, C, S, E extends DomainEvent>(
  context: ControlPlaneContext,
  envelope: CommandEnvelope,
  owner: Claim<OC, OS, OE>,
  creation: Creation<C, S, E>,
): Promise<{ readonly result: CommandResult<S, E>; readonly positions: readonly number[] }> {
  const dryRun = creation.decider.decide(creation.command, creation.decider.initialState);
  if (isRejection(dryRun)) throw new ApiError(dryRun.code, dryRun.message, dryRun.field);
  const claimed = await execute(context, owner.stream, owner.decider, owner.claim, envelope);
  try {
    const result = await execute(context, creation.stream, creation.decider, creation.command, envelope);
    return { result, positions: [...claimed.positions, ...result.positions] };
  } catch (error) {
    // Only a claim this call made is given back: an earlier claim for the same id belongs to whoever made it.
    if (claimed.events.length > 0) await execute(context, owner.stream, owner.decider, owner.release, envelope);
    throw error;
  }
}
