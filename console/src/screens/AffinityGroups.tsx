// Affinity groups, for every role: the groups the caller may see with their members (and, for the root
// admin, the host each member runs on, so a group's effect can be seen), a form to create one, and
// delete (by id, asked first). An admin may create a group for another account.
import { useState, type FormEvent } from 'react';
import { useConfirm } from '../actions.tsx';
import { loadAffinityGroups, loadMembers } from '../affinity.ts';
import { ApiError, gql, messageOf } from '../api.ts';
import { useCatalog } from '../catalog.tsx';
import { AFFINITY_TYPES, type AffinityGroup } from '../model.ts';
import { Link } from '../router.tsx';
import { useSession } from '../session.tsx';
import { Empty, ErrorNote, Field, Loading, StateBadge, TableBox, useData } from '../ui.tsx';

export function AffinityGroups() {
  const session = useSession();
  const catalog = useCatalog();
  const [dialog, ask] = useConfirm();
  const [actionError, setActionError] = useState<string | null>(null);
  const { data, error, loading, reload } = useData(async () => {
    const groups = await loadAffinityGroups();
    return { groups, members: await loadMembers(groups.flatMap((g) => g.virtualMachineIds)) };
  }, []);

  const remove = async (group: AffinityGroup) => {
    const answer = await ask({
      title: `Delete the affinity group ${group.name}?`,
      confirm: 'Delete',
      danger: true,
      body: <p>{group.virtualMachineIds.length > 0 ? `Its ${group.virtualMachineIds.length} member(s) leave it; running ones stay where they are.` : 'It has no member.'}</p>,
    });
    if (!answer) return;
    setActionError(null);
    try {
      await gql(`mutation($id: ID) { deleteAffinityGroup(id: $id) }`, { id: group.id });
      await reload();
    } catch (caught) {
      setActionError(`Delete ${group.name}: ${messageOf(caught)}`);
    }
  };

  return (
    <section aria-labelledby="affinity-title">
      <h1 id="affinity-title">Affinity groups</h1>
      <p className="muted">
        A group keeps its instances on one host (affinity) or on different hosts (anti-affinity) when they start; a non-strict group only prefers it.
      </p>
      <ErrorNote error={error} />
      <ErrorNote error={actionError} onDismiss={() => setActionError(null)} />
      {loading && !data && <Loading what="affinity groups" />}
      {data && data.groups.length === 0 && <Empty>No affinity group yet.</Empty>}
      {data && data.groups.length > 0 && (
        <TableBox label="Affinity groups" className="cards-on-phone">
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">Type</th>
              {session.isAdmin && <th scope="col">Account</th>}
              <th scope="col">Members</th>
              <th scope="col">Manage</th>
            </tr>
          </thead>
          <tbody>
            {data.groups.map((group) => (
              <tr key={group.id} data-group={group.name}>
                <td data-label="Name">
                  <div>{group.name}</div>
                  {group.description && <div className="muted small">{group.description}</div>}
                </td>
                <td data-label="Type">{group.type}</td>
                {session.isAdmin && <td data-label="Account">{session.accountNames.get(group.accountId) ?? group.accountId.slice(0, 8)}</td>}
                <td data-label="Members">
                  {group.virtualMachineIds.length === 0 ? (
                    <span className="muted">none</span>
                  ) : (
                    <ul className="plain" aria-label={`Members of ${group.name}`}>
                      {group.virtualMachineIds.map((id) => {
                        const member = data.members.get(id);
                        return (
                          <li key={id} data-member={member?.name ?? id}>
                            <Link to={`/instances/${id}`}>{member?.name ?? id.slice(0, 8)}</Link> {member && <StateBadge state={member.state} />}
                            {session.isRootAdmin && member?.hostId && <span className="muted small member-host"> on {catalog.name('host', member.hostId)}</span>}
                          </li>
                        );
                      })}
                    </ul>
                  )}
                </td>
                <td data-label="Manage">
                  <button type="button" className="small-button danger" aria-label={`Delete ${group.name}`} onClick={() => void remove(group)}>
                    Delete
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </TableBox>
      )}
      <NewGroup onCreated={reload} />
      {dialog}
    </section>
  );
}

function NewGroup({ onCreated }: { onCreated: () => Promise<void> }) {
  const session = useSession();
  const [name, setName] = useState('');
  const [type, setType] = useState<string>(AFFINITY_TYPES[0]);
  const [description, setDescription] = useState('');
  const [accountName, setAccountName] = useState('');
  const [error, setError] = useState<{ message: string; field: string | null } | null>(null);
  const [busy, setBusy] = useState(false);
  const account = session.accounts.find((a) => a.name === accountName);
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await gql(
        `mutation($name: String!, $type: String!, $description: String, $account: String, $domainId: ID) {
          createAffinityGroup(name: $name, type: $type, description: $description, account: $account, domainId: $domainId) { id } }`,
        { name: name.trim(), type, description: description.trim() || null, account: account?.name ?? null, domainId: account?.domainId ?? null },
      );
      setName('');
      setDescription('');
      await onCreated();
    } catch (caught) {
      setError({ message: messageOf(caught), field: caught instanceof ApiError ? caught.field : null });
    } finally {
      setBusy(false);
    }
  };
  const fieldError = (field: string) => (error?.field === field ? error.message : null);
  return (
    <form className="card" onSubmit={submit} aria-labelledby="new-group-title">
      <h2 id="new-group-title">Create an affinity group</h2>
      <div className="grid">
        <Field id="group-name" label="Name" error={fieldError('name')} hint="Unique in the account, ignoring case.">
          <input id="group-name" value={name} autoComplete="off" onChange={(e) => setName(e.target.value)} required />
        </Field>
        <Field id="group-type" label="Type" error={fieldError('type')}>
          <select id="group-type" value={type} onChange={(e) => setType(e.target.value)}>
            {AFFINITY_TYPES.map((t) => (
              <option key={t}>{t}</option>
            ))}
          </select>
        </Field>
        <Field id="group-description" label="Description (optional)" error={fieldError('description')}>
          <input id="group-description" value={description} autoComplete="off" onChange={(e) => setDescription(e.target.value)} />
        </Field>
        {session.isAdmin && (
          <Field id="group-account" label="For account" error={fieldError('account') ?? fieldError('domainId')}>
            <select id="group-account" value={accountName} onChange={(e) => setAccountName(e.target.value)}>
              <option value="">Mine</option>
              {session.accounts.map((a) => (
                <option key={a.id} value={a.name}>
                  {a.name} ({a.role})
                </option>
              ))}
            </select>
          </Field>
        )}
      </div>
      <ErrorNote error={error && !['name', 'type', 'description', 'account', 'domainId'].includes(error.field ?? '') ? error.message : null} />
      <button type="submit" className="primary" disabled={busy || name.trim() === ''}>
        Create the group
      </button>
    </form>
  );
}
