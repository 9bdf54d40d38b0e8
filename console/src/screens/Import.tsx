// Import (root admin, as the API's import operations are): choose a zone and a cluster, then a guest
// vmledger does not manage, either a domain on one of the cluster's hosts (unmanagedInstances), a
// stopped VM of an external KVM host, or a powered-off guest of a VMware host (vmsForImport, reached
// over SSH with a login the operator types), and take it through the import wizard; the zone's VMware
// conversions (importVmTasks) are listed under theirs. A host's password lives in this screen's memory
// only: never in a URL, never in storage, gone when the screen is left.
import { useCallback, useEffect, useRef, useState, type FormEvent } from 'react';
import { ApiError, gql, messageOf } from '../api.ts';
import { list, useCatalog } from '../catalog.tsx';
import { formatBytes, formatDuration, formatMHz, formatMiB, Time } from '../format.tsx';
import { useJobUpdates } from '../jobs.tsx';
import { EXTERNAL_INSTANCE_FIELDS, UNMANAGED_INSTANCE_FIELDS, type Cluster, type Connection, type Guest, type Job } from '../model.ts';
import { Link, navigate, useLocation } from '../router.tsx';
import { Empty, ErrorNote, Field, Loading, ProgressBar, TableBox, useData } from '../ui.tsx';
import { ImportWizard, PowerState, type ExternalLogin, type ImportSourceKind } from './ImportWizard.tsx';

const TABS = [
  ['unmanaged', 'Unmanaged instances'],
  ['external', 'External KVM host'],
  ['vmware', 'VMware host'],
] as const;
type Tab = (typeof TABS)[number][0];

interface Chosen {
  source: ImportSourceKind;
  guest: Guest;
  login: ExternalLogin | null;
}

