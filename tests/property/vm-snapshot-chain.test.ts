// Random create/revert/delete sequences on one instance (and their outcomes, in any order, repeated,
// stale): the snapshot chain stays a tree, one snapshot is current whenever the last move made one
// current, and every snapshot's usage pairs up (VMSNAPSHOT.CREATE/DELETE per volume, ON/OFF_PRIMARY).
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { instanceDecider, type Instance, type InstanceCommand, type InstanceEvent, type InstanceState } from '../../domain/instance/index.js';
import { isRejection } from '../../domain/shared/decider.js';
import { cmd, deploy, eventsOf, owner, small } from '../unit/instance/fixtures.js';

type Op =
  | { readonly kind: 'create'; readonly memory: boolean; readonly name: number }
  | { readonly kind: 'revert' | 'delete'; readonly pick: number }
  | { readonly kind: 'succeed' | 'fail' | 'repeat' }
  | { readonly kind: 'power' };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ kind: fc.constant('create' as const), memory: fc.boolean(), name: fc.nat(6) }),
  fc.record({ kind: fc.constantFrom('revert' as const, 'delete' as const), pick: fc.nat(9) }),
  fc.record({ kind: fc.constantFrom('succeed' as const, 'fail' as const, 'repeat' as const) }),
  fc.record({ kind: fc.constant('power' as const) }),
);

const facts = (id: string) => ({ name: `snap-${id}`, sizeBytes: 100 + id.length, serviceOffering: small, compute: { cpuNumber: 1, cpuSpeed: 500, memory: 512 } });

function commandOf(op: Op, vm: Instance, step: number, last: InstanceCommand | null): InstanceCommand | null {
  const base = { instanceId: vm.id, at: new Date(Date.UTC(2025, 2, 1, 11, step)).toISOString() };
  const links = vm.vmSnapshotChain.links;
  const task = vm.pending?.kind === 'vmsnapshot' ? vm.pending : null;
  const target = (pick: number) => links[pick % Math.max(1, links.length)]?.id ?? 'unknown';
  switch (op.kind) {
    case 'create':
      return { type: 'RequestVMSnapshot', ...base, caller: owner, jobId: `job-${step}`, vmSnapshotId: `s${step}`, displayName: `n${op.name}`, description: null, memory: op.memory, quiesce: false, max: 5 };
    case 'revert':
      return { type: 'RequestVMSnapshotRevert', ...base, caller: owner, jobId: `job-${step}`, vmSnapshotId: target(op.pick) };
    case 'delete':
      return { type: 'RequestVMSnapshotDelete', ...base, caller: owner, jobId: `job-${step}`, vmSnapshotId: target(op.pick) };
    case 'succeed':
    case 'fail': {
      if (!task) return null;
      const vmSnapshotId = task.vmSnapshotId ?? links[links.length - 1]?.id ?? 'none';
      return op.kind === 'succeed'
        ? { type: 'RecordVMSnapshotTaskSucceeded', ...base, jobId: task.jobId, vmSnapshotId, snapshot: facts(vmSnapshotId) }
        : { type: 'RecordVMSnapshotTaskFailed', ...base, jobId: task.jobId, vmSnapshotId, reason: 'host said no' };
    }
    case 'repeat':
      return last;
    case 'power':
      return vm.state === 'Running' ? cmd.stop(`job-${step}`) : vm.state === 'Stopping' ? cmd.stopOk(vm.pending?.jobId ?? 'x') : vm.state === 'Stopped' ? cmd.start(`job-${step}`) : vm.state === 'Starting' ? cmd.startOk(vm.pending?.jobId ?? 'x') : null;
  }
}

interface Run {
  readonly events: InstanceEvent[];
  readonly states: Instance[];
}

function run(ops: readonly Op[]): Run {
  const events = eventsOf(deploy(), cmd.start(), cmd.startOk());
  let state: InstanceState = events.reduce(instanceDecider.evolve, instanceDecider.initialState);
  const states: Instance[] = [];
  let last: InstanceCommand | null = null;
  ops.forEach((op, step) => {
    if (!state.exists) return;
    const command = commandOf(op, state, step, last);
    if (!command) return;
    last = command;
    const decided = instanceDecider.decide(command, state);
    if (isRejection(decided)) return;
    for (const event of decided) {
      events.push(event);
      state = instanceDecider.evolve(state, event);
    }
    if (state.exists) states.push(state);
  });
  return { events, states };
}

