// One instance: what it is and runs on, its NICs and volumes, its lease and delete protection, its
// VM snapshots, schedules and affinity groups, and its history (the action events, and the instance as it was at any moment).
import { useCallback, useRef, useState, type FormEvent } from 'react';
import { actionsFor, ACTION_LABELS, confirmAndRun, confirmAndUnmanage, mayUnmanage, useConfirm, type Action } from '../actions.tsx';
import { ApiError, gql, messageOf } from '../api.ts';
import { useCatalog } from '../catalog.tsx';
import { formatBytes, formatDuration, formatMHz, formatMiB, Time } from '../format.tsx';
import { jobTitle, useJobs, useJobUpdates } from '../jobs.tsx';
import { VM_FIELDS, type Job, type Vm } from '../model.ts';
import { Link } from '../router.tsx';
import { useSession } from '../session.tsx';
import { Empty, ErrorNote, Field, Loading, ProgressBar, StateBadge, TableBox, useData } from '../ui.tsx';
import { History } from './History.tsx';
import { InstanceAffinity } from './InstanceAffinity.tsx';
import { Schedules } from './Schedules.tsx';
import { Snapshots } from './Snapshots.tsx';

const TABS = [
  ['overview', 'Overview'],
  ['nics', 'NICs'],
  ['volumes', 'Volumes'],
  ['snapshots', 'Snapshots'],
  ['schedules', 'Schedules'],
  ['affinity', 'Affinity groups'],
  ['history', 'History'],
] as const;
type Tab = (typeof TABS)[number][0];

export function InstanceDetail({ id, tab }: { id: string; tab: string }) {
  const active: Tab = TABS.some(([t]) => t === tab) ? (tab as Tab) : 'overview';
  const { data: vm, error, loading, reload } = useData(
    () => gql<{ virtualMachine: Vm | null }>(`query($id: ID!) { virtualMachine(id: $id) { ${VM_FIELDS} } }`, { id }).then((d) => d.virtualMachine),
    [id],
  );
  const [historyTick, setHistoryTick] = useState(0);
  const { jobs } = useJobs();
  // The name it had, for the words shown once it has left vmledger (unmanaged).
  const lastName = useRef<string | null>(null);
  if (vm) lastName.current = vm.name;
  useJobUpdates(
    useCallback(
      (job: Job) => {
        if (job.instanceId !== id) return;
        void reload();
        if (job.status !== 'PENDING') setHistoryTick((t) => t + 1);
      },
      [id, reload],
    ),
  );

  if (loading && vm === undefined) return <Loading what="the instance" />;
  if (error && vm === undefined) return <ErrorNote error={error} />;
  if (!vm && jobs.some((job) => job.cmd === 'unmanageVirtualMachine' && job.instanceId === id && job.status === 'SUCCEEDED')) {
    return (
      <Empty>
        {lastName.current ?? 'The instance'} was unmanaged: it has left vmledger, and its domain stays defined on its host. The <Link to="/import">Import</Link> screen lists it
        among the cluster's unmanaged instances. <Link to="/instances">Back to the instances.</Link>
      </Empty>
    );
  }
  if (!vm) {
    return (
      <Empty>
        No instance with id {id} is visible to you. <Link to="/instances">Back to the instances.</Link>
      </Empty>
    );
  }
  return (
    <section aria-labelledby="instance-title">
      <p className="crumbs">
        <Link to="/instances">Instances</Link> / {vm.name}
      </p>
      <div className="heading">
        <h1 id="instance-title">
          {vm.displayName} <StateBadge state={vm.state} />
        </h1>
        <InstanceActions vm={vm} onChanged={reload} />
      </div>
      <ErrorNote error={error} />
      <nav className="tabs" aria-label="Instance sections">
        {TABS.map(([key, label]) => (
          <Link key={key} to={`/instances/${vm.id}${key === 'overview' ? '' : `/${key}`}`} aria-current={key === active ? 'page' : undefined}>
            {label}
          </Link>
        ))}
      </nav>
      {active === 'overview' && <Overview vm={vm} onChanged={reload} />}
      {active === 'nics' && <Nics vm={vm} />}
      {active === 'volumes' && <Volumes vm={vm} />}
      {active === 'snapshots' && <Snapshots vm={vm} />}
      {active === 'schedules' && <Schedules vm={vm} />}
      {active === 'affinity' && <InstanceAffinity vm={vm} onChanged={reload} />}
      {active === 'history' && <History vm={vm} refresh={historyTick} />}
    </section>
  );
}

