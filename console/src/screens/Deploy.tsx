// The deploy wizard: zone → template → offering → networks → details (name, lease, affinity groups)
// → review, then
// deployVirtualMachine. The API validates; its errors are shown beside the field it names
// (extensions.field), on the step that field belongs to.
import { useEffect, useMemo, useState, type FormEvent } from 'react';
import { ApiError, gql, messageOf } from '../api.ts';
import { loadAffinityGroups } from '../affinity.ts';
import { useCatalog } from '../catalog.tsx';
import { formatBytes, formatMHz, formatMiB } from '../format.tsx';
import { useJobs } from '../jobs.tsx';
import { JOB_FIELDS, type Job, type ServiceOffering } from '../model.ts';
import { navigate } from '../router.tsx';
import { useSession } from '../session.tsx';
import { Empty, ErrorNote, Field, Loading, useData } from '../ui.tsx';

const STEPS = ['Zone', 'Template', 'Offering', 'Networks', 'Details', 'Review'] as const;
type Step = (typeof STEPS)[number];

interface Draft {
  zoneId: string;
  templateId: string;
  serviceOfferingId: string;
  cpuNumber: string;
  cpuSpeed: string;
  memory: string;
  rootDiskSize: string;
  networkIds: string[];
  name: string;
  displayName: string;
  leaseDuration: string;
  leaseExpiryAction: string;
  account: string;
  affinityGroupIds: string[];
  startVm: boolean;
}

/** The step an argument the API named belongs to. */
function stepOfField(field: string): Step {
  if (field === 'zoneId') return 'Zone';
  if (field === 'templateId') return 'Template';
  if (field === 'serviceOfferingId' || field.startsWith('details')) return 'Offering';
  if (field.startsWith('networkIds')) return 'Networks';
  return 'Details';
}

/** The control an argument the API named is shown beside. */
function controlOfField(field: string): string {
  if (field.startsWith('networkIds')) return 'networkIds';
  if (field === 'details.cpuNumber' || field === 'details.cpuSpeed' || field === 'details.memory' || field === 'details.rootdisksize') return field;
  if (field.startsWith('details')) return 'serviceOfferingId';
  if (field === 'domainId') return 'account';
  if (field.startsWith('affinityGroup')) return 'affinityGroupIds';
  return field;
}

