// Administration: zones with their clusters and hosts (capacity bars), storage pools, offerings,
// accounts and configuration. The root admin sees every tab; a domain admin the offerings and the
// accounts of its subtree (the API refuses the rest to it anyway).
import { useState, type FormEvent } from 'react';
import { ApiError, gql, messageOf } from '../api.ts';
import { HOST_FIELDS, OFFERING_FIELDS, useCatalog } from '../catalog.tsx';
import { formatBytes, formatMHz, formatMiB, Time } from '../format.tsx';
import { allPages, type Account, type Cluster, type Configuration, type Connection, type DiskOffering, type Host, type ServiceOffering, type StoragePool, type Zone } from '../model.ts';
import { Link } from '../router.tsx';
import { useSession } from '../session.tsx';
import { CapacityBar, Empty, ErrorNote, Field, Loading, TableBox, useData } from '../ui.tsx';

const TABS = [
  ['infrastructure', 'Zones and hosts', true],
  ['storage', 'Storage pools', true],
  ['offerings', 'Offerings', false],
  ['accounts', 'Accounts', false],
  ['configuration', 'Configuration', true],
] as const;

function list<T>(field: string, selection: string): Promise<T[]> {
  return allPages((after) =>
    gql<Record<string, Connection<T>>>(`query($after: String) { ${field}(first: 100, after: $after) { nodes { ${selection} } pageInfo { hasNextPage endCursor } totalCount } }`, { after }).then((d) => d[field]!),
  );
}

export function Admin({ tab }: { tab: string }) {
  const session = useSession();
  const tabs = TABS.filter(([, , rootOnly]) => session.isRootAdmin || !rootOnly);
  const active = tabs.find(([key]) => key === tab)?.[0] ?? tabs[0]![0];
  return (
    <section aria-labelledby="admin-title">
      <h1 id="admin-title">Administration</h1>
      <nav className="tabs" aria-label="Administration sections">
        {tabs.map(([key, label]) => (
          <Link key={key} to={`/admin/${key}`} aria-current={key === active ? 'page' : undefined}>
            {label}
          </Link>
        ))}
      </nav>
      {active === 'infrastructure' && <Infrastructure />}
      {active === 'storage' && <StoragePools />}
      {active === 'offerings' && <Offerings />}
      {active === 'accounts' && <Accounts />}
      {active === 'configuration' && <Configurations />}
    </section>
  );
}

function Infrastructure() {
  const { data, error, loading } = useData(
    () =>
      Promise.all([
        list<Zone>('zones', 'id name networkType allocationState created'),
        list<Cluster>('clusters', 'id zoneId name hypervisor created'),
        list<Host>('hosts', HOST_FIELDS),
      ]),
    [],
  );
  if (loading && !data) return <Loading what="zones, clusters and hosts" />;
  if (error) return <ErrorNote error={error} />;
  if (!data) return null;
  const [zones, clusters, hosts] = data;
  if (zones.length === 0) return <Empty>No zone yet: create one with the createZone mutation.</Empty>;
  return (
    <div>
      {zones.map((zone) => (
        <div key={zone.id} className="card">
          <h2>
            {zone.name} <span className="muted small">{zone.networkType}, {zone.allocationState}</span>
          </h2>
          {clusters.filter((c) => c.zoneId === zone.id).length === 0 && <Empty>No cluster in this zone.</Empty>}
          {clusters
            .filter((c) => c.zoneId === zone.id)
            .map((cluster) => {
              const clusterHosts = hosts.filter((h) => h.clusterId === cluster.id && !h.removed);
              return (
                <div key={cluster.id} className="cluster">
                  <h3>
                    {cluster.name} <span className="muted small">{cluster.hypervisor}</span>
                  </h3>
                  {clusterHosts.length === 0 && <Empty>No host in this cluster.</Empty>}
                  <div className="host-grid">
                    {clusterHosts.map((host) => (
                      <div key={host.id} className="host" data-host={host.name}>
                        <div className="host-head">
                          <strong>{host.name}</strong>
                          <span className={`status status-${host.status.toLowerCase()}`}>{host.status}</span>
                        </div>
                        <div className="muted small">
                          {host.driver}, {host.cpuNumber} × {formatMHz(host.cpuSpeed)}, {formatMiB(host.memory)}, {host.resourceState}, {host.reservationCount} instance
                          {host.reservationCount === 1 ? '' : 's'}
                          {host.hostTags.length > 0 && `, tags ${host.hostTags.join(', ')}`}
                        </div>
                        <CapacityBar label="CPU" used={host.cpuAllocated} total={host.cpuTotal} format={formatMHz} />
                        <CapacityBar label="Memory" used={host.memoryAllocated} total={host.memoryTotal} format={formatMiB} />
                        <HostCapabilities host={host} />
                      </div>
                    ))}
                  </div>
                </div>
              );
            })}
        </div>
      ))}
    </div>
  );
}