function InstanceActions({ vm, onChanged }: { vm: Vm; onChanged: () => Promise<void> }) {
  const session = useSession();
  const catalog = useCatalog();
  const { jobs, track } = useJobs();
  const [dialog, ask] = useConfirm();
  const [error, setError] = useState<string | null>(null);
  const job = jobs.find((j) => j.instanceId === vm.id && j.status === 'PENDING');
  const act = async (action: Action) => {
    setError(null);
    try {
      const outcome = await confirmAndRun(action, vm, ask, catalog.hosts);
      if (outcome?.job) track(outcome.job);
      if (outcome?.vm) await onChanged();
    } catch (caught) {
      setError(`${ACTION_LABELS[action]}: ${messageOf(caught)}`);
    }
  };
  const unmanage = async () => {
    setError(null);
    try {
      const started = await confirmAndUnmanage(vm, ask);
      if (started) track(started);
    } catch (caught) {
      setError(`Unmanage: ${messageOf(caught)}`);
    }
  };
  return (
    <div className="actions-box">
      <div className="row-actions">
        {actionsFor(vm, session.isAdmin).map((action) => (
          <button
            key={action}
            type="button"
            className={action === 'destroy' ? 'danger' : ''}
            disabled={Boolean(job) || (action === 'destroy' && vm.deleteProtection)}
            title={action === 'destroy' && vm.deleteProtection ? 'Delete protection is on' : undefined}
            onClick={() => void act(action)}
          >
            {ACTION_LABELS[action]}
          </button>
        ))}
        {mayUnmanage(vm, session.isRootAdmin) && (
          <button type="button" className="danger" disabled={Boolean(job)} onClick={() => void unmanage()}>
            Unmanage
          </button>
        )}
      </div>
      {job && (
        <div className="row-job" aria-live="polite">
          <span className="small">
            {jobTitle(job.cmd)}: {job.step ?? 'queued'} {job.progress ?? 0} %
          </span>
          <ProgressBar value={job.progress ?? 0} label={`${jobTitle(job.cmd)} progress`} />
        </div>
      )}
      <ErrorNote error={error} onDismiss={() => setError(null)} />
      {dialog}
    </div>
  );
}

function Overview({ vm, onChanged }: { vm: Vm; onChanged: () => Promise<void> }) {
  const session = useSession();
  const catalog = useCatalog();
  return (
    <div className="cards">
      <div className="card">
        <h2>Instance</h2>
        <dl className="facts">
          <dt>Name</dt>
          <dd className="mono">{vm.name}</dd>
          <dt>Zone</dt>
          <dd>{catalog.name('zone', vm.zoneId)}</dd>
          <dt>Template</dt>
          <dd>{catalog.name('template', vm.templateId)}</dd>
          <dt>Offering</dt>
          <dd>{catalog.name('offering', vm.serviceOfferingId)}</dd>
          <dt>Compute</dt>
          <dd>
            {vm.cpuNumber} × {formatMHz(vm.cpuSpeed)}, {formatMiB(vm.memory)}
          </dd>
          <dt>Account</dt>
          <dd>{session.accountNames.get(vm.accountId) ?? vm.accountId}</dd>
          {vm.group && (
            <>
              <dt>Group</dt>
              <dd>{vm.group}</dd>
            </>
          )}
          {session.isAdmin && (
            <>
              <dt>Host</dt>
              <dd>{vm.hostId ? catalog.name('host', vm.hostId) : '—'}</dd>
              <dt>Last host</dt>
              <dd>{vm.lastHostId ? catalog.name('host', vm.lastHostId) : '—'}</dd>
              <dt>Hypervisor name</dt>
              <dd className="mono">{vm.instanceName ?? '—'}</dd>
            </>
          )}
          <dt>Created</dt>
          <dd>
            <Time at={vm.created} />
          </dd>
          <dt>Id</dt>
          <dd className="mono small">{vm.id}</dd>
        </dl>
      </div>
      <DeleteProtection vm={vm} onChanged={onChanged} />
      <Lease vm={vm} onChanged={onChanged} />
    </div>
  );
}

function DeleteProtection({ vm, onChanged }: { vm: Vm; onChanged: () => Promise<void> }) {
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const toggle = async () => {
    setBusy(true);
    setError(null);
    try {
      await gql(`mutation($id: ID!, $on: Boolean) { updateVirtualMachine(id: $id, deleteProtection: $on) { id deleteProtection } }`, { id: vm.id, on: !vm.deleteProtection });
      await onChanged();
    } catch (caught) {
      setError(messageOf(caught));
    } finally {
      setBusy(false);
    }
  };
  return (
    <div className="card">
      <h2>Delete protection</h2>
      <p>{vm.deleteProtection ? 'On: the instance cannot be destroyed until it is turned off.' : 'Off: the instance can be destroyed.'}</p>
      <button type="button" onClick={() => void toggle()} disabled={busy} aria-pressed={vm.deleteProtection}>
        {vm.deleteProtection ? 'Turn delete protection off' : 'Turn delete protection on'}
      </button>
      <ErrorNote error={error} />
    </div>
  );
}