export function Import({ tab }: { tab: string }) {
  const catalog = useCatalog();
  const { query } = useLocation();
  const active: Tab = TABS.some(([key]) => key === tab) ? (tab as Tab) : 'unmanaged';
  const zoneId = query.get('zone') ?? '';
  const clusterId = query.get('cluster') ?? '';
  const clusters = useData(() => list<Cluster>('clusters', 'id zoneId name hypervisor created'), []);
  const zoneClusters = (clusters.data ?? []).filter((cluster) => cluster.zoneId === zoneId);
  const [chosen, setChosen] = useState<Chosen | null>(null);
  // Each remote host's login, typed once and kept while the screen is open (memory only).
  const [logins, setLogins] = useState<Record<RemoteSource, ExternalLogin>>({ EXTERNAL: { host: '', username: '', password: '' }, VMWARE: { host: '', username: '', password: '' } });
  // What the remote host listed, kept (in memory) while the wizard is open for one of its VMs.
  const [remoteGuests, setRemoteGuests] = useState<Guest[] | null>(null);
  const [refreshTick, setRefreshTick] = useState(0);

  const place = (zone: string, cluster: string, to: Tab = active) => {
    const params = new URLSearchParams();
    if (zone) params.set('zone', zone);
    if (cluster) params.set('cluster', cluster);
    const search = params.toString();
    navigate(`/import/${to}${search ? `?${search}` : ''}`, { replace: true });
  };

  // One zone, or one cluster in the zone: chosen for the operator.
  useEffect(() => {
    if (!zoneId && catalog.zones.length === 1) place(catalog.zones[0]!.id, clusterId);
    else if (zoneId && !clusterId && zoneClusters.length === 1) place(zoneId, zoneClusters[0]!.id);
  });
  // Another tab, zone or cluster: the wizard was for a guest of the previous one.
  useEffect(() => {
    setChosen(null);
    setRemoteGuests(null);
  }, [active, zoneId, clusterId]);

  const cluster = zoneClusters.find((c) => c.id === clusterId);

  if (chosen && zoneId) {
    return (
      <ImportWizard
        source={chosen.source}
        guest={chosen.guest}
        zoneId={zoneId}
        clusterId={cluster?.id ?? null}
        login={chosen.login}
        onClose={(imported) => {
          setChosen(null);
          // An imported guest is no longer to be imported: the lists are asked again.
          if (imported) {
            setRemoteGuests(null);
            setRefreshTick((tick) => tick + 1);
          }
        }}
      />
    );
  }

  return (
    <section aria-labelledby="import-title">
      <h1 id="import-title">Import</h1>
      <p className="muted">
        Bring a virtual machine vmledger does not manage under its management: a domain on one of its hosts, a stopped VM of another KVM host whose disks are copied, or a
        powered-off VMware guest converted to KVM.
      </p>
      <form className="filters" aria-label="Where to import" onSubmit={(event) => event.preventDefault()}>
        <div className="field">
          <label htmlFor="import-zone">Zone</label>
          <select id="import-zone" value={zoneId} onChange={(e) => place(e.target.value, '')}>
            <option value="">Choose a zone</option>
            {catalog.zones.map((zone) => (
              <option key={zone.id} value={zone.id}>
                {zone.name}
              </option>
            ))}
          </select>
        </div>
        <div className="field">
          <label htmlFor="import-cluster">{active === 'unmanaged' ? 'Cluster' : 'Destination cluster'}</label>
          <select id="import-cluster" value={clusterId} disabled={!zoneId} onChange={(e) => place(zoneId, e.target.value)}>
            <option value="">{active === 'external' ? "The zone's first KVM cluster with an Up host" : 'Choose a cluster'}</option>
            {zoneClusters.map((c) => (
              <option key={c.id} value={c.id}>
                {c.name} ({c.hypervisor})
              </option>
            ))}
          </select>
        </div>
      </form>
      <ErrorNote error={clusters.error ? `Could not load the clusters: ${clusters.error}` : null} />
      <nav className="tabs" aria-label="Import sources">
        {TABS.map(([key, label]) => (
          <Link key={key} to={`/import/${key}${location.search}`} aria-current={key === active ? 'page' : undefined}>
            {label}
          </Link>
        ))}
      </nav>
      {!zoneId && <Empty>Choose a zone first.</Empty>}
      {zoneId && active === 'unmanaged' && !clusterId && (clusters.loading && !clusters.data ? <Loading what="the clusters" /> : zoneClusters.length === 0 ? <Empty>This zone has no cluster.</Empty> : <Empty>Choose a cluster: its hosts' unmanaged domains are listed here.</Empty>)}
      {zoneId && active === 'unmanaged' && clusterId && (
        <UnmanagedList key={`${clusterId}-${refreshTick}`} clusterId={clusterId} onChoose={(guest) => setChosen({ source: 'UNMANAGED', guest, login: null })} />
      )}
      {zoneId && active !== 'unmanaged' && (
        <RemoteHost
          key={`${active}-${zoneId}-${refreshTick}`}
          source={active === 'vmware' ? 'VMWARE' : 'EXTERNAL'}
          zoneId={zoneId}
          login={logins[active === 'vmware' ? 'VMWARE' : 'EXTERNAL']}
          setLogin={(login) => setLogins((all) => ({ ...all, [active === 'vmware' ? 'VMWARE' : 'EXTERNAL']: login }))}
          guests={remoteGuests}
          setGuests={setRemoteGuests}
          askAtOnce={refreshTick > 0}
          onChoose={(guest, source, login) => setChosen({ source, guest, login })}
        />
      )}
      {zoneId && active === 'vmware' && <Conversions zoneId={zoneId} />}
    </section>
  );
}

function UnmanagedList({ clusterId, onChoose }: { clusterId: string; onChoose: (guest: Guest) => void }) {
  const catalog = useCatalog();
  const { data, error, loading, reload } = useData(
    () =>
      gql<{ unmanagedInstances: Connection<Guest> }>(`query($clusterId: ID!) { unmanagedInstances(clusterId: $clusterId) { nodes { ${UNMANAGED_INSTANCE_FIELDS} } totalCount } }`, { clusterId }).then(
        (d) => d.unmanagedInstances.nodes,
      ),
    [clusterId],
  );
  return (
    <div>
      <div className="heading">
        <p className="muted">The domains on the cluster's Up hosts that vmledger does not manage, running and stopped (each host's agent is asked).</p>
        <button type="button" onClick={() => void reload()} disabled={loading}>
          {loading ? 'Asking the hosts…' : 'Ask the hosts again'}
        </button>
      </div>
      <ErrorNote error={error} />
      {loading && !data && <Loading what="the unmanaged instances (asking each host's agent)" />}
      {data && data.length === 0 && <Empty>Every domain on this cluster's hosts is managed by vmledger: nothing to import.</Empty>}
      {data && data.length > 0 && <GuestTable guests={data} where={(guest) => catalog.name('host', guest.hostId)} whereLabel="Host" onChoose={onChoose} />}
    </div>
  );
}

type RemoteSource = 'EXTERNAL' | 'VMWARE';

/** A host vmledger does not manage, reached over SSH by an agent of the zone: an external KVM host, or a VMware (ESXi) host. */
function RemoteHost({
  source,
  zoneId,
  login,
  setLogin,
  guests,
  setGuests,
  askAtOnce,
  onChoose,
}: {
  source: RemoteSource;
  zoneId: string;
  login: ExternalLogin;
  setLogin: (login: ExternalLogin) => void;
  guests: Guest[] | null;
  setGuests: (guests: Guest[] | null) => void;
  /** Back from an import: list the host's VMs again with the login still in memory. */
  askAtOnce: boolean;
  onChoose: (guest: Guest, source: RemoteSource, login: ExternalLogin) => void;
}) {
  const [error, setError] = useState<{ message: string; field: string | null } | null>(null);
  const [busy, setBusy] = useState(false);
  const ask = async (event?: FormEvent) => {
    event?.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const { vmsForImport } = await gql<{ vmsForImport: Connection<Guest> }>(
        `query($zoneId: ID!, $host: String!, $username: String!, $password: String, $importSource: ImportSource) { vmsForImport(zoneId: $zoneId, host: $host, username: $username, password: $password, importSource: $importSource) { nodes { ${EXTERNAL_INSTANCE_FIELDS} } totalCount } }`,
        { zoneId, host: login.host.trim(), username: login.username, password: login.password === '' ? null : login.password, importSource: source },
      );
      setGuests(vmsForImport.nodes);
    } catch (caught) {
      setGuests(null);
      setError({ message: messageOf(caught), field: caught instanceof ApiError ? caught.field : null });
    } finally {
      setBusy(false);
    }
  };
  const asked = useRef(false);
  useEffect(() => {
    if (asked.current || !askAtOnce || !login.host || !login.username) return;
    asked.current = true;
    void ask();
  });
  const fieldError = (field: string) => (error?.field === field ? error.message : null);
  return (
    <div>
      <form className="card" onSubmit={(event) => void ask(event)} aria-label={source === 'VMWARE' ? 'VMware host' : 'External KVM host'}>
        <p className="muted">
          {source === 'VMWARE'
            ? "An agent of this zone logs in to the VMware (ESXi) host over SSH and lists the guests on its datastores; a powered-off one is converted to KVM with virt-v2v on a host of the destination cluster."
            : 'An agent of this zone logs in to the host over SSH and lists its stopped VMs.'}{' '}
          The password is sent with each request only, and kept nowhere (it is gone when you leave this screen).
        </p>
        <div className="grid">
          <Field id="external-host" label="Host (name or address, :port optional)" error={fieldError('host')}>
            <input id="external-host" value={login.host} autoComplete="off" required onChange={(e) => setLogin({ ...login, host: e.target.value })} />
          </Field>
          <Field id="external-username" label="Username" error={fieldError('username')}>
            <input id="external-username" value={login.username} autoComplete="off" required onChange={(e) => setLogin({ ...login, username: e.target.value })} />
          </Field>
          <Field id="external-password" label="Password" error={fieldError('password')}>
            <input id="external-password" type="password" value={login.password} autoComplete="off" onChange={(e) => setLogin({ ...login, password: e.target.value })} />
          </Field>
        </div>
        <ErrorNote error={error && !['host', 'username', 'password'].includes(error.field ?? '') ? error.message : null} />
        <button type="submit" className="primary" disabled={busy || login.host.trim() === '' || login.username.trim() === ''}>
          {busy ? 'Listing its VMs…' : 'List its VMs'}
        </button>
      </form>
      {guests && guests.length === 0 && (
        <Empty>{source === 'VMWARE' ? 'The host has no guest on its datastores.' : 'The host has no stopped VM vmledger could import (running ones are not offered).'}</Empty>
      )}
      {guests && guests.length > 0 && (
        <GuestTable
          guests={guests}
          where={(guest) => guest.host ?? ''}
          whereLabel="Host"
          onChoose={(guest) => onChoose(guest, source, login)}
          // Without vCenter there is no clone of a running VMware guest to convert (docs/api.md).
          refuse={source === 'VMWARE' ? (guest) => (guest.powerState === 'PowerOn' ? 'Shut it down first: a running guest cannot be converted without vCenter.' : null) : undefined}
        />
      )}
    </div>
  );
}

function GuestTable({
  guests,
  where,
  whereLabel,
  onChoose,
  refuse,
}: {
  guests: Guest[];
  where: (guest: Guest) => string;
  whereLabel: string;
  onChoose: (guest: Guest) => void;
  /** Why a guest cannot be imported as it is, or null when it can. */
  refuse?: (guest: Guest) => string | null;
}) {
  return (
    <TableBox label="Guests to import" className="cards-on-phone">
      <thead>
        <tr>
          <th scope="col">Name</th>
          <th scope="col">{whereLabel}</th>
          <th scope="col">Power</th>
          <th scope="col">CPU</th>
          <th scope="col">Memory</th>
          <th scope="col">Disks</th>
          <th scope="col">NICs</th>
          <th scope="col">Import</th>
        </tr>
      </thead>
      <tbody>
        {guests.map((guest) => (
          <tr key={`${where(guest)}/${guest.name}`} data-guest={guest.name}>
            <td data-label="Name">
              <span className="mono">{guest.name}</span>
              {guest.osDisplayName && <div className="muted small">{guest.osDisplayName}</div>}
            </td>
            <td data-label={whereLabel}>{where(guest)}</td>
            <td data-label="Power">
              <PowerState state={guest.powerState} />
            </td>
            <td data-label="CPU">
              {guest.cpuNumber} × {guest.cpuSpeed > 0 ? formatMHz(guest.cpuSpeed) : 'unknown MHz'}
            </td>
            <td data-label="Memory">{formatMiB(guest.memory)}</td>
            <td data-label="Disks">
              <ul className="plain">
                {guest.disks.map((disk) => (
                  <li key={disk.id}>
                    {disk.id}: {formatBytes(disk.capacity)} <span className="muted small">{disk.controller}</span>
                  </li>
                ))}
              </ul>
            </td>
            <td data-label="NICs">
              <ul className="plain">
                {guest.nics.map((nic) => (
                  <li key={nic.id}>
                    {nic.id}: <span className="mono">{nic.macAddress}</span>
                    <span className="muted small">{nic.vlanId ? ` VLAN ${nic.vlanId}` : ''}{nic.ipAddress ? ` ${nic.ipAddress}` : ''}</span>
                  </li>
                ))}
                {guest.nics.length === 0 && <li className="muted">none</li>}
              </ul>
            </td>
            <td data-label="Import">
              {refuse?.(guest) ? (
                <span className="muted small">{refuse(guest)}</span>
              ) : (
                <button type="button" className="small-button primary" aria-label={`Import ${guest.name}`} onClick={() => onChoose(guest)}>
                  Import…
                </button>
              )}
            </td>
          </tr>
        ))}
      </tbody>
    </TableBox>
  );
}

interface ImportVmTask {
  id: string; virtualMachineId: string | null; displayName: string; state: 'Running' | 'Completed' | 'Failed'; sourceHost: string; sourceVmName: string;
  step: string; progress: number; description: string; duration: number; created: string;
}

/** The zone's VMware conversions (importVmTasks), newest first, read again as their jobs' pushes arrive. */
function Conversions({ zoneId }: { zoneId: string }) {
  const { data, error, loading, reload } = useData(
    () =>
      gql<{ importVmTasks: Connection<ImportVmTask> }>(
        `query($zoneId: ID!) { importVmTasks(zoneId: $zoneId, first: 20) { nodes { id virtualMachineId displayName state sourceHost sourceVmName step progress description duration created } totalCount } }`,
        { zoneId },
      ).then((d) => d.importVmTasks.nodes),
    [zoneId],
  );
  useJobUpdates(
    useCallback(
      (job: Job) => {
        if (job.cmd === 'importVm') void reload();
      },
      [reload],
    ),
  );
  return (
    <section aria-labelledby="conversions-title">
      <h2 id="conversions-title">Conversions in this zone</h2>
      <ErrorNote error={error} />
      {loading && !data && <Loading what="the conversions" />}
      {data && data.length === 0 && <Empty>No VMware guest has been converted in this zone yet.</Empty>}
      {data && data.length > 0 && (
        <TableBox label="Conversions" className="cards-on-phone">
          <thead>
            <tr>
              <th scope="col">Guest</th>
              <th scope="col">Instance</th>
              <th scope="col">State</th>
              <th scope="col">Step</th>
              <th scope="col">Took</th>
              <th scope="col">Started</th>
            </tr>
          </thead>
          <tbody>
            {data.map((task) => (
              <tr key={task.id} data-conversion={task.sourceVmName}>
                <td data-label="Guest">
                  <span className="mono">{task.sourceVmName}</span> <span className="muted small">on {task.sourceHost}</span>
                </td>
                <td data-label="Instance">{task.virtualMachineId ? <Link to={`/instances/${task.virtualMachineId}`}>{task.displayName}</Link> : task.displayName}</td>
                <td data-label="State">
                  <span className={`state ${task.state === 'Completed' ? 'state-ready' : task.state === 'Failed' ? 'state-error' : 'state-creating'}`}>{task.state}</span>
                  {task.state === 'Failed' && <div className="field-error">{task.description}</div>}
                </td>
                <td data-label="Step">
                  <span className="small">
                    {task.step} {task.progress} %
                  </span>
                  <ProgressBar value={task.progress} label={`Conversion of ${task.sourceVmName}`} />
                </td>
                <td data-label="Took">{formatDuration(task.duration * 1000)}</td>
                <td data-label="Started">
                  <Time at={task.created} />
                </td>
              </tr>
            ))}
          </tbody>
        </TableBox>
      )}
    </section>
  );
}
