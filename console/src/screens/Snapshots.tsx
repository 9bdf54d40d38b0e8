// An instance's VM snapshots: the list (type, state, which is current, its parent), a form to take one,
// and revert and delete, each asked first. Every operation is a job on the snapshot: its step and
// progress show on the snapshot's row as they are pushed, and the list is read again as it moves.
import { useCallback, useState, type FormEvent } from 'react';
import { useConfirm } from '../actions.tsx';
import { ApiError, gql, messageOf } from '../api.ts';
import { Time } from '../format.tsx';
import { jobTitle, useJobs, useJobUpdates } from '../jobs.tsx';
import { JOB_FIELDS, VM_SNAPSHOT_FIELDS, type Connection, type Job, type Vm, type VmSnapshot } from '../model.ts';
import { Empty, ErrorNote, Field, Loading, ProgressBar, StateBadge, TableBox, useData } from '../ui.tsx';

const TYPE_LABELS: Record<VmSnapshot['type'], string> = { Disk: 'Disk', DiskAndMemory: 'Disk and memory' };

/** Whether a revert fits (API.md: a running instance to a memory snapshot, a stopped one to a disk one). */
function revertFits(vm: Vm, snapshot: VmSnapshot): boolean {
  return (vm.state === 'Running' && snapshot.type === 'DiskAndMemory') || (vm.state === 'Stopped' && snapshot.type === 'Disk');
}

export function Snapshots({ vm }: { vm: Vm }) {
  const { jobs, track } = useJobs();
  const [dialog, ask] = useConfirm();
  const [actionError, setActionError] = useState<string | null>(null);
  const { data, error, loading, reload } = useData(
    () =>
      gql<{ vmSnapshots: Connection<VmSnapshot> }>(
        `query($id: ID!) { vmSnapshots(virtualMachineId: $id, first: 100) { nodes { ${VM_SNAPSHOT_FIELDS} } pageInfo { hasNextPage endCursor } totalCount } }`,
        { id: vm.id },
      ).then((d) => d.vmSnapshots.nodes),
    [vm.id],
  );
  // A snapshot job of this instance moved: its snapshot's state (Creating, Reverting, …) moved with it.
  useJobUpdates(
    useCallback(
      (job: Job) => {
        if (job.instanceId === vm.id && job.resourceType === 'VMSnapshot') void reload();
      },
      [vm.id, reload],
    ),
  );
  const running = (snapshotId: string) => jobs.find((j) => j.resourceId === snapshotId && j.status === 'PENDING');
  const busy = jobs.some((j) => j.instanceId === vm.id && j.resourceType === 'VMSnapshot' && j.status === 'PENDING');
  const names = new Map((data ?? []).map((s) => [s.id, s.displayName]));

  const start = async (what: string, mutation: string, snapshot: VmSnapshot) => {
    setActionError(null);
    try {
      const result = await gql<Record<string, Job>>(`mutation($id: ID!) { ${mutation}(vmSnapshotId: $id) { ${JOB_FIELDS} } }`, { id: snapshot.id });
      track(Object.values(result)[0]!);
    } catch (caught) {
      setActionError(`${what} ${snapshot.displayName}: ${messageOf(caught)}`);
    }
  };
  const revert = async (snapshot: VmSnapshot) => {
    const answer = await ask({
      title: `Revert ${vm.name} to ${snapshot.displayName}?`,
      confirm: 'Revert',
      danger: true,
      body: (
        <p>
          The instance's disks{snapshot.type === 'DiskAndMemory' ? ' and memory' : ''} go back to how they were at <Time at={snapshot.created} />; what changed since is
          lost. It gets back the offering it had then.
        </p>
      ),
    });
    if (answer) await start('Revert to', 'revertToVMSnapshot', snapshot);
  };
  const remove = async (snapshot: VmSnapshot) => {
    const answer = await ask({
      title: `Delete the snapshot ${snapshot.displayName}?`,
      confirm: 'Delete',
      danger: true,
      body: <p>It cannot be reverted to afterwards. Its child snapshots move up to its parent.</p>,
    });
    if (answer) await start('Delete', 'deleteVMSnapshot', snapshot);
  };

  return (
    <div>
      <h2>Snapshots</h2>
      <ErrorNote error={error} />
      <ErrorNote error={actionError} onDismiss={() => setActionError(null)} />
      {loading && !data && <Loading what="snapshots" />}
      {data && data.length === 0 && <Empty>This instance has no VM snapshot.</Empty>}
      {data && data.length > 0 && (
        <TableBox label="Snapshots" className="cards-on-phone">
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">Type</th>
              <th scope="col">State</th>
              <th scope="col">Current</th>
              <th scope="col">Parent</th>
              <th scope="col">Created</th>
              <th scope="col">Manage</th>
            </tr>
          </thead>
          <tbody>
            {data.map((s) => {
              const job = running(s.id);
              return (
                <tr key={s.id} data-snapshot={s.displayName}>
                  <td data-label="Name">
                    <div>{s.displayName}</div>
                    {s.name !== s.displayName && <div className="muted small mono">{s.name}</div>}
                    {s.description && <div className="muted small">{s.description}</div>}
                  </td>
                  <td data-label="Type">{TYPE_LABELS[s.type]}</td>
                  <td data-label="State">
                    <StateBadge state={s.state} />
                    {job && (
                      <div className="row-job" aria-live="polite">
                        <span className="small">
                          {jobTitle(job.cmd)}: {job.step ?? 'queued'} {job.progress ?? 0} %
                        </span>
                        <ProgressBar value={job.progress ?? 0} label={`${jobTitle(job.cmd)} progress`} />
                      </div>
                    )}
                  </td>
                  <td data-label="Current">{s.current ? 'current' : '—'}</td>
                  <td data-label="Parent">{s.parentId ? (names.get(s.parentId) ?? s.parentId.slice(0, 8)) : '—'}</td>
                  <td data-label="Created">
                    <Time at={s.created} />
                  </td>
                  <td data-label="Manage">
                    <div className="row-actions">
                      <button
                        type="button"
                        className="small-button"
                        aria-label={`Revert to ${s.displayName}`}
                        disabled={busy || s.state !== 'Ready'}
                        title={revertFits(vm, s) ? undefined : 'A running instance reverts to a disk-and-memory snapshot, a stopped one to a disk snapshot'}
                        onClick={() => void revert(s)}
                      >
                        Revert
                      </button>
                      <button
                        type="button"
                        className="small-button danger"
                        aria-label={`Delete ${s.displayName}`}
                        disabled={busy || (s.state !== 'Ready' && s.state !== 'Error')}
                        onClick={() => void remove(s)}
                      >
                        Delete
                      </button>
                    </div>
                  </td>
                </tr>
              );
            })}
          </tbody>
        </TableBox>
      )}
      <NewSnapshot vm={vm} busy={busy} onStarted={(job) => (track(job), void reload())} />
      {dialog}
    </div>
  );
}