function Lease({ vm, onChanged }: { vm: Vm; onChanged: () => Promise<void> }) {
  const [days, setDays] = useState('');
  const [action, setAction] = useState('');
  const [error, setError] = useState<{ message: string; field: string | null } | null>(null);
  const [busy, setBusy] = useState(false);
  const [dialog, ask] = useConfirm();
  const update = async (leaseDuration: number, leaseExpiryAction: string | null) => {
    setBusy(true);
    setError(null);
    try {
      await gql(`mutation($id: ID!, $days: Int, $action: LeaseExpiryAction) { updateVirtualMachine(id: $id, leaseDuration: $days, leaseExpiryAction: $action) { id } }`, {
        id: vm.id,
        days: leaseDuration,
        action: leaseExpiryAction,
      });
      setDays('');
      await onChanged();
    } catch (caught) {
      setError({ message: messageOf(caught), field: caught instanceof ApiError ? caught.field : null });
    } finally {
      setBusy(false);
    }
  };
  const extend = (event: FormEvent) => {
    event.preventDefault();
    // The API takes a new duration only with its expiry action (CloudStack asks for both).
    void update(Number(days), action || vm.leaseExpiryAction);
  };
  const cancel = async () => {
    const answer = await ask({ title: 'Cancel the lease?', confirm: 'Cancel the lease', danger: true, body: <p>The lease is disabled for good: it cannot be set again on this instance.</p> });
    if (answer) await update(-1, null);
  };
  if (!vm.leaseExpiryDate) {
    return (
      <div className="card">
        <h2>Lease</h2>
        <p className="muted">No lease is pending on this instance.</p>
      </div>
    );
  }
  const left = Date.parse(vm.leaseExpiryDate) - Date.now();
  return (
    <div className="card">
      <h2>Lease</h2>
      <p>
        {vm.leaseExpiryAction === 'DESTROY' ? 'Destroyed' : 'Stopped'} at <Time at={vm.leaseExpiryDate} /> ({formatDuration(left)} left).
      </p>
      <form onSubmit={extend} className="inline-form">
        <Field id="lease-days" label="New lease, days from now" error={error?.field === 'leaseDuration' ? error.message : null}>
          <input id="lease-days" inputMode="numeric" value={days} onChange={(e) => setDays(e.target.value)} required />
        </Field>
        <Field id="lease-action" label="Then" error={error?.field === 'leaseExpiryAction' ? error.message : null}>
          <select id="lease-action" value={action} onChange={(e) => setAction(e.target.value)}>
            <option value="">As now ({vm.leaseExpiryAction})</option>
            <option value="STOP">Stop it</option>
            <option value="DESTROY">Destroy it</option>
          </select>
        </Field>
        <button type="submit" disabled={busy || days === ''}>
          Extend the lease
        </button>
      </form>
      <button type="button" className="danger" disabled={busy} onClick={() => void cancel()}>
        Cancel the lease
      </button>
      <ErrorNote error={error && !error.field ? error.message : null} />
      {dialog}
    </div>
  );
}

function Nics({ vm }: { vm: Vm }) {
  const catalog = useCatalog();
  if (vm.nics.length === 0) return <Empty>This instance has no NIC.</Empty>;
  return (
    <TableBox label="NICs" className="cards-on-phone">
      <thead>
        <tr>
          <th scope="col">Device</th>
          <th scope="col">Network</th>
          <th scope="col">IP address</th>
          <th scope="col">MAC address</th>
          <th scope="col">Default</th>
        </tr>
      </thead>
      <tbody>
        {[...vm.nics]
          .sort((a, b) => a.deviceId - b.deviceId)
          .map((nic) => (
            <tr key={nic.id}>
              <td data-label="Device">{nic.deviceId}</td>
              <td data-label="Network">{catalog.name('network', nic.networkId)}</td>
              <td data-label="IP address" className="mono">{nic.ipAddress ?? '— (the network has no addresses)'}</td>
              <td data-label="MAC address" className="mono">{nic.macAddress}</td>
              <td data-label="Default">{nic.isDefault ? 'yes' : 'no'}</td>
            </tr>
          ))}
      </tbody>
    </TableBox>
  );
}

function Volumes({ vm }: { vm: Vm }) {
  if (vm.volumes.length === 0) return <Empty>This instance has no volume.</Empty>;
  return (
    <TableBox label="Volumes" className="cards-on-phone">
      <thead>
        <tr>
          <th scope="col">Name</th>
          <th scope="col">Type</th>
          <th scope="col">Size</th>
          <th scope="col">State</th>
        </tr>
      </thead>
      <tbody>
        {vm.volumes.map((volume) => (
          <tr key={volume.id}>
            <td data-label="Name" className="mono">{volume.name}</td>
            <td data-label="Type">{volume.type}</td>
            <td data-label="Size">{formatBytes(volume.size)}</td>
            <td data-label="State">{volume.state}</td>
          </tr>
        ))}
      </tbody>
    </TableBox>
  );
}