describe('VM snapshot chain properties', () => {
  it('the chain is a tree whose parents exist, at most one snapshot is current and it was created', () => {
    fc.assert(
      fc.property(fc.array(opArb, { maxLength: 60 }), (ops) => {
        for (const vm of run(ops).states) {
          const chain = vm.vmSnapshotChain;
          const ids = new Set(chain.links.map((l) => l.id));
          expect(ids.size).toBe(chain.links.length);
          for (const link of chain.links) {
            if (link.parentId !== null) expect(ids.has(link.parentId)).toBe(true);
            // Following parents ends at a root: no cycle.
            const seen = new Set<string>();
            for (let at: string | null = link.id; at !== null; at = chain.links.find((l) => l.id === at)!.parentId) {
              expect(seen.has(at)).toBe(false);
              seen.add(at);
            }
          }
          if (chain.currentId !== null) {
            expect(ids.has(chain.currentId)).toBe(true);
            // Never one still being created; Error only when deleting the current one failed on the host
            // (CloudStack leaves the flag where it is then).
            expect(['Ready', 'Reverting', 'Expunging', 'Error']).toContain(chain.links.find((l) => l.id === chain.currentId)!.status);
          }
          expect(vm.vmSnapshotCount).toBeLessThanOrEqual(5);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('a snapshot created or reverted to is then the one current snapshot; deleting the current one hands it to its parent', () => {
    fc.assert(
      fc.property(fc.array(opArb, { maxLength: 60 }), (ops) => {
        const { events } = run(ops);
        let state: InstanceState = instanceDecider.initialState;
        for (const event of events) {
          const before = state;
          state = instanceDecider.evolve(state, event);
          if (!state.exists || !before.exists) continue;
          if (event.type === 'InstanceVMSnapshotCreated' || event.type === 'InstanceVMSnapshotReverted') {
            expect(state.vmSnapshotChain.currentId).toBe(event.data.vmSnapshotId);
          }
          if (event.type === 'InstanceVMSnapshotDeleted' && before.vmSnapshotChain.currentId === event.data.vmSnapshotId) {
            expect(state.vmSnapshotChain.currentId).toBe(before.vmSnapshotChain.links.find((l) => l.id === event.data.vmSnapshotId)!.parentId);
          }
          if (event.type === 'InstanceVMSnapshotRequested') expect(event.data.parentId).toBe(before.vmSnapshotChain.currentId);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('usage pairs up: each snapshot is billed once per volume on creation and closed once on deletion', () => {
    fc.assert(
      fc.property(fc.array(opArb, { maxLength: 60 }), (ops) => {
        const { events, states } = run(ops);
        const open = new Map<string, number>();
        for (const event of events) {
          if (!event.type.startsWith('usage.VMSNAPSHOT.')) continue;
          const data = event.data as { details: { vmSnapshotId: string }; templateId: string | null };
          const key = `${event.type.endsWith('PRIMARY') ? 'primary' : 'volume'}/${data.details.vmSnapshotId}/${data.templateId ?? ''}`;
          const opens = event.type === 'usage.VMSNAPSHOT.CREATE' || event.type === 'usage.VMSNAPSHOT.ON_PRIMARY';
          const now = (open.get(key) ?? 0) + (opens ? 1 : -1);
          expect(now === 0 || now === 1).toBe(true);
          open.set(key, now);
        }
        // What is still billed is exactly the snapshots created and not deleted.
        const final = states[states.length - 1];
        const billed = new Set(final ? final.vmSnapshotChain.links.filter((l) => l.billed).map((l) => l.id) : []);
        const stillOpen = new Set([...open].filter(([, n]) => n === 1).map(([key]) => key.split('/')[1]!));
        if (final) expect(stillOpen).toEqual(billed);
      }),
      { numRuns: 300 },
    );
  });
});
