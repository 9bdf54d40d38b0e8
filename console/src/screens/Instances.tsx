// Instances: a page of the instances the caller may see, filtered by state, zone, account (admins) and
// keyword, with each row's actions; rows follow the jobs running on them, pushed live.
import { useCallback, useEffect, useState } from 'react';
import { actionsFor, ACTION_LABELS, confirmAndRun, useConfirm, type Action } from '../actions.tsx';
import { gql, messageOf } from '../api.ts';
import { useCatalog } from '../catalog.tsx';
import { formatDuration } from '../format.tsx';
import { jobTitle, useJobs, useJobUpdates } from '../jobs.tsx';
import { VM_FIELDS, VM_STATES, type Connection, type Job, type Vm } from '../model.ts';
import { Link } from '../router.tsx';
import { useSession } from '../session.tsx';
import { Empty, ErrorNote, Loading, ProgressBar, StateBadge, TableBox } from '../ui.tsx';

const PAGE = 20;

interface Filters {
  state: string;
  zoneId: string;
  accountId: string;
  keyword: string;
}

export function Instances() {
  const session = useSession();
  const catalog = useCatalog();
  const { jobs, track } = useJobs();
  const [filters, setFilters] = useState<Filters>({ state: '', zoneId: '', accountId: '', keyword: '' });
  const [cursors, setCursors] = useState<(string | null)[]>([null]);
  const [page, setPage] = useState<Connection<Vm> | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [actionError, setActionError] = useState<string | null>(null);
  const [dialog, ask] = useConfirm();
  const after = cursors[cursors.length - 1] ?? null;

  const load = useCallback(async () => {
    try {
      const variables = {
        first: PAGE,
        after,
        state: filters.state || null,
        zoneId: filters.zoneId || null,
        accountId: filters.accountId || null,
        keyword: filters.keyword.trim() || null,
      };
      const data = await gql<{ virtualMachines: Connection<Vm> }>(
        `query($first: Int, $after: String, $state: VmState, $zoneId: ID, $accountId: ID, $keyword: String) {
          virtualMachines(first: $first, after: $after, state: $state, zoneId: $zoneId, accountId: $accountId, keyword: $keyword) {
            nodes { ${VM_FIELDS} } pageInfo { hasNextPage endCursor } totalCount } }`,
        variables,
      );
      setPage(data.virtualMachines);
      setError(null);
    } catch (caught) {
      setError(messageOf(caught));
    }
  }, [after, filters]);

  useEffect(() => {
    void load();
  }, [load]);

  // A push about one of the rows refreshes that row; a deploy brings a new row: the page is read again.
  useJobUpdates(
    useCallback(
      (job: Job) => {
        const row = page?.nodes.find((vm) => vm.id === job.instanceId);
        if (!row) {
          if (job.cmd === 'deployVirtualMachine' && job.instanceId) void load();
          return;
        }
        void gql<{ virtualMachine: Vm | null }>(`query($id: ID!) { virtualMachine(id: $id) { ${VM_FIELDS} } }`, { id: row.id }).then(({ virtualMachine }) =>
          setPage((current) =>
            current && {
              ...current,
              nodes: virtualMachine ? current.nodes.map((vm) => (vm.id === virtualMachine.id ? virtualMachine : vm)) : current.nodes.filter((vm) => vm.id !== row.id),
            },
          ),
        );
      },
      [page, load],
    ),
  );

  const setFilter = (name: keyof Filters, value: string) => {
    setFilters((current) => ({ ...current, [name]: value }));
    setCursors([null]);
  };

  const act = async (action: Action, vm: Vm) => {
    setActionError(null);
    try {
      const outcome = await confirmAndRun(action, vm, ask, catalog.hosts);
      if (outcome?.job) track(outcome.job);
      if (outcome?.vm) await load();
    } catch (caught) {
      setActionError(`${ACTION_LABELS[action]} ${vm.name}: ${messageOf(caught)}`);
    }
  };

  const pendingFor = (vmId: string) => jobs.find((job) => job.instanceId === vmId && job.status === 'PENDING');

  return (
    <section aria-labelledby="instances-title">
      <div className="heading">
        <h1 id="instances-title">Instances</h1>
        <Link to="/instances/new" className="button primary">
          Deploy an instance
        </Link>
      </div>
      <form className="filters" role="search" aria-label="Filter the instances" onSubmit={(event) => event.preventDefault()}>
        <div className="field">
          <label htmlFor="filter-keyword">Keyword</label>
          <input id="filter-keyword" type="search" value={filters.keyword} placeholder="name or display name" onChange={(e) => setFilter('keyword', e.target.value)} />
        </div>
        <div className="field">
          <label htmlFor="filter-state">State</label>
          <select id="filter-state" value={filters.state} onChange={(e) => setFilter('state', e.target.value)}>
            <option value="">Any</option>
            {VM_STATES.map((state) => (
              <option key={state}>{state}</option>
            ))}
          </select>
        </div>
        <div className="field">
          <label htmlFor="filter-zone">Zone</label>
          <select id="filter-zone" value={filters.zoneId} onChange={(e) => setFilter('zoneId', e.target.value)}>
            <option value="">Any</option>
            {catalog.zones.map((zone) => (
              <option key={zone.id} value={zone.id}>
                {zone.name}
              </option>
            ))}
          </select>
        </div>
        {session.isAdmin && (
          <div className="field">
            <label htmlFor="filter-account">Account</label>
            <select id="filter-account" value={filters.accountId} onChange={(e) => setFilter('accountId', e.target.value)}>
              <option value="">Any</option>
              {session.accounts.map((account) => (
                <option key={account.id} value={account.id}>
                  {account.name}
                </option>
              ))}
            </select>
          </div>
        )}
      </form>
      <ErrorNote error={error} />
      <ErrorNote error={actionError} onDismiss={() => setActionError(null)} />
      {!page && !error && <Loading what="instances" />}
      {page && page.nodes.length === 0 && (
        <Empty>
          {Object.values(filters).some(Boolean) ? 'No instance matches these filters.' : 'No instances yet. '}
          {!Object.values(filters).some(Boolean) && <Link to="/instances/new">Deploy the first one.</Link>}
        </Empty>
      )}
      {page && page.nodes.length > 0 && (
        <>
          <TableBox label="Instances" className="cards-on-phone">
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">State</th>
                <th scope="col">Zone</th>
                <th scope="col">Offering</th>
                <th scope="col">IP addresses</th>
                <th scope="col">Lease</th>
                {session.isAdmin && <th scope="col">Account</th>}
                {session.isAdmin && <th scope="col">Host</th>}
                <th scope="col">Actions</th>
              </tr>
            </thead>
            <tbody>
              {page.nodes.map((vm) => {
                const job = pendingFor(vm.id);
                return (
                  <tr key={vm.id} data-instance={vm.name}>
                    <td data-label="Name">
                      <Link to={`/instances/${vm.id}`}>{vm.name}</Link>
                      {vm.displayName !== vm.name && <div className="muted small">{vm.displayName}</div>}
                    </td>
                    <td className="state-cell" data-label="State">
                      <StateBadge state={vm.state} />
                      {job && (
                        <div className="row-job">
                          <span className="small">
                            {jobTitle(job.cmd)}: {job.step ?? 'queued'}
                          </span>
                          <ProgressBar value={job.progress ?? 0} label={`${jobTitle(job.cmd)} ${vm.name}`} />
                        </div>
                      )}
                    </td>
                    <td data-label="Zone">{catalog.name('zone', vm.zoneId)}</td>
                    <td data-label="Offering">{catalog.name('offering', vm.serviceOfferingId)}</td>
                    <td className="mono" data-label="IP addresses">{vm.nics.map((nic) => nic.ipAddress).filter(Boolean).join(', ') || '—'}</td>
                    <td data-label="Lease">{vm.leaseExpiryDate ? <span title={`${vm.leaseExpiryAction} at ${vm.leaseExpiryDate}`}>{formatDuration(Date.parse(vm.leaseExpiryDate) - Date.now())} left</span> : '—'}</td>
                    {session.isAdmin && <td data-label="Account">{session.accountNames.get(vm.accountId) ?? vm.accountId.slice(0, 8)}</td>}
                    {session.isAdmin && <td data-label="Host">{vm.hostId ? catalog.name('host', vm.hostId) : '—'}</td>}
                    <td data-label="Actions">
                      <div className="row-actions">
                        {actionsFor(vm, session.isAdmin).map((action) => (
                          <button
                            key={action}
                            type="button"
                            className={action === 'destroy' ? 'small-button danger' : 'small-button'}
                            disabled={Boolean(job) || (action === 'destroy' && vm.deleteProtection)}
                            title={action === 'destroy' && vm.deleteProtection ? 'Delete protection is on' : undefined}
                            aria-label={`${ACTION_LABELS[action]} ${vm.name}`}
                            onClick={() => void act(action, vm)}
                          >
                            {ACTION_LABELS[action]}
                          </button>
                        ))}
                      </div>
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </TableBox>
          <nav className="pager" aria-label="Pages of instances">
            <span className="muted">
              {page.totalCount} instance{page.totalCount === 1 ? '' : 's'}
            </span>
            <button type="button" disabled={cursors.length === 1} onClick={() => setCursors((c) => c.slice(0, -1))}>
              Previous page
            </button>
            <button type="button" disabled={!page.pageInfo.hasNextPage} onClick={() => setCursors((c) => [...c, page.pageInfo.endCursor])}>
              Next page
            </button>
          </nav>
        </>
      )}
      {dialog}
    </section>
  );
}