function NewSnapshot({ vm, busy, onStarted }: { vm: Vm; busy: boolean; onStarted: (job: Job) => void }) {
  const [name, setName] = useState('');
  const [description, setDescription] = useState('');
  const [memory, setMemory] = useState(true);
  const [error, setError] = useState<{ message: string; field: string | null } | null>(null);
  const [sending, setSending] = useState(false);
  // Memory can be kept only of a running instance (the API refuses it otherwise): offered only then.
  const running = vm.state === 'Running';
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setSending(true);
    setError(null);
    try {
      const { createVMSnapshot } = await gql<{ createVMSnapshot: Job }>(
        `mutation($vm: ID!, $name: String, $description: String, $memory: Boolean) {
          createVMSnapshot(virtualMachineId: $vm, name: $name, description: $description, snapshotMemory: $memory) { ${JOB_FIELDS} } }`,
        { vm: vm.id, name: name.trim() || null, description: description.trim() || null, memory: running && memory },
      );
      setName('');
      setDescription('');
      onStarted(createVMSnapshot);
    } catch (caught) {
      setError({ message: messageOf(caught), field: caught instanceof ApiError ? caught.field : null });
    } finally {
      setSending(false);
    }
  };
  const fieldError = (field: string) => (error?.field === field ? error.message : null);
  return (
    <form className="card" onSubmit={submit} aria-labelledby="new-snapshot-title">
      <h3 id="new-snapshot-title">Take a snapshot</h3>
      <div className="grid">
        <Field id="snapshot-name" label="Name (optional)" error={fieldError('name')} hint="Unique on the instance; the hypervisor's name when left empty.">
          <input id="snapshot-name" value={name} autoComplete="off" onChange={(e) => setName(e.target.value)} />
        </Field>
        <Field id="snapshot-description" label="Description (optional)" error={fieldError('description')}>
          <input id="snapshot-description" value={description} autoComplete="off" onChange={(e) => setDescription(e.target.value)} />
        </Field>
      </div>
      {running ? (
        <>
          <label className="check">
            <input type="checkbox" checked={memory} onChange={(e) => setMemory(e.target.checked)} aria-describedby={fieldError('snapshotMemory') ? 'snapshot-memory-error' : undefined} />
            Include memory (a revert brings the instance back running)
          </label>
          {fieldError('snapshotMemory') && (
            <div className="field-error" id="snapshot-memory-error" role="alert">
              {fieldError('snapshotMemory')}
            </div>
          )}
        </>
      ) : (
        <p className="hint">A disk snapshot{vm.state === 'Stopped' ? '' : ' (an instance is snapshotted while Running or Stopped)'}; memory can be kept only while the instance runs.</p>
      )}
      <ErrorNote error={error && !['name', 'description', 'snapshotMemory'].includes(error.field ?? '') ? error.message : null} />
      <button type="submit" className="primary" disabled={sending || busy}>
        Take the snapshot
      </button>
    </form>
  );
}