export function Deploy() {
  const catalog = useCatalog();
  const session = useSession();
  const { track } = useJobs();
  const [step, setStep] = useState<Step>('Zone');
  const [draft, setDraft] = useState<Draft>({
    zoneId: '',
    templateId: '',
    serviceOfferingId: '',
    cpuNumber: '',
    cpuSpeed: '',
    memory: '',
    rootDiskSize: '',
    networkIds: [],
    name: '',
    displayName: '',
    leaseDuration: '',
    leaseExpiryAction: '',
    account: '',
    affinityGroupIds: [],
    startVm: true,
  });
  const [fieldErrors, setFieldErrors] = useState<Record<string, string>>({});
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  // Zones, templates, offerings and networks added since sign-in are offered too.
  const { reload: reloadCatalog } = catalog;
  useEffect(() => {
    void reloadCatalog();
  }, [reloadCatalog]);

  const zone = catalog.zones.find((z) => z.id === draft.zoneId);
  const templates = useMemo(() => catalog.templates.filter((t) => !t.removed && (t.zoneId === null || t.zoneId === draft.zoneId)), [catalog.templates, draft.zoneId]);
  const template = templates.find((t) => t.id === draft.templateId);
  const offerings = catalog.offerings.filter((o) => !o.removed);
  const offering = offerings.find((o) => o.id === draft.serviceOfferingId);
  const networks = catalog.networks.filter((n) => !n.removed && n.zoneId === draft.zoneId);
  const account = session.accounts.find((a) => a.name === draft.account);
  // The owner's affinity groups, the only ones it may join; every visible one when the owner cannot
  // be told (an admin deploying for itself among several accounts of its role: the API then judges).
  const ownerId = account?.id ?? session.ownAccountId;
  const groups = useData(() => loadAffinityGroups(ownerId), [ownerId]);

  const set = <K extends keyof Draft>(key: K, value: Draft[K]) => {
    setDraft((current) => ({ ...current, [key]: value }));
    setFieldErrors((current) => {
      const { [key]: _dropped, ...rest } = current;
      return rest;
    });
  };

  const index = STEPS.indexOf(step);
  const missing: Partial<Record<Step, string>> = {
    Zone: draft.zoneId ? undefined : 'Choose a zone.',
    Template: draft.templateId ? undefined : 'Choose a template.',
    Offering: draft.serviceOfferingId ? undefined : 'Choose a service offering.',
  };
  const go = (target: Step) => {
    setError(null);
    setStep(target);
  };
  const next = () => {
    const problem = missing[step];
    if (problem) {
      setError(problem);
      return;
    }
    go(STEPS[index + 1]!);
  };

  const submit = async (event?: FormEvent) => {
    event?.preventDefault();
    setBusy(true);
    setError(null);
    setFieldErrors({});
    const details: Record<string, string> = {};
    if (offering?.customized) {
      if (draft.cpuNumber) details['cpuNumber'] = draft.cpuNumber;
      if (draft.cpuSpeed) details['cpuSpeed'] = draft.cpuSpeed;
      if (draft.memory) details['memory'] = draft.memory;
    }
    if (draft.rootDiskSize) details['rootdisksize'] = draft.rootDiskSize;
    const variables: Record<string, unknown> = {
      zoneId: draft.zoneId,
      templateId: draft.templateId,
      serviceOfferingId: draft.serviceOfferingId,
      startVm: draft.startVm,
    };
    if (draft.name.trim()) variables['name'] = draft.name.trim();
    if (draft.displayName.trim()) variables['displayName'] = draft.displayName;
    if (draft.networkIds.length > 0) variables['networkIds'] = draft.networkIds;
    if (Object.keys(details).length > 0) variables['details'] = details;
    if (draft.leaseDuration !== '') variables['leaseDuration'] = Number(draft.leaseDuration);
    if (draft.leaseExpiryAction) variables['leaseExpiryAction'] = draft.leaseExpiryAction;
    if (draft.affinityGroupIds.length > 0) variables['affinityGroupIds'] = draft.affinityGroupIds;
    if (account) {
      variables['account'] = account.name;
      variables['domainId'] = account.domainId;
    }
    const names = Object.keys(variables);
    const types: Record<string, string> = {
      zoneId: 'ID!', templateId: 'ID!', serviceOfferingId: 'ID!', startVm: 'Boolean', name: 'String', displayName: 'String',
      networkIds: '[ID!]', details: 'JSON', leaseDuration: 'Int', leaseExpiryAction: 'LeaseExpiryAction', account: 'String', domainId: 'ID', affinityGroupIds: '[ID!]',
    };
    try {
      const { deployVirtualMachine } = await gql<{ deployVirtualMachine: Job }>(
        `mutation(${names.map((n) => `$${n}: ${types[n]}`).join(', ')}) { deployVirtualMachine(${names.map((n) => `${n}: $${n}`).join(', ')}) { ${JOB_FIELDS} } }`,
        variables,
      );
      track(deployVirtualMachine);
      navigate('/instances');
    } catch (caught) {
      if (caught instanceof ApiError && caught.field) {
        setFieldErrors({ [controlOfField(caught.field)]: caught.message });
        setStep(stepOfField(caught.field));
      } else {
        setError(messageOf(caught));
      }
    } finally {
      setBusy(false);
    }
  };

  const radio = (name: 'zoneId' | 'templateId' | 'serviceOfferingId', id: string, title: string, detail: string) => (
    <label key={id} className={`choice${draft[name] === id ? ' chosen' : ''}`}>
      <input type="radio" name={name} value={id} checked={draft[name] === id} onChange={() => set(name, id)} />
      <span className="choice-title">{title}</span>
      <span className="choice-detail">{detail}</span>
    </label>
  );

  const offeringText = (o: ServiceOffering) =>
    o.customized
      ? `Custom: ${o.minCpuNumber ?? 1}–${o.maxCpuNumber ?? '∞'} cores, ${o.minMemory ? formatMiB(o.minMemory) : '—'}–${o.maxMemory ? formatMiB(o.maxMemory) : '—'}`
      : `${o.cpuNumber} × ${formatMHz(o.cpuSpeed ?? 0)}, ${formatMiB(o.memory ?? 0)}${o.leaseDuration ? `, lease ${o.leaseDuration} d` : ''}`;

  return (
    <section aria-labelledby="deploy-title">
      <h1 id="deploy-title">Deploy an instance</h1>
      <ol className="steps" aria-label="Steps">
        {STEPS.map((s, i) => (
          <li key={s}>
            <button type="button" className="step" aria-current={s === step ? 'step' : undefined} disabled={i > index && STEPS.slice(0, i).some((p) => missing[p])} onClick={() => go(s)}>
              <span className="step-number">{i + 1}</span> {s}
            </button>
          </li>
        ))}
      </ol>
      <form className="wizard" onSubmit={(event) => (step === 'Review' ? void submit(event) : (event.preventDefault(), next()))} noValidate>
        {step === 'Zone' && (
          <fieldset>
            <legend>Zone</legend>
            {catalog.zones.length === 0 ? <Empty>No zone is available.</Empty> : catalog.zones.map((z) => radio('zoneId', z.id, z.name, `${z.networkType}, ${z.allocationState}`))}
            {fieldErrors['zoneId'] && <div className="field-error" role="alert">{fieldErrors['zoneId']}</div>}
          </fieldset>
        )}
        {step === 'Template' && (
          <fieldset>
            <legend>Template</legend>
            {templates.length === 0 ? <Empty>No template is usable in this zone.</Empty> : templates.map((t) => radio('templateId', t.id, t.name, `${t.osTypeName}, ${formatBytes(t.size)} ${t.format}`))}
            {fieldErrors['templateId'] && <div className="field-error" role="alert">{fieldErrors['templateId']}</div>}
          </fieldset>
        )}
        {step === 'Offering' && (
          <fieldset>
            <legend>Service offering</legend>
            {offerings.length === 0 ? <Empty>No service offering exists.</Empty> : offerings.map((o) => radio('serviceOfferingId', o.id, o.name, offeringText(o)))}
            {fieldErrors['serviceOfferingId'] && <div className="field-error" role="alert">{fieldErrors['serviceOfferingId']}</div>}
            {offering?.customized && (
              <div className="grid">
                <Field id="details.cpuNumber" label="CPU cores" error={fieldErrors['details.cpuNumber']}>
                  <input id="details.cpuNumber" inputMode="numeric" value={draft.cpuNumber} onChange={(e) => set('cpuNumber', e.target.value)} />
                </Field>
                <Field id="details.cpuSpeed" label="MHz per core" error={fieldErrors['details.cpuSpeed']}>
                  <input id="details.cpuSpeed" inputMode="numeric" value={draft.cpuSpeed} onChange={(e) => set('cpuSpeed', e.target.value)} />
                </Field>
                <Field id="details.memory" label="Memory (MiB)" error={fieldErrors['details.memory']}>
                  <input id="details.memory" inputMode="numeric" value={draft.memory} onChange={(e) => set('memory', e.target.value)} />
                </Field>
              </div>
            )}
            <Field id="details.rootdisksize" label="Root disk size (GiB, optional)" error={fieldErrors['details.rootdisksize']} hint={template ? `At least the template's ${formatBytes(template.size)}.` : undefined}>
              <input id="details.rootdisksize" inputMode="numeric" value={draft.rootDiskSize} onChange={(e) => set('rootDiskSize', e.target.value)} />
            </Field>
          </fieldset>
        )}
        {step === 'Networks' && (
          <fieldset>
            <legend>Networks</legend>
            <p className="hint">The first one chosen is the default NIC. With none, the zone's oldest network you may use is taken.</p>
            {networks.length === 0 ? (
              <Empty>No network in this zone.</Empty>
            ) : (
              networks.map((n) => (
                <label key={n.id} className="check">
                  <input
                    type="checkbox"
                    checked={draft.networkIds.includes(n.id)}
                    onChange={(e) => set('networkIds', e.target.checked ? [...draft.networkIds, n.id] : draft.networkIds.filter((id) => id !== n.id))}
                  />
                  {n.name} <span className="muted">({n.type}{n.cidr ? `, ${n.cidr}` : ', no addresses'}{n.vlan != null ? `, VLAN ${n.vlan}` : ''})</span>
                </label>
              ))
            )}
            {fieldErrors['networkIds'] && <div className="field-error" role="alert">{fieldErrors['networkIds']}</div>}
          </fieldset>
        )}
        {step === 'Details' && (
          <fieldset>
            <legend>Name, lease and affinity</legend>
            <div className="grid">
              <Field id="name" label="Name (host name, optional)" error={fieldErrors['name']} hint="Generated when left empty; unique in the account.">
                <input id="name" value={draft.name} autoComplete="off" onChange={(e) => set('name', e.target.value)} />
              </Field>
              <Field id="displayName" label="Display name (optional)" error={fieldErrors['displayName']}>
                <input id="displayName" value={draft.displayName} autoComplete="off" onChange={(e) => set('displayName', e.target.value)} />
              </Field>
              <Field id="leaseDuration" label="Lease (days, optional)" error={fieldErrors['leaseDuration']} hint="1–36500, or -1 for none; applies while instance.lease.enabled is on.">
                <input id="leaseDuration" inputMode="numeric" value={draft.leaseDuration} onChange={(e) => set('leaseDuration', e.target.value)} />
              </Field>
              <Field id="leaseExpiryAction" label="When the lease expires" error={fieldErrors['leaseExpiryAction']}>
                <select id="leaseExpiryAction" value={draft.leaseExpiryAction} onChange={(e) => set('leaseExpiryAction', e.target.value)}>
                  <option value="">The offering's or the default</option>
                  <option value="STOP">Stop it</option>
                  <option value="DESTROY">Destroy it</option>
                </select>
              </Field>
              {session.isAdmin && (
                <Field id="account" label="For account" error={fieldErrors['account']}>
                  <select
                    id="account"
                    value={draft.account}
                    onChange={(e) => {
                      set('account', e.target.value);
                      // Another owner: the groups chosen were the previous owner's.
                      set('affinityGroupIds', []);
                    }}
                  >
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
            <fieldset className="plain-fieldset" aria-describedby={fieldErrors['affinityGroupIds'] ? 'affinityGroupIds-error' : undefined}>
              <legend className="field-legend">Affinity groups (optional)</legend>
              {groups.loading && !groups.data && <Loading what="affinity groups" />}
              <ErrorNote error={groups.error} />
              {groups.data && groups.data.length === 0 && <p className="muted">{account ? `${account.name} has` : 'You have'} no affinity group.</p>}
              {groups.data?.map((g) => (
                <label key={g.id} className="check">
                  <input
                    type="checkbox"
                    checked={draft.affinityGroupIds.includes(g.id)}
                    onChange={(e) => set('affinityGroupIds', e.target.checked ? [...draft.affinityGroupIds, g.id] : draft.affinityGroupIds.filter((id) => id !== g.id))}
                  />
                  {g.name} <span className="muted">({g.type}{ownerId ? '' : `, ${session.accountNames.get(g.accountId) ?? g.accountId.slice(0, 8)}`})</span>
                </label>
              ))}
              {fieldErrors['affinityGroupIds'] && (
                <div className="field-error" id="affinityGroupIds-error" role="alert">
                  {fieldErrors['affinityGroupIds']}
                </div>
              )}
            </fieldset>
            <label className="check">
              <input type="checkbox" checked={draft.startVm} onChange={(e) => set('startVm', e.target.checked)} /> Start it once deployed
            </label>
          </fieldset>
        )}
        {step === 'Review' && (
          <div>
            <h2>Review</h2>
            <dl className="facts">
              <dt>Zone</dt>
              <dd>{zone?.name}</dd>
              <dt>Template</dt>
              <dd>{template?.name}</dd>
              <dt>Offering</dt>
              <dd>{offering ? `${offering.name} (${offeringText(offering)})` : ''}</dd>
              <dt>Networks</dt>
              <dd>{draft.networkIds.length ? draft.networkIds.map((id) => catalog.name('network', id)).join(', ') : "The zone's default"}</dd>
              <dt>Name</dt>
              <dd>{draft.name || 'generated'}</dd>
              <dt>Lease</dt>
              <dd>{draft.leaseDuration ? `${draft.leaseDuration} days${draft.leaseExpiryAction ? `, then ${draft.leaseExpiryAction}` : ''}` : 'the offering’s or none'}</dd>
              <dt>Affinity groups</dt>
              <dd>{draft.affinityGroupIds.length ? draft.affinityGroupIds.map((id) => groups.data?.find((g) => g.id === id)?.name ?? id.slice(0, 8)).join(', ') : 'none'}</dd>
              {account && (
                <>
                  <dt>Account</dt>
                  <dd>{account.name}</dd>
                </>
              )}
              <dt>Start</dt>
              <dd>{draft.startVm ? 'yes' : 'no, it stays Stopped'}</dd>
            </dl>
          </div>
        )}
        <ErrorNote error={error} />
        <div className="buttons">
          {index > 0 && (
            <button type="button" onClick={() => go(STEPS[index - 1]!)}>
              Back
            </button>
          )}
          {step !== 'Review' ? (
            <button type="submit" className="primary">
              Next
            </button>
          ) : (
            <button type="submit" className="primary" disabled={busy}>
              {busy ? 'Deploying…' : 'Deploy'}
            </button>
          )}
        </div>
      </form>
    </section>
  );
}
