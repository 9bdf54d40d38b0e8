// CloudStack's power-state sync: a host's agent reports, out of band, the power state it sees.
//
// Stable states follow the report (FollowAgentPowerOn/OffReport; a guest shutdown is
// AgentReportShutdowned). In a transitional state only a report of the state the operation is heading
// to settles it (AgentReport*): while a start runs the domain is still off, while a stop runs it is
// still on, and during a live migration both hosts see it off at some point; those reports are the
// expected picture, not news, and the saga's own outcome settles a failure. Reports that change
// nothing append nothing: the sync repeats every minute.
import { isRejection, reject, type Decision } from '../shared/decider.js';
import type { PowerState, RecordAgentReport } from './commands.js';
import { completeStop } from './decide-stop.js';
import type { InstanceEvent, InstancePowerStateReported } from './events.js';
import { messages } from './messages.js';
import { Outcome, expectMove } from './outcome.js';
import type { Instance } from './state.js';
import type { MachineEvent, VmState } from './state-machine.js';
import { startedUsage, stoppedUsage } from './usage.js';

function reported(
  instance: Instance,
  command: RecordAgentReport,
  machineEvent: MachineEvent,
  state: VmState,
): InstancePowerStateReported {
  return {
    type: 'InstancePowerStateReported',
    data: {
      instanceId: instance.id,
      hostId: command.hostId,
      powerState: command.powerState,
      machineEvent,
      settledJobId: instance.pending?.jobId ?? null,
      state,
      settledAt: command.at,
    },
  };
}

const offEvent = (power: Exclude<PowerState, 'running'>, stable: boolean): MachineEvent =>
  power === 'shutdown' ? 'AgentReportShutdowned' : stable ? 'FollowAgentPowerOffReport' : 'AgentReportStopped';

function cameUp(instance: Instance, command: RecordAgentReport, event: MachineEvent): Decision<InstanceEvent> {
  const to = expectMove(instance, event, 'Running');
  if (isRejection(to)) return to;
  const outcome = new Outcome(instance).add(reported(instance, command, event, to));
  return outcome.add(...startedUsage(outcome.state, command.at)).events;
}

/**
 * The report's time is the agent's clock, the settlement's the orchestrator's (or, for a report, the
 * agent's): a clock off by more than the race is long lets a stale report through, which is why the
 * agents' clocks are kept close (commands signed by the orchestrator expire on them).
 */
function isStale(command: RecordAgentReport, instance: Instance): boolean {
  return instance.powerSettledAt !== null && Date.parse(command.at) < Date.parse(instance.powerSettledAt);
}

export function decideAgentReport(command: RecordAgentReport, instance: Instance): Decision<InstanceEvent> {
  const { powerState, hostId } = command;
  // While an import adopts the domain, or an unmanage gives it up, the domain is on the host whatever
  // the instance says: the job's outcome (with the power state the host answered) settles it.
  if (instance.pending?.kind === 'import' || instance.pending?.kind === 'unmanage') return [];
  // Taken before a job's outcome (or a later report) settled the power state: the agent saw the
  // domain as it was before, and the reply overtook the report on its own queue. Following it would
  // undo the settlement (a stop's instance Running again, with VM.START usage).
  if (isStale(command, instance)) return [];
  switch (instance.state) {
    case 'Stopped': {
      if (powerState === 'running') return cameUp(instance, command, 'FollowAgentPowerOnReport');
      const unchanged = expectMove(instance, offEvent(powerState, true), 'Stopped');
      return isRejection(unchanged) ? unchanged : [];
    }
    case 'Running': {
      if (powerState === 'running') {
        if (hostId === instance.hostId) {
          const unchanged = expectMove(instance, 'FollowAgentPowerOnReport', 'Running');
          return isRejection(unchanged) ? unchanged : [];
        }
        const to = expectMove(instance, 'AgentReportMigrated', 'Running');
        return isRejection(to) ? to : [reported(instance, command, 'AgentReportMigrated', to)];
      }
      // Another host seeing the domain off says nothing about where the instance runs.
      if (hostId !== instance.hostId) return [];
      const event = offEvent(powerState, true);
      const to = expectMove(instance, event, 'Stopped');
      if (isRejection(to)) return to;
      const outcome = new Outcome(instance).add(reported(instance, command, event, to));
      return outcome.add(...stoppedUsage(outcome.state, command.at)).events;
    }
    case 'Starting':
      if (powerState !== 'running' || (instance.hostId !== null && instance.hostId !== hostId)) return [];
      return cameUp(instance, command, 'AgentReportRunning');
    case 'Stopping': {
      if (powerState === 'running' || hostId !== instance.hostId) return [];
      const event = offEvent(powerState, false);
      const to = expectMove(instance, event, 'Stopped');
      if (isRejection(to)) return to;
      return completeStop(instance, reported(instance, command, event, to), command.at);
    }
    case 'Migrating': {
      const target = instance.pending?.kind === 'migrate' ? instance.pending.targetHostId : null;
      if (powerState !== 'running' || hostId !== target) return [];
      const to = expectMove(instance, 'AgentReportRunning', 'Running');
      return isRejection(to) ? to : [reported(instance, command, 'AgentReportRunning', to)];
    }
    default: {
      const event = powerState === 'running' ? 'FollowAgentPowerOnReport' : offEvent(powerState, true);
      return reject('INVALID_STATE', messages.noTransition(instance, event));
    }
  }
}

/**
 * Whether a report only confirms what the instance already is: stopped and seen off, or running
 * and seen on by its own host. decideAgentReport appends nothing for such a report, whatever else the
 * instance holds (a stale report, a pending import, a transition the table lacks: nothing, or a
 * refusal), so a caller that knows the instance's current state and host may skip deciding it.
 */
export function reportConfirms(instance: { readonly state: string; readonly hostId: string | null }, report: { readonly hostId: string; readonly powerState: PowerState }): boolean {
  if (instance.state === 'Stopped') return report.powerState !== 'running';
  return instance.state === 'Running' && report.powerState === 'running' && instance.hostId === report.hostId;
}
