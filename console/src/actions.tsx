// What can be done to an instance, when (CloudStack's transition table, as the API enforces it: the
// console only hides what the API would refuse), and the mutations that do it.
import { useRef, useState, type ReactNode } from 'react';
import { gql, messageOf } from './api.ts';
import { JOB_FIELDS, VM_FIELDS, type Job, type Vm } from './model.ts';

export type Action = 'start' | 'stop' | 'reboot' | 'destroy' | 'recover' | 'migrate';

export const ACTION_LABELS: Record<Action, string> = {
  start: 'Start',
  stop: 'Stop',
  reboot: 'Reboot',
  destroy: 'Destroy',
  recover: 'Recover',
  migrate: 'Migrate',
};

export function actionsFor(vm: Vm, isAdmin: boolean): Action[] {
  switch (vm.state) {
    case 'Stopped':
      return ['start', 'destroy'];
    case 'Running':
      return isAdmin ? ['stop', 'reboot', 'migrate', 'destroy'] : ['stop', 'reboot', 'destroy'];
    case 'Error':
      return ['destroy'];
    case 'Destroyed':
      return ['recover'];
    default:
      return [];
  }
}

/** Runs an action: the job it opened (start, stop, …), or the instance (recover, which is immediate). */
export async function runAction(action: Action, vm: Vm, options: { expunge?: boolean; hostId?: string } = {}): Promise<{ job?: Job; vm?: Vm }> {
  const job = async (mutation: string, args: string, variables: Record<string, unknown>) => {
    const data = await gql<Record<string, Job>>(`mutation(${args}) { ${mutation} { ${JOB_FIELDS} } }`, variables);
    return { job: Object.values(data)[0]! };
  };
  switch (action) {
    case 'start':
      return job('startVirtualMachine(id: $id)', '$id: ID!', { id: vm.id });
    case 'stop':
      return job('stopVirtualMachine(id: $id)', '$id: ID!', { id: vm.id });
    case 'reboot':
      return job('rebootVirtualMachine(id: $id)', '$id: ID!', { id: vm.id });
    case 'destroy':
      return job('destroyVirtualMachine(id: $id, expunge: $expunge)', '$id: ID!, $expunge: Boolean', { id: vm.id, expunge: options.expunge ?? false });
    case 'migrate':
      return job('migrateVirtualMachine(virtualMachineId: $id, hostId: $hostId)', '$id: ID!, $hostId: ID', { id: vm.id, hostId: options.hostId ?? null });
    case 'recover': {
      const data = await gql<{ recoverVirtualMachine: Vm }>(`mutation($id: ID!) { recoverVirtualMachine(id: $id) { ${VM_FIELDS} } }`, { id: vm.id });
      return { vm: data.recoverVirtualMachine };
    }
  }
}

/** A modal question (the browser's <dialog>: focus stays inside, Escape cancels). */
export function useConfirm(): [ReactNode, (options: ConfirmOptions) => Promise<Record<string, string> | null>] {
  const dialog = useRef<HTMLDialogElement>(null);
  const [options, setOptions] = useState<ConfirmOptions | null>(null);
  const resolver = useRef<((answer: Record<string, string> | null) => void) | null>(null);
  const close = (answer: Record<string, string> | null) => {
    dialog.current?.close();
    resolver.current?.(answer);
    resolver.current = null;
    setOptions(null);
  };
  const node = (
    <dialog ref={dialog} className="dialog" aria-labelledby="confirm-title" onCancel={() => close(null)}>
      {options && (
        <form
          method="dialog"
          onSubmit={(event) => {
            event.preventDefault();
            close(Object.fromEntries([...new FormData(event.currentTarget).entries()].map(([k, v]) => [k, String(v)])));
          }}
        >
          <h2 id="confirm-title">{options.title}</h2>
          <div>{options.body}</div>
          <div className="buttons">
            <button type="button" onClick={() => close(null)}>
              Cancel
            </button>
            <button type="submit" className={options.danger ? 'danger' : 'primary'} autoFocus>
              {options.confirm}
            </button>
          </div>
        </form>
      )}
    </dialog>
  );
  const ask = (next: ConfirmOptions) =>
    new Promise<Record<string, string> | null>((resolve) => {
      resolver.current = resolve;
      setOptions(next);
      queueMicrotask(() => dialog.current?.showModal());
    });
  return [node, ask];
}

export interface ConfirmOptions {
  title: string;
  body: ReactNode;
  confirm: string;
  danger?: boolean;
}

/** Asks what an action needs (destroy: expunge too?; migrate: which host?) and runs it. */
export async function confirmAndRun(
  action: Action,
  vm: Vm,
  ask: (options: ConfirmOptions) => Promise<Record<string, string> | null>,
  hosts: readonly { id: string; name: string; clusterId: string }[],
): Promise<{ job?: Job; vm?: Vm } | null> {
  if (action === 'destroy') {
    const answer = await ask({
      title: `Destroy ${vm.name}?`,
      danger: true,
      confirm: 'Destroy',
      body: (
        <>
          <p>A destroyed instance can be recovered until it is expunged.</p>
          <label className="check">
            <input type="checkbox" name="expunge" value="yes" /> Expunge it at once (it cannot be recovered)
          </label>
        </>
      ),
    });
    if (!answer) return null;
    return runAction('destroy', vm, { expunge: answer['expunge'] === 'yes' });
  }
  if (action === 'migrate') {
    const currentCluster = hosts.find((h) => h.id === vm.hostId)?.clusterId;
    const targets = hosts.filter((h) => h.id !== vm.hostId && (!currentCluster || h.clusterId === currentCluster));
    const answer = await ask({
      title: `Migrate ${vm.name}`,
      confirm: 'Migrate',
      body: (
        <div className="field">
          <label htmlFor="migrate-host">Target host</label>
          <select id="migrate-host" name="hostId" defaultValue="">
            <option value="">The planner's choice</option>
            {targets.map((h) => (
              <option key={h.id} value={h.id}>
                {h.name}
              </option>
            ))}
          </select>
        </div>
      ),
    });
    if (!answer) return null;
    return runAction('migrate', vm, answer['hostId'] ? { hostId: answer['hostId'] } : {});
  }
  return runAction(action, vm);
}

/**
 * Unmanaging (root admin, as the API allows): a Running or Stopped instance leaves vmledger while its
 * domain stays defined on its host. Asked first; the job it opens, or null when the answer was no.
 */
export function mayUnmanage(vm: Vm, isRootAdmin: boolean): boolean {
  return isRootAdmin && (vm.state === 'Running' || vm.state === 'Stopped');
}

export async function confirmAndUnmanage(vm: Vm, ask: (options: ConfirmOptions) => Promise<Record<string, string> | null>): Promise<Job | null> {
  const answer = await ask({
    title: `Unmanage ${vm.name}?`,
    danger: true,
    confirm: 'Unmanage',
    body: (
      <>
        <p>
          The instance leaves vmledger: it is no longer listed, its usage ends and its VM snapshots are deleted. Its domain stays defined on its host
          {vm.state === 'Running' ? ' and keeps running' : ''}; the Import screen lists it again.
        </p>
      </>
    ),
  });
  if (!answer) return null;
  const data = await gql<{ unmanageVirtualMachine: Job }>(`mutation($id: ID!) { unmanageVirtualMachine(id: $id) { ${JOB_FIELDS} } }`, { id: vm.id });
  return data.unmanageVirtualMachine;
}

export { messageOf };
