// An instance's affinity groups, and the form that changes them (updateVMAffinityGroup). Only a
// Stopped instance's groups may change: the form stays usable otherwise so the API's refusal is shown
// in its words, with a hint saying so beforehand.
import { useEffect, useState, type FormEvent } from 'react';
import { loadAffinityGroups } from '../affinity.ts';
import { gql, messageOf } from '../api.ts';
import { type Vm } from '../model.ts';
import { Link } from '../router.tsx';
import { Empty, ErrorNote, Loading, useData } from '../ui.tsx';

export function InstanceAffinity({ vm, onChanged }: { vm: Vm; onChanged: () => Promise<void> }) {
  // The owner's groups: the only ones an instance may be in.
  const { data: groups, error, loading } = useData(() => loadAffinityGroups(vm.accountId), [vm.accountId, vm.affinityGroupIds.join()]);
  const [chosen, setChosen] = useState<string[]>(vm.affinityGroupIds);
  const [saveError, setSaveError] = useState<string | null>(null);
  const [saved, setSaved] = useState(false);
  const [busy, setBusy] = useState(false);
  const current = vm.affinityGroupIds.join();
  useEffect(() => setChosen(current ? current.split(',') : []), [current]);

  const save = async (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    setSaveError(null);
    setSaved(false);
    try {
      await gql(`mutation($id: ID!, $ids: [ID!]) { updateVMAffinityGroup(id: $id, affinityGroupIds: $ids) { id affinityGroupIds } }`, { id: vm.id, ids: chosen });
      setSaved(true);
      await onChanged();
    } catch (caught) {
      setSaveError(messageOf(caught));
    } finally {
      setBusy(false);
    }
  };
  const name = (id: string) => groups?.find((g) => g.id === id);
  const unchanged = chosen.length === vm.affinityGroupIds.length && chosen.every((id) => vm.affinityGroupIds.includes(id));

  return (
    <div>
      <h2>Affinity groups</h2>
      <ErrorNote error={error} />
      {loading && !groups && <Loading what="affinity groups" />}
      {groups && (
        <>
          {vm.affinityGroupIds.length === 0 ? (
            <Empty>This instance is in no affinity group.</Empty>
          ) : (
            <ul className="plain card" aria-label="Its affinity groups">
              {vm.affinityGroupIds.map((id) => (
                <li key={id}>
                  <strong>{name(id)?.name ?? id.slice(0, 8)}</strong> <span className="muted">{name(id)?.type}</span>
                </li>
              ))}
            </ul>
          )}
          <form className="card" onSubmit={save} aria-labelledby="change-groups-title">
            <h3 id="change-groups-title">Change its groups</h3>
            <p className="hint">
              Only a stopped instance's groups can change; the new ones apply at its next start. {vm.state !== 'Stopped' && `This one is ${vm.state}.`}
            </p>
            {groups.length === 0 ? (
              <p className="muted">
                Its account has no affinity group: <Link to="/affinity">create one</Link>.
              </p>
            ) : (
              <fieldset className="plain-fieldset">
                <legend className="visually-hidden">Affinity groups of the instance's account</legend>
                {groups.map((g) => (
                  <label key={g.id} className="check">
                    <input type="checkbox" checked={chosen.includes(g.id)} onChange={(e) => setChosen(e.target.checked ? [...chosen, g.id] : chosen.filter((id) => id !== g.id))} />
                    {g.name} <span className="muted">({g.type})</span>
                  </label>
                ))}
              </fieldset>
            )}
            <ErrorNote error={saveError} onDismiss={() => setSaveError(null)} />
            {saved && <p className="small muted">Saved.</p>}
            <button type="submit" className="primary" disabled={busy || unchanged}>
              Save the groups
            </button>
          </form>
        </>
      )}
    </div>
  );
}