/** What a host's agent last reported it can do, in words, with the API's name on hover. */
const CAPABILITY_TEXT: Record<string, string> = {
  'snapshot.memory': 'memory snapshots',
  'snapshot.disk.stopped': 'disk snapshots when stopped',
  'snapshot.disk.running': 'disk snapshots when running',
  'instance.conversion': 'instance conversion (virt-v2v)',
};

function HostCapabilities({ host }: { host: Host }) {
  if (host.capabilities.length === 0) return <div className="muted small">Capabilities: none reported</div>;
  return (
    <ul className="chips" aria-label={`Capabilities of ${host.name}`} title="What the host's agent last reported it can do">
      {host.capabilities.map((c) => (
        <li key={c} title={c} data-capability={c}>
          {CAPABILITY_TEXT[c] ?? c}
        </li>
      ))}
    </ul>
  );
}

function StoragePools() {
  const catalog = useCatalog();
  const { data, error, loading } = useData(() => list<StoragePool>('storagePools', 'id name zoneId clusterId hostId scope type server path capacityBytes allocatedBytes tags'), []);
  if (loading && !data) return <Loading what="storage pools" />;
  if (error) return <ErrorNote error={error} />;
  if (!data || data.length === 0) return <Empty>No storage pool yet.</Empty>;
  return (
    <div className="host-grid">
      {data.map((pool) => (
        <div key={pool.id} className="host" data-pool={pool.name}>
          <div className="host-head">
            <strong>{pool.name}</strong>
            <span className="muted small">
              {pool.type}, {pool.scope}
            </span>
          </div>
          <div className="muted small mono">
            {pool.server ? `${pool.server}:` : ''}
            {pool.path}
          </div>
          <div className="muted small">
            {catalog.name('zone', pool.zoneId)}
            {pool.tags.length > 0 && `, tags ${pool.tags.join(', ')}`}
          </div>
          <CapacityBar label="Storage" used={pool.allocatedBytes} total={pool.capacityBytes} format={formatBytes} />
        </div>
      ))}
    </div>
  );
}

