// A deployment's or an import's claim on its instance's name, refused as the API refuses (CONFLICT).
import type { CommandEnvelope } from '../../../adapters/eventstore/command-handler.js';
import { reserveInstanceName, type InstanceNameClaim } from '../../../sagas/instance-names.js';
import { toApiError, type ControlPlaneContext } from '../context.js';

export async function claimInstanceName(context: ControlPlaneContext, claim: InstanceNameClaim, envelope: CommandEnvelope): Promise<void> {
  try {
    await reserveInstanceName(context.commander, claim, envelope);
  } catch (error) {
    throw toApiError(error);
  }
}
