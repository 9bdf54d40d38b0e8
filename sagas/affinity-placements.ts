// Where an instance's strict affinity groups record it placed: taken before the host's capacity is
// reserved (a refused placement means "plan again without that host"), given back when the host refuses,
// and settled to the one host the instance runs on when its job finishes. Groups that are not strict,
// deleted or never existed answer with nothing, so every group of the instance is simply asked.
import { CommandRejectedError, type CommandEnvelope } from '../adapters/eventstore/command-handler.js';
import type { Commander } from '../adapters/eventstore/commander.js';
import { affinityGroupDecider, affinityGroupStream } from '../domain/affinity/index.js';
import type { Instance } from '../domain/instance/index.js';

export class AffinityPlacements {
  constructor(private readonly commander: Commander) {}

  /**
   * Places the instance on `hostId` in each of its groups; true when any group recorded it. A group
   * that refuses throws CommandRejectedError after the placements already taken are given back.
   */
  async place(instance: Instance, hostId: string, enforce: boolean, envelope: CommandEnvelope): Promise<boolean> {
    const taken: string[] = [];
    try {
      for (const groupId of instance.affinityGroupIds) {
        const result = await this.commander.execute(affinityGroupStream(groupId), affinityGroupDecider, { type: 'PlaceMember', groupId, instanceId: instance.id, hostId, enforce }, envelope);
        if (result.events.length > 0) taken.push(groupId);
      }
    } catch (error) {
      if (error instanceof CommandRejectedError) await this.unplaceFrom(taken, instance.id, hostId, envelope);
      throw error;
    }
    return taken.length > 0;
  }

  async unplace(instance: Instance, hostId: string, envelope: CommandEnvelope): Promise<void> {
    await this.unplaceFrom(instance.affinityGroupIds, instance.id, hostId, envelope);
  }

  async settle(instance: Instance, hostId: string | null, envelope: CommandEnvelope): Promise<void> {
    for (const groupId of instance.affinityGroupIds) {
      await this.commander.execute(affinityGroupStream(groupId), affinityGroupDecider, { type: 'SettleMember', groupId, instanceId: instance.id, hostId }, envelope);
    }
  }

  private async unplaceFrom(groupIds: readonly string[], instanceId: string, hostId: string, envelope: CommandEnvelope): Promise<void> {
    for (const groupId of groupIds) {
      await this.commander.execute(affinityGroupStream(groupId), affinityGroupDecider, { type: 'UnplaceMember', groupId, instanceId, hostId }, envelope);
    }
  }
}