function Offerings() {
  const { data, error, loading } = useData(
    () => Promise.all([list<ServiceOffering>('serviceOfferings', OFFERING_FIELDS), list<DiskOffering>('diskOfferings', 'id name displayText diskSize customized storageTags removed')]),
    [],
  );
  if (loading && !data) return <Loading what="offerings" />;
  if (error) return <ErrorNote error={error} />;
  if (!data) return null;
  const [compute, disk] = data;
  return (
    <div>
      <h2>Service offerings</h2>
      {compute.length === 0 ? (
        <Empty>No service offering yet.</Empty>
      ) : (
        <TableBox label="Service offerings" className="cards-on-phone">
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">Compute</th>
              <th scope="col">Host tags</th>
              <th scope="col">Dynamic scaling</th>
              <th scope="col">HA</th>
              <th scope="col">Lease</th>
            </tr>
          </thead>
          <tbody>
            {compute.map((o) => (
              <tr key={o.id} className={o.removed ? 'removed' : undefined}>
                <td data-label="Name">
                  {o.name}
                  {o.displayText && o.displayText !== o.name && <div className="muted small">{o.displayText}</div>}
                </td>
                <td data-label="Compute">
                  {o.customized
                    ? `custom (${o.minCpuNumber ?? '?'}–${o.maxCpuNumber ?? '?'} cores, ${o.minMemory ?? '?'}–${o.maxMemory ?? '?'} MiB)`
                    : `${o.cpuNumber} × ${formatMHz(o.cpuSpeed ?? 0)}, ${formatMiB(o.memory ?? 0)}`}
                </td>
                <td data-label="Host tags">{o.hostTags.join(', ') || '—'}</td>
                <td data-label="Dynamic scaling">{o.dynamicScalingEnabled ? 'yes' : 'no'}</td>
                <td data-label="HA">{o.offerHa ? 'yes' : 'no'}</td>
                <td data-label="Lease">{o.leaseDuration ? `${o.leaseDuration} d, then ${o.leaseExpiryAction}` : '—'}</td>
              </tr>
            ))}
          </tbody>
        </TableBox>
      )}
      <h2>Disk offerings</h2>
      {disk.length === 0 ? (
        <Empty>No disk offering yet.</Empty>
      ) : (
        <TableBox label="Disk offerings" className="cards-on-phone">
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">Size</th>
              <th scope="col">Storage tags</th>
            </tr>
          </thead>
          <tbody>
            {disk.map((o) => (
              <tr key={o.id} className={o.removed ? 'removed' : undefined}>
                <td data-label="Name">{o.name}</td>
                <td data-label="Size">{o.customized ? 'custom' : formatBytes(o.diskSize)}</td>
                <td data-label="Storage tags">{o.storageTags.join(', ') || '—'}</td>
              </tr>
            ))}
          </tbody>
        </TableBox>
      )}
    </div>
  );
}

function Accounts() {
  const session = useSession();
  const { data, error, loading, reload } = useData(() => list<Account>('accounts', 'id name role domainId domainPath state created'), []);
  const [name, setName] = useState('');
  const [role, setRole] = useState('USER');
  const [created, setCreated] = useState<Account | null>(null);
  const [formError, setFormError] = useState<{ message: string; field: string | null } | null>(null);
  const create = async (event: FormEvent) => {
    event.preventDefault();
    setFormError(null);
    setCreated(null);
    try {
      const { createAccount } = await gql<{ createAccount: Account }>(`mutation($name: String!, $role: Role!) { createAccount(name: $name, role: $role) { id name role domainId apiKey } }`, { name, role });
      setCreated(createAccount);
      setName('');
      await reload();
    } catch (caught) {
      setFormError({ message: messageOf(caught), field: caught instanceof ApiError ? caught.field : null });
    }
  };
  return (
    <div>
      {loading && !data && <Loading what="accounts" />}
      <ErrorNote error={error} />
      {data && (
        <TableBox label="Accounts" className="cards-on-phone">
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">Role</th>
              <th scope="col">Domain</th>
              <th scope="col">State</th>
              <th scope="col">Created</th>
            </tr>
          </thead>
          <tbody>
            {data.map((a) => (
              <tr key={a.id}>
                <td data-label="Name">{a.name}</td>
                <td data-label="Role">{a.role}</td>
                <td data-label="Domain">{a.domainPath ?? a.domainId}</td>
                <td data-label="State">{a.state ?? '—'}</td>
                <td data-label="Created">
                  <Time at={a.created} />
                </td>
              </tr>
            ))}
          </tbody>
        </TableBox>
      )}
      <form className="card" onSubmit={create} aria-labelledby="new-account-title">
        <h2 id="new-account-title">Create an account</h2>
        <div className="grid">
          <Field id="account-name" label="Name" error={formError?.field === 'name' ? formError.message : null}>
            <input id="account-name" value={name} onChange={(e) => setName(e.target.value)} required autoComplete="off" />
          </Field>
          <Field id="account-role" label="Role" error={formError?.field === 'role' ? formError.message : null}>
            <select id="account-role" value={role} onChange={(e) => setRole(e.target.value)}>
              <option value="USER">User</option>
              {session.isRootAdmin && <option value="DOMAIN_ADMIN">Domain admin</option>}
              {session.isRootAdmin && <option value="ROOT_ADMIN">Root admin</option>}
            </select>
          </Field>
        </div>
        <ErrorNote error={formError && formError.field !== 'name' && formError.field !== 'role' ? formError.message : null} />
        <button type="submit" className="primary">
          Create the account
        </button>
        {created?.apiKey && (
          <div className="notice" role="status">
            <p>
              Account <strong>{created.name}</strong> created. Its API key is shown this once; hand it to its owner:
            </p>
            <input readOnly aria-label={`API key of ${created.name}`} className="mono key" value={created.apiKey} onFocus={(e) => e.currentTarget.select()} />
          </div>
        )}
      </form>
    </div>
  );
}

