// A deployment's or an import's claim on a NIC's addresses, refused as the API refuses.
import type { CommandEnvelope } from '../../../adapters/eventstore/command-handler.js';
import type { NicAddress } from '../../../domain/network/index.js';
import { allocateNicAddress, readModelHints, type NicAllocation } from '../../../sagas/nic-addresses.js';
import { toApiError, type ControlPlaneContext } from '../context.js';

export async function claimNicAddress(context: ControlPlaneContext, allocation: NicAllocation, envelope: CommandEnvelope): Promise<NicAddress> {
  try {
    return await allocateNicAddress(context.commander, readModelHints(context.store, context.readModel, context.readYourWritesMs), allocation, envelope);
  } catch (error) {
    throw toApiError(error);
  }
}
