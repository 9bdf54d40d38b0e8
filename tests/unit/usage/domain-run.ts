// Runs instance commands through the real command handler into a log, as the control plane does:
// each command's `at` is its envelope's time, refusals append nothing.
import { randomUUID } from 'node:crypto';
import { CommandRejectedError, handleCommand } from '../../../adapters/eventstore/command-handler.js';
import type { EventStore } from '../../../adapters/eventstore/port.js';
import { instanceDecider, instanceStream, type InstanceCommand, type InstanceEvent, type InstanceState } from '../../../domain/instance/index.js';

export interface Applied {
  readonly command: InstanceCommand;
  readonly events: readonly InstanceEvent[];
  /** The state after the command. */
  readonly state: InstanceState;
  readonly positions: readonly number[];
}

export async function runCommands(store: EventStore, commands: readonly InstanceCommand[]): Promise<Applied[]> {
  const applied: Applied[] = [];
  for (const command of commands) {
    try {
      const result = await handleCommand(store, {
        stream: instanceStream(command.instanceId),
        decider: instanceDecider,
        command,
        envelope: { actor: { kind: 'system', component: 'test' }, correlationId: randomUUID(), occurredAt: command.at },
        newEventId: randomUUID,
      });
      applied.push({ command, events: result.events, state: result.state, positions: result.positions });
    } catch (error) {
      if (!(error instanceof CommandRejectedError)) throw error;
    }
  }
  return applied;
}