function Configurations() {
  const catalog = useCatalog();
  const [zoneId, setZoneId] = useState('');
  const [filter, setFilter] = useState('');
  const { data, error, loading, reload } = useData(
    () =>
      gql<{ configurations: Connection<Configuration> }>(`query($zoneId: ID) { configurations(zoneId: $zoneId) { nodes { name value zoneId defaultValue type scopes source description } totalCount pageInfo { hasNextPage endCursor } } }`, {
        zoneId: zoneId || null,
      }).then((d) => d.configurations.nodes),
    [zoneId],
  );
  const shown = (data ?? []).filter((c) => !filter || c.name.includes(filter.toLowerCase()) || (c.description ?? '').toLowerCase().includes(filter.toLowerCase()));
  return (
    <div>
      <div className="filters">
        <Field id="config-filter" label="Filter">
          <input id="config-filter" type="search" value={filter} onChange={(e) => setFilter(e.target.value)} placeholder="name or description" />
        </Field>
        <Field id="config-zone" label="Scope">
          <select id="config-zone" value={zoneId} onChange={(e) => setZoneId(e.target.value)}>
            <option value="">Global</option>
            {catalog.zones.map((z) => (
              <option key={z.id} value={z.id}>
                Zone {z.name}
              </option>
            ))}
          </select>
        </Field>
      </div>
      {loading && !data && <Loading what="configuration" />}
      <ErrorNote error={error} />
      {data && shown.length === 0 && <Empty>No setting matches.</Empty>}
      {shown.length > 0 && (
        <TableBox label="Configuration" className="cards-on-phone">
          <thead>
            <tr>
              <th scope="col">Setting</th>
              <th scope="col">Value</th>
              <th scope="col">Source</th>
            </tr>
          </thead>
          <tbody>
            {shown.map((c) => (
              <ConfigRow key={c.name} config={c} zoneId={zoneId} onSaved={reload} />
            ))}
          </tbody>
        </TableBox>
      )}
    </div>
  );
}

function ConfigRow({ config, zoneId, onSaved }: { config: Configuration; zoneId: string; onSaved: () => Promise<void> }) {
  const [value, setValue] = useState(config.value);
  const [error, setError] = useState<string | null>(null);
  const [saved, setSaved] = useState(false);
  const zoneScoped = config.scopes?.includes('zone') ?? false;
  const editable = !zoneId || zoneScoped;
  const save = async (event: FormEvent) => {
    event.preventDefault();
    setError(null);
    setSaved(false);
    try {
      await gql(`mutation($name: String!, $value: String!, $zoneId: ID) { updateConfiguration(name: $name, value: $value, zoneId: $zoneId) { name value } }`, { name: config.name, value, zoneId: zoneId || null });
      setSaved(true);
      await onSaved();
    } catch (caught) {
      setError(messageOf(caught));
    }
  };
  return (
    <tr>
      <td data-label="Setting">
        <div className="mono">{config.name}</div>
        <div className="muted small">{config.description}</div>
      </td>
      <td data-label="Value">
        <form className="inline-form" onSubmit={save}>
          <input aria-label={`Value of ${config.name}`} value={value} onChange={(e) => setValue(e.target.value)} disabled={!editable} className="mono" />
          <button type="submit" className="small-button" disabled={!editable || value === config.value}>
            Save
          </button>
        </form>
        {saved && <div className="small muted">Saved.</div>}
        {error && (
          <div className="field-error" role="alert">
            {error}
          </div>
        )}
        {config.defaultValue !== null && <div className="muted small">default: {config.defaultValue}</div>}
      </td>
      <td data-label="Source">{config.source ?? '—'}</td>
    </tr>
  );
}
