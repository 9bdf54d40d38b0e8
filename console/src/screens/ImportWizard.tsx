// The import wizard for one guest: its offering and template, names and owner, each NIC's network and
// address, each data disk's disk offering (and, for a VMware guest, where it is converted), then the
// **preview** (importVmPreview: importVm's own rules, run without moving anything) with its plan and
// every problem beside the control it concerns, then the import (importUnmanagedInstance for a domain
// on a managed host, importVm for an external host's VM or a VMware guest), whose job's step and
// progress are followed live, ending with a link to the new instance.
import { useCallback, useEffect, useMemo, useRef, useState, type FormEvent, type ReactNode, type Ref } from 'react';
import { ApiError, gql, messageOf } from '../api.ts';
import { list, useCatalog } from '../catalog.tsx';
import { formatBytes, formatMHz, formatMiB } from '../format.tsx';
import { CONTROL, problemsByControl, type SentLists } from '../import-problems.ts';
import { jobTitle, useJobs, useJobUpdates } from '../jobs.tsx';
import { IMPORT_PREVIEW_FIELDS, JOB_FIELDS, type DiskOffering, type Guest, type ImportPreview, type ImportProblem, type Job, type ServiceOffering, type StoragePool } from '../model.ts';
import { Link } from '../router.tsx';
import { useSession } from '../session.tsx';
import { Empty, ErrorNote, Field, ProgressBar, StateBadge, TableBox, useData } from '../ui.tsx';

export type ImportSourceKind = 'UNMANAGED' | 'EXTERNAL' | 'VMWARE';
/** An external KVM host's SSH login, as typed on the import screen (memory only). */
export interface ExternalLogin {
  host: string;
  username: string;
  password: string;
}

interface Draft {
  serviceOfferingId: string;
  cpuSpeed: string;
  templateId: string;
  displayName: string;
  hostName: string;
  account: string;
  /** Per NIC id: its network ('' = the zone's network on its VLAN) and address ('' = none asked, 'auto', or an IPv4 address). */
  nics: Record<string, { network: string; ip: string }>;
  rootDisk: string;
  /** Per data disk id: its disk offering ('' = none chosen). */
  diskOfferings: Record<string, string>;
  forced: boolean;
  tmpPath: string;
  /** VMWARE: the host that runs virt-v2v, the one that imports the converted disks, the temporary pool, virt-v2v's further options ('' = the API's choice). */
  convertInstanceHostId: string;
  importInstanceHostId: string;
  convertInstancePoolId: string;
  extraParams: string;
}

const ARGS = `$zoneId: ID!, $importSource: ImportSource!, $name: String!, $serviceOfferingId: ID!, $displayName: String, $hostName: String,
  $account: String, $domainId: ID, $clusterId: ID, $host: String, $username: String, $password: String, $tmpPath: String, $templateId: ID,
  $nicNetworkList: [NicNetworkInput!], $nicIpAddressList: [NicIpAddressInput!], $dataDiskOfferingList: [DataDiskOfferingInput!], $details: JSON, $forced: Boolean,
  $convertInstanceHostId: ID, $importInstanceHostId: ID, $convertInstancePoolId: ID, $extraParams: String`;
const PASS = `zoneId: $zoneId, importSource: $importSource, name: $name, serviceOfferingId: $serviceOfferingId, displayName: $displayName,
  hostName: $hostName, account: $account, domainId: $domainId, clusterId: $clusterId, host: $host, username: $username, password: $password,
  tmpPath: $tmpPath, templateId: $templateId, nicNetworkList: $nicNetworkList, nicIpAddressList: $nicIpAddressList,
  dataDiskOfferingList: $dataDiskOfferingList, details: $details, forced: $forced, convertInstanceHostId: $convertInstanceHostId,
  importInstanceHostId: $importInstanceHostId, convertInstancePoolId: $convertInstancePoolId, extraParams: $extraParams`;
const PREVIEW = `query(${ARGS}) { importVmPreview(${PASS}) { ${IMPORT_PREVIEW_FIELDS} } }`;
const IMPORT_VM = `mutation(${ARGS}) { importVm(${PASS}) { ${JOB_FIELDS} } }`;
const IMPORT_UNMANAGED = `mutation($clusterId: ID!, $name: String!, $serviceOfferingId: ID!, $displayName: String, $hostName: String, $account: String,
  $domainId: ID, $templateId: ID, $nicNetworkList: [NicNetworkInput!], $nicIpAddressList: [NicIpAddressInput!],
  $dataDiskOfferingList: [DataDiskOfferingInput!], $details: JSON, $forced: Boolean) {
  importUnmanagedInstance(clusterId: $clusterId, name: $name, serviceOfferingId: $serviceOfferingId, displayName: $displayName, hostName: $hostName,
    account: $account, domainId: $domainId, templateId: $templateId, nicNetworkList: $nicNetworkList, nicIpAddressList: $nicIpAddressList,
    dataDiskOfferingList: $dataDiskOfferingList, details: $details, forced: $forced) { ${JOB_FIELDS} } }`;

/** A fixed offering of the guest's very size: what a running domain needs (docs/api.md), a good first choice for any. */
function fittingOffering(offerings: readonly ServiceOffering[], guest: Guest): string {
  const fits = offerings.find(
    (o) => !o.removed && !o.customized && o.cpuNumber === guest.cpuNumber && o.memory === guest.memory && (guest.cpuSpeed <= 0 || o.cpuSpeed === guest.cpuSpeed),
  );
  return fits?.id ?? '';
}

/** The smallest fixed disk offering that holds the disk. */
function fittingDiskOffering(offerings: readonly DiskOffering[], capacity: number | null): string {
  const holding = offerings.filter((o) => !o.removed && !o.customized && o.diskSize !== null && (capacity === null || o.diskSize >= capacity));
  return holding.sort((a, b) => (a.diskSize ?? 0) - (b.diskSize ?? 0))[0]?.id ?? '';
}

export function ImportWizard({
  source,
  guest,
  zoneId,
  clusterId,
  login,
  onClose,
}: {
  source: ImportSourceKind;
  guest: Guest;
  zoneId: string;
  /** The cluster chosen on the import screen (an external import's destination; null: the zone's first KVM cluster with an Up host). */
  clusterId: string | null;
  login: ExternalLogin | null;
  onClose: (imported: boolean) => void;
}) {
  const catalog = useCatalog();
  const session = useSession();
  const { track } = useJobs();
  // Offerings, networks and hosts (their capabilities: virt-v2v) as they are now, not as at sign-in.
  const { reload: reloadCatalog } = catalog;
  useEffect(() => {
    void reloadCatalog();
  }, [reloadCatalog]);
  const disks = useMemo(() => [...guest.disks].sort((a, b) => a.position - b.position), [guest.disks]);
  const offerings = catalog.offerings.filter((o) => !o.removed);
  const templates = catalog.templates.filter((t) => !t.removed && (t.zoneId === null || t.zoneId === zoneId));
  const networks = catalog.networks.filter((n) => !n.removed && n.zoneId === zoneId);
  const lookups = useData(
    () => Promise.all([list<DiskOffering>('diskOfferings', 'id name displayText diskSize customized storageTags removed'), list<StoragePool>('storagePools', 'id name zoneId clusterId hostId scope type')]),
    [],
  );
  const diskOfferings = (lookups.data?.[0] ?? []).filter((o) => !o.removed);
  const pools = lookups.data?.[1] ?? [];

  const [draft, setDraft] = useState<Draft>(() => ({
    serviceOfferingId: fittingOffering(offerings, guest),
    cpuSpeed: '',
    templateId: templates.length === 1 ? templates[0]!.id : '',
    displayName: '',
    hostName: '',
    account: '',
    nics: Object.fromEntries(guest.nics.map((nic) => [nic.id, { network: '', ip: '' }])),
    rootDisk: disks[0]?.id ?? '',
    diskOfferings: {},
    forced: false,
    tmpPath: '',
    convertInstanceHostId: '',
    importInstanceHostId: '',
    convertInstancePoolId: '',
    extraParams: '',
  }));
  // Once the disk offerings are known: each data disk gets the smallest that holds it, to start with.
  const offeredDisks = useRef(false);
  useEffect(() => {
    if (offeredDisks.current || !lookups.data) return;
    offeredDisks.current = true;
    setDraft((current) => ({
      ...current,
      diskOfferings: Object.fromEntries(disks.map((disk) => [disk.id, current.diskOfferings[disk.id] || fittingDiskOffering(diskOfferings, disk.capacity)])),
    }));
  });

  const offering = offerings.find((o) => o.id === draft.serviceOfferingId);
  const zoneHosts = catalog.hosts.filter((host) => !host.removed && host.zoneId === zoneId);
  const clusterHosts = zoneHosts.filter((host) => host.clusterId === clusterId);
  const account = session.accounts.find((a) => a.name === draft.account);

  const argumentsOf = (d: Draft): { variables: Record<string, unknown>; sent: SentLists } => {
    const nicNetworkList = guest.nics.filter((nic) => d.nics[nic.id]?.network).map((nic) => ({ nic: nic.id, network: d.nics[nic.id]!.network }));
    const nicIpAddressList = guest.nics.filter((nic) => d.nics[nic.id]?.ip.trim()).map((nic) => ({ nic: nic.id, ip4Address: d.nics[nic.id]!.ip.trim() }));
    // The disk left out is the root; a data disk without an offering is left out too, and the API says so.
    const dataDiskOfferingList = disks.filter((disk) => disk.id !== d.rootDisk && d.diskOfferings[disk.id]).map((disk) => ({ disk: disk.id, diskOffering: d.diskOfferings[disk.id]! }));
    const variables: Record<string, unknown> = {
      zoneId,
      importSource: source,
      name: guest.name,
      serviceOfferingId: d.serviceOfferingId,
      displayName: d.displayName.trim() || null,
      hostName: d.hostName.trim() || null,
      account: account?.name ?? null,
      domainId: account?.domainId ?? null,
      clusterId: source === 'UNMANAGED' ? (guest.clusterId ?? null) : clusterId,
      templateId: d.templateId || null,
      nicNetworkList,
      nicIpAddressList,
      dataDiskOfferingList,
      // A custom offering takes the guest's cores and memory; only an open speed may be given.
      details: offering?.customized && offering.cpuSpeed === null && d.cpuSpeed.trim() ? { cpuSpeed: d.cpuSpeed.trim() } : null,
      forced: d.forced,
      host: login?.host.trim() ?? null,
      username: login?.username ?? null,
      password: login && login.password !== '' ? login.password : null,
      tmpPath: source === 'EXTERNAL' && d.tmpPath.trim() ? d.tmpPath.trim() : null,
      convertInstanceHostId: source === 'VMWARE' ? d.convertInstanceHostId || null : null,
      importInstanceHostId: source === 'VMWARE' ? d.importInstanceHostId || null : null,
      convertInstancePoolId: source === 'VMWARE' ? d.convertInstancePoolId || null : null,
      extraParams: source === 'VMWARE' && d.extraParams.trim() ? d.extraParams.trim() : null,
    };
    return { variables, sent: { nicNetworkList, nicIpAddressList, dataDiskOfferingList } };
  };

  const [preview, setPreview] = useState<{ result: ImportPreview; sent: SentLists; key: string } | null>(null);
  const [refused, setRefused] = useState<{ problems: ImportProblem[]; sent: SentLists } | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState<'preview' | 'import' | null>(null);
  const [job, setJob] = useState<Job | null>(null);
  const resultHeading = useRef<HTMLHeadingElement>(null);

  // A new answer (the preview, the API's word that there is none, a refusal) takes the focus, so a
  // keyboard or screen reader user is taken to it.
  useEffect(() => {
    if (preview || refused) resultHeading.current?.focus();
  }, [preview, refused]);

  useJobUpdates(useCallback((pushed: Job) => setJob((current) => (current && current.id === pushed.id ? pushed : current)), []));

  const current = argumentsOf(draft);
  const currentKey = JSON.stringify(current.variables);
  const stale = preview !== null && preview.key !== currentKey;

  const set = <K extends keyof Draft>(key: K, value: Draft[K]) => setDraft((d) => ({ ...d, [key]: value }));
  const setNic = (nic: string, part: 'network' | 'ip', value: string) => setDraft((d) => ({ ...d, nics: { ...d.nics, [nic]: { ...d.nics[nic]!, [part]: value } } }));

  const runPreview = async (event?: FormEvent) => {
    event?.preventDefault();
    setError(null);
    setRefused(null);
    const { variables, sent } = current;
    if (!draft.serviceOfferingId) {
      setPreview(null);
      setRefused({ problems: [{ code: 'BAD_USER_INPUT', message: 'Choose a service offering.', field: 'serviceOfferingId' }], sent });
      return;
    }
    setBusy('preview');
    try {
      const { importVmPreview } = await gql<{ importVmPreview: ImportPreview }>(PREVIEW, variables);
      setPreview({ result: importVmPreview, sent, key: JSON.stringify(variables) });
    } catch (caught) {
      setPreview(null);
      // Refused as a whole (an unknown zone, a source it does not serve): no plan to show.
      if (caught instanceof ApiError && caught.field) setRefused({ problems: [{ code: caught.code, message: caught.message, field: caught.field }], sent });
      else setError(messageOf(caught));
    } finally {
      setBusy(null);
    }
  };

  const runImport = async () => {
    setError(null);
    setRefused(null);
    const { variables, sent } = current;
    setBusy('import');
    try {
      const started =
        source === 'UNMANAGED'
          ? (await gql<{ importUnmanagedInstance: Job }>(IMPORT_UNMANAGED, withoutExternal(variables))).importUnmanagedInstance
          : (await gql<{ importVm: Job }>(IMPORT_VM, variables)).importVm;
      setJob(started);
      track(started);
    } catch (caught) {
      // Things changed since the preview (a MAC or an address taken meanwhile): the refusal beside its field.
      if (caught instanceof ApiError) setRefused({ problems: [{ code: caught.code, message: caught.message, field: caught.field }], sent });
      else setError(messageOf(caught));
    } finally {
      setBusy(null);
    }
  };

  const shown = refused ?? (preview && !stale ? { problems: preview.result.problems, sent: preview.sent } : null);
  const byControl = shown ? problemsByControl(shown.problems, shown.sent) : new Map<string, ImportProblem[]>();
  const problemsAt = (control: string): ReactNode => {
    const found = byControl.get(control);
    if (!found || found.length === 0) return null;
    return found.length === 1 ? found[0]!.message : (
      <ul className="problem-list">
        {found.map((p) => (
          <li key={`${p.field}-${p.message}`}>{p.message}</li>
        ))}
      </ul>
    );
  };
  const describedBy = (control: string) => (byControl.has(control) ? `${control}-error` : undefined);

  // A failed import leaves the settings open, to change and preview again.
  const locked = job !== null && job.status !== 'FAILED';
  const stage = locked ? 'Import' : preview && !stale ? 'Preview' : 'Settings';
  const where = source === 'UNMANAGED' ? catalog.name('host', guest.hostId) : (login?.host ?? guest.host ?? '');

  return (
    <section aria-labelledby="import-wizard-title">
      <p className="crumbs">
        <button type="button" className="small-button" onClick={() => onClose(job?.status === 'SUCCEEDED')}>
          ← Back to the list
        </button>
      </p>
      <h1 id="import-wizard-title">
        Import <span className="mono">{guest.name}</span> <PowerState state={guest.powerState} />
      </h1>
      <ol className="steps" aria-label="Steps">
        {(['Settings', 'Preview', 'Import'] as const).map((s, i) => (
          <li key={s}>
            <span className="step" aria-current={s === stage ? 'step' : undefined}>
              <span className="step-number">{i + 1}</span> {s}
            </span>
          </li>
        ))}
      </ol>
      <ErrorNote error={lookups.error ? `Could not load the disk offerings and storage pools: ${lookups.error}` : null} />
      <form className="wizard" onSubmit={(event) => void runPreview(event)} noValidate aria-label={`Import ${guest.name}`}>
        <fieldset disabled={locked}>
          <legend>Source</legend>
          <dl className="facts" id={CONTROL.source} tabIndex={-1}>
            <dt>{source === 'UNMANAGED' ? 'Domain' : source === 'VMWARE' ? 'Guest' : 'VM'}</dt>
            <dd>
              <span className="mono">{guest.name}</span> on {source === 'UNMANAGED' ? 'host' : source === 'VMWARE' ? 'the VMware host' : 'the external host'} {where}
            </dd>
            {login && (
              <>
                <dt>Logged in as</dt>
                <dd className="mono">{login.username}</dd>
              </>
            )}
            <dt>Size</dt>
            <dd>
              {guest.cpuNumber} × {guest.cpuSpeed > 0 ? formatMHz(guest.cpuSpeed) : 'unknown MHz'}, {formatMiB(guest.memory)}
              {guest.osDisplayName ? `, ${guest.osDisplayName}` : ''}
            </dd>
          </dl>
          <ProblemNote id={CONTROL.source}>{problemsAt(CONTROL.source)}</ProblemNote>
        </fieldset>

        <fieldset disabled={locked}>
          <legend>Offering and template</legend>
          <div className="grid">
            <Field id={CONTROL.offering} label="Service offering" error={problemsAt(CONTROL.offering)}>
              <select id={CONTROL.offering} value={draft.serviceOfferingId} aria-describedby={describedBy(CONTROL.offering)} onChange={(e) => set('serviceOfferingId', e.target.value)}>
                <option value="">Choose an offering</option>
                {offerings.map((o) => (
                  <option key={o.id} value={o.id}>
                    {o.name} ({o.customized ? 'custom' : `${o.cpuNumber} × ${formatMHz(o.cpuSpeed ?? 0)}, ${formatMiB(o.memory ?? 0)}`})
                  </option>
                ))}
              </select>
            </Field>
            <Field id={CONTROL.template} label="Template (the record's OS)" error={problemsAt(CONTROL.template)} hint="KVM needs one: the imported instance is recorded with it.">
              <select id={CONTROL.template} value={draft.templateId} aria-describedby={describedBy(CONTROL.template)} onChange={(e) => set('templateId', e.target.value)}>
                <option value="">Choose a template</option>
                {templates.map((t) => (
                  <option key={t.id} value={t.id}>
                    {t.name}
                  </option>
                ))}
              </select>
            </Field>
          </div>
          {guest.powerState === 'PowerOn' && !offering?.customized && (
            <p className="hint">
              The guest runs: a fixed offering must be its size exactly ({guest.cpuNumber} core{guest.cpuNumber === 1 ? '' : 's'}, {formatMiB(guest.memory)}), or choose a custom one.
            </p>
          )}
          {offering?.customized && (
            <div className="grid">
              <dl className="facts">
                <dt>CPU cores</dt>
                <dd>{offering.cpuNumber ?? guest.cpuNumber} (the guest's)</dd>
                <dt>Memory</dt>
                <dd>{formatMiB(offering.memory ?? guest.memory)} (the guest's)</dd>
              </dl>
              {offering.cpuSpeed === null && (
                <Field id={CONTROL.cpuSpeed} label="MHz per core (optional)" error={problemsAt(CONTROL.cpuSpeed)} hint={guest.cpuSpeed > 0 ? `The guest's ${guest.cpuSpeed} MHz when left empty.` : undefined}>
                  <input id={CONTROL.cpuSpeed} inputMode="numeric" value={draft.cpuSpeed} aria-describedby={describedBy(CONTROL.cpuSpeed)} onChange={(e) => set('cpuSpeed', e.target.value)} />
                </Field>
              )}
            </div>
          )}
        </fieldset>

        <fieldset disabled={locked}>
          <legend>Names and owner</legend>
          <div className="grid">
            <Field id={CONTROL.hostName} label="Host name (optional)" error={problemsAt(CONTROL.hostName)} hint={source === 'EXTERNAL' ? `${guest.name} when left empty.` : 'The display name, else the domain name, when left empty.'}>
              <input id={CONTROL.hostName} value={draft.hostName} autoComplete="off" aria-describedby={describedBy(CONTROL.hostName)} onChange={(e) => set('hostName', e.target.value)} />
            </Field>
            <Field id={CONTROL.displayName} label="Display name (optional)" error={problemsAt(CONTROL.displayName)}>
              <input id={CONTROL.displayName} value={draft.displayName} autoComplete="off" aria-describedby={describedBy(CONTROL.displayName)} onChange={(e) => set('displayName', e.target.value)} />
            </Field>
            <Field id={CONTROL.account} label="For account" error={problemsAt(CONTROL.account)}>
              <select id={CONTROL.account} value={draft.account} aria-describedby={describedBy(CONTROL.account)} onChange={(e) => set('account', e.target.value)}>
                <option value="">Mine</option>
                {session.accounts.map((a) => (
                  <option key={a.id} value={a.name}>
                    {a.name} ({a.role})
                  </option>
                ))}
              </select>
            </Field>
          </div>
        </fieldset>

        <fieldset disabled={locked}>
          <legend>NICs</legend>
          {guest.nics.length === 0 ? (
            <Empty>The guest has no NIC.</Empty>
          ) : (
            guest.nics.map((nic) => {
              const chosen = networks.find((n) => n.id === draft.nics[nic.id]?.network);
              return (
                <div key={nic.id} className="mapping" data-nic={nic.id}>
                  <p className="mapping-title">
                    NIC {nic.id} <span className="mono">{nic.macAddress}</span>
                    <span className="muted small">
                      {nic.vlanId ? ` VLAN ${nic.vlanId}` : ' no VLAN'}
                      {nic.adapterType ? `, ${nic.adapterType}` : ''}
                      {nic.ipAddress ? `, the guest reports ${nic.ipAddress}` : ''}
                    </span>
                  </p>
                  <div className="grid">
                    <Field id={CONTROL.nicNetwork(nic.id)} label={`Network of NIC ${nic.id}`} error={problemsAt(CONTROL.nicNetwork(nic.id))}>
                      <select id={CONTROL.nicNetwork(nic.id)} value={draft.nics[nic.id]?.network ?? ''} aria-describedby={describedBy(CONTROL.nicNetwork(nic.id))} onChange={(e) => setNic(nic.id, 'network', e.target.value)}>
                        <option value="">{source === 'VMWARE' ? 'Choose a network' : nic.vlanId ? `The zone's network on VLAN ${nic.vlanId}` : 'Automatic (the NIC has no VLAN: choose one)'}</option>
                        {networks.map((n) => (
                          <option key={n.id} value={n.id}>
                            {n.name} ({n.type}
                            {n.vlan != null ? `, VLAN ${n.vlan}` : ''}
                            {n.cidr ? `, ${n.cidr}` : ', no addresses'})
                          </option>
                        ))}
                      </select>
                    </Field>
                    <Field
                      id={CONTROL.nicIp(nic.id)}
                      label={`IP address of NIC ${nic.id}`}
                      error={problemsAt(CONTROL.nicIp(nic.id))}
                      hint={chosen && !chosen.cidr ? 'None on an L2 network.' : 'An IPv4 address, or auto (the guest\'s, else the next free one); a network with addresses needs one.'}
                    >
                      <input id={CONTROL.nicIp(nic.id)} value={draft.nics[nic.id]?.ip ?? ''} autoComplete="off" aria-describedby={describedBy(CONTROL.nicIp(nic.id))} onChange={(e) => setNic(nic.id, 'ip', e.target.value)} />
                    </Field>
                  </div>
                </div>
              );
            })
          )}
          <ProblemNote id={CONTROL.nics}>{problemsAt(CONTROL.nics)}</ProblemNote>
          <label className="check">
            <input type="checkbox" id={CONTROL.forced} checked={draft.forced} aria-describedby={describedBy(CONTROL.forced)} onChange={(e) => set('forced', e.target.checked)} />
            Forced: a NIC whose MAC address is taken on its network gets a new one{source === 'EXTERNAL' ? ' (always so for an external VM)' : ''}
          </label>
          <ProblemNote id={CONTROL.forced}>{problemsAt(CONTROL.forced)}</ProblemNote>
        </fieldset>

        <fieldset disabled={locked}>
          <legend>Disks</legend>
          <p className="hint">One disk is the root disk; every other one is a data disk and needs a disk offering that holds it.</p>
          {disks.map((disk) => (
            <div key={disk.id} className="mapping" data-disk={disk.id}>
              <p className="mapping-title">
                Disk {disk.id} <span className="muted small">{formatBytes(disk.capacity)}, {disk.controller}{disk.imagePath ? `, ${disk.imagePath}` : ''}</span>
              </p>
              <div className="grid">
                <label className="check">
                  <input type="radio" name="import-root-disk" checked={draft.rootDisk === disk.id} onChange={() => set('rootDisk', disk.id)} /> Root disk
                </label>
                {draft.rootDisk !== disk.id && (
                  <Field id={CONTROL.disk(disk.id)} label={`Disk offering of disk ${disk.id}`} error={problemsAt(CONTROL.disk(disk.id))}>
                    <select id={CONTROL.disk(disk.id)} value={draft.diskOfferings[disk.id] ?? ''} aria-describedby={describedBy(CONTROL.disk(disk.id))} onChange={(e) => set('diskOfferings', { ...draft.diskOfferings, [disk.id]: e.target.value })}>
                      <option value="">Choose a disk offering</option>
                      {diskOfferings.map((o) => (
                        <option key={o.id} value={o.id}>
                          {o.name} ({o.customized ? 'custom size' : formatBytes(o.diskSize)})
                        </option>
                      ))}
                    </select>
                  </Field>
                )}
              </div>
            </div>
          ))}
          <ProblemNote id={CONTROL.disks}>{problemsAt(CONTROL.disks)}</ProblemNote>
          {source === 'EXTERNAL' && (
            <Field id={CONTROL.tmpPath} label="Temporary directory on the external host (optional)" error={problemsAt(CONTROL.tmpPath)} hint="Used when the disks are converted there before the copy; /tmp when left empty.">
              <input id={CONTROL.tmpPath} value={draft.tmpPath} autoComplete="off" placeholder="/tmp" aria-describedby={describedBy(CONTROL.tmpPath)} onChange={(e) => set('tmpPath', e.target.value)} />
            </Field>
          )}
        </fieldset>

        {source === 'VMWARE' && (
          <fieldset disabled={locked}>
            <legend>Conversion</legend>
            <p className="hint">virt-v2v converts the guest on a KVM host of the destination cluster; left to the API, each is chosen as CloudStack chooses it.</p>
            <div className="grid">
              <Field id={CONTROL.convertHost} label="Conversion host" error={problemsAt(CONTROL.convertHost)}>
                <select id={CONTROL.convertHost} value={draft.convertInstanceHostId} aria-describedby={describedBy(CONTROL.convertHost)} onChange={(e) => set('convertInstanceHostId', e.target.value)}>
                  <option value="">A host of the cluster with virt-v2v</option>
                  {zoneHosts.map((host) => (
                    <option key={host.id} value={host.id}>
                      {host.name}
                      {host.capabilities.includes('instance.conversion') ? ' (virt-v2v)' : ''}
                    </option>
                  ))}
                </select>
              </Field>
              <Field id={CONTROL.importHost} label="Import host" error={problemsAt(CONTROL.importHost)}>
                <select id={CONTROL.importHost} value={draft.importInstanceHostId} aria-describedby={describedBy(CONTROL.importHost)} onChange={(e) => set('importInstanceHostId', e.target.value)}>
                  <option value="">The conversion host, else one of the cluster's</option>
                  {clusterHosts.map((host) => (
                    <option key={host.id} value={host.id}>
                      {host.name}
                    </option>
                  ))}
                </select>
              </Field>
              <Field id={CONTROL.convertPool} label="Temporary storage" error={problemsAt(CONTROL.convertPool)}>
                <select id={CONTROL.convertPool} value={draft.convertInstancePoolId} aria-describedby={describedBy(CONTROL.convertPool)} onChange={(e) => set('convertInstancePoolId', e.target.value)}>
                  <option value="">An NFS pool both hosts reach</option>
                  {pools
                    .filter((pool) => pool.zoneId === zoneId && (pool.clusterId === null || pool.clusterId === clusterId))
                    .map((pool) => (
                      <option key={pool.id} value={pool.id}>
                        {pool.name} ({pool.type})
                      </option>
                    ))}
                </select>
              </Field>
              <Field id={CONTROL.extraParams} label="Further virt-v2v options (optional)" error={problemsAt(CONTROL.extraParams)} hint="Only those the administrator allows.">
                <input id={CONTROL.extraParams} value={draft.extraParams} autoComplete="off" aria-describedby={describedBy(CONTROL.extraParams)} onChange={(e) => set('extraParams', e.target.value)} />
              </Field>
            </div>
          </fieldset>
        )}

        <ErrorNote error={error} onDismiss={() => setError(null)} />
        {!locked && (
          <div className="buttons">
            <button type="button" onClick={() => onClose(false)}>
              Cancel
            </button>
            <button type="submit" className="primary" disabled={busy !== null}>
              {busy === 'preview' ? 'Asking for the preview…' : preview && !stale ? 'Preview again' : 'Preview'}
            </button>
          </div>
        )}
      </form>

      {refused && !preview && <Problems problems={refused.problems} sent={refused.sent} headingRef={resultHeading} />}
      {stale && !locked && <p className="notice" role="status">The settings changed since the preview: preview again before importing.</p>}
      {preview && !stale && (
        <section className="card preview" aria-labelledby="import-preview-title">
          <h2 id="import-preview-title" ref={resultHeading} tabIndex={-1}>
            Preview {preview.result.ok ? <span className="state state-running">no problem</span> : <span className="state state-error">{preview.result.problems.length} problem{preview.result.problems.length === 1 ? '' : 's'}</span>}
          </h2>
          <p className="muted small">Nothing has moved yet: this is what the import would do with these settings now.</p>
          {!preview.result.ok && <Problems problems={preview.result.problems} sent={preview.sent} />}
          {refused && <Problems problems={refused.problems} sent={refused.sent} title="The import was refused" />}
          <Plan preview={preview.result} pools={pools} diskOfferings={diskOfferings} />
          {!locked && (
            <div className="buttons">
              <button type="button" className="primary" disabled={!preview.result.ok || busy !== null} onClick={() => void runImport()} title={preview.result.ok ? undefined : 'Fix the problems first'}>
                {busy === 'import' ? 'Starting the import…' : `Import ${guest.name}`}
              </button>
            </div>
          )}
        </section>
      )}
      {job && <ImportProgress job={job} />}
    </section>
  );
}

/** The arguments importUnmanagedInstance takes (importVm's less the zone, the source and the external host's). */
function withoutExternal(variables: Record<string, unknown>): Record<string, unknown> {
  const { zoneId: _zone, importSource: _source, host: _host, username: _user, password: _password, tmpPath: _tmp, ...rest } = variables;
  const { convertInstanceHostId: _convert, importInstanceHostId: _import, convertInstancePoolId: _pool, extraParams: _extra, ...kvm } = rest;
  return kvm;
}

function ProblemNote({ id, children }: { id: string; children: ReactNode }) {
  if (!children) return null;
  return (
    <div className="field-error" id={`${id}-error`} role="alert">
      {children}
    </div>
  );
}

/** Every problem in one list, each with a way to its control. */
function Problems({ problems, sent, title, headingRef }: { problems: readonly ImportProblem[]; sent: SentLists; title?: string; headingRef?: Ref<HTMLHeadingElement> }) {
  const grouped = problemsByControl(problems, sent);
  const items = [...grouped.entries()].flatMap(([control, found]) => found.map((problem) => ({ control, problem })));
  return (
    <div className="problems" aria-labelledby="import-problems-title">
      <h3 id="import-problems-title" ref={headingRef} tabIndex={-1}>
        {title ?? 'What stops this import'}
      </h3>
      <ul>
        {items.map(({ control, problem }) => (
          <li key={`${control}-${problem.message}`} data-field={problem.field ?? ''}>
            {problem.message}{' '}
            {control !== CONTROL.general && (
              <button type="button" className="small-button" onClick={() => document.getElementById(control)?.focus()}>
                Go to the field
              </button>
            )}
          </li>
        ))}
      </ul>
    </div>
  );
}

function Plan({ preview, pools, diskOfferings }: { preview: ImportPreview; pools: readonly StoragePool[]; diskOfferings: readonly DiskOffering[] }) {
  const catalog = useCatalog();
  const session = useSession();
  const instance = preview.instance;
  const poolName = (id: string | null) => (id ? (pools.find((p) => p.id === id)?.name ?? id.slice(0, 8)) : '—');
  const diskOfferingName = (id: string | null) => (id ? (diskOfferings.find((o) => o.id === id)?.name ?? id.slice(0, 8)) : '—');
  return (
    <div className="plan">
      <h3>The instance</h3>
      {!instance ? (
        <Empty>The source could not be read, so there is no plan yet.</Empty>
      ) : (
        <dl className="facts">
          <dt>Host name</dt>
          <dd className="mono">{instance.hostName ?? '—'}</dd>
          <dt>Display name</dt>
          <dd>{instance.displayName}</dd>
          <dt>Hypervisor name</dt>
          <dd className="mono">{instance.instanceName ?? '—'}</dd>
          <dt>Account</dt>
          <dd>{instance.accountId ? (session.accountNames.get(instance.accountId) ?? instance.accountId) : '—'}</dd>
          <dt>Offering</dt>
          <dd>{catalog.name('offering', instance.serviceOfferingId)}</dd>
          <dt>Template</dt>
          <dd>{catalog.name('template', instance.templateId)}</dd>
          <dt>Compute</dt>
          <dd>{instance.cpuNumber !== null && instance.memory !== null ? `${instance.cpuNumber} × ${formatMHz(instance.cpuSpeed ?? 0)}, ${formatMiB(instance.memory)}` : '—'}</dd>
          <dt>State after the import</dt>
          <dd>{instance.state ? <StateBadge state={instance.state} /> : '—'}</dd>
          <dt>Host</dt>
          <dd>{instance.hostId ? catalog.name('host', instance.hostId) : '—'}</dd>
        </dl>
      )}
      <h3>Disks</h3>
      {preview.disks.length === 0 ? (
        <Empty>No disk is known yet.</Empty>
      ) : (
        <TableBox label="Planned disks" className="cards-on-phone">
          <thead>
            <tr>
              <th scope="col">Disk</th>
              <th scope="col">Type</th>
              <th scope="col">Source</th>
              <th scope="col">Size</th>
              <th scope="col">Pool</th>
              <th scope="col">Disk offering</th>
              <th scope="col">Bytes</th>
            </tr>
          </thead>
          <tbody>
            {preview.disks.map((disk) => (
              <tr key={disk.id} data-plan-disk={disk.id}>
                <td data-label="Disk">{disk.id}</td>
                <td data-label="Type">{disk.type ?? '—'}</td>
                <td data-label="Source" className="mono">
                  {disk.sourcePath ?? '—'}
                  {disk.sourceFormat ? ` (${disk.sourceFormat})` : ''}
                </td>
                <td data-label="Size">{formatBytes(disk.size)}</td>
                <td data-label="Pool">{poolName(disk.storagePoolId)}</td>
                <td data-label="Disk offering">{diskOfferingName(disk.diskOfferingId)}</td>
                <td data-label="Bytes">{!disk.copied ? 'taken where they are' : preview.importSource === 'VMWARE' ? 'converted into the pool' : 'copied to the pool'}</td>
              </tr>
            ))}
          </tbody>
        </TableBox>
      )}
      <h3>NICs</h3>
      {preview.nics.length === 0 ? (
        <Empty>No NIC is planned{preview.ok ? '' : ' (a problem stopped the plan before them)'}.</Empty>
      ) : (
        <TableBox label="Planned NICs" className="cards-on-phone">
          <thead>
            <tr>
              <th scope="col">NIC</th>
              <th scope="col">Network</th>
              <th scope="col">MAC address</th>
              <th scope="col">IP address</th>
              <th scope="col">Default</th>
            </tr>
          </thead>
          <tbody>
            {preview.nics.map((nic) => (
              <tr key={nic.id} data-plan-nic={nic.id}>
                <td data-label="NIC">{nic.id}</td>
                <td data-label="Network">{catalog.name('network', nic.networkId)}</td>
                <td data-label="MAC address" className="mono">{nic.macAddress ?? 'a new one'}</td>
                <td data-label="IP address" className="mono">{nic.ipAddress ?? 'the next free one, or none on L2'}</td>
                <td data-label="Default">{nic.isDefault ? 'yes' : 'no'}</td>
              </tr>
            ))}
          </tbody>
        </TableBox>
      )}
    </div>
  );
}

/** The import's job, as it is pushed: its step and progress, then the new instance or the failure in the API's words. */
function ImportProgress({ job }: { job: Job }) {
  return (
    <section className="card" aria-labelledby="import-job-title" data-job-status={job.status}>
      <h2 id="import-job-title">{jobTitle(job.cmd)}</h2>
      {job.status === 'PENDING' && (
        <div aria-live="polite">
          <p>
            {job.step ?? 'Queued'} · {job.progress ?? 0} %
          </p>
          <ProgressBar value={job.progress ?? 0} label="Import progress" />
        </div>
      )}
      {job.status === 'SUCCEEDED' && (
        <p role="status">
          Imported.{' '}
          {job.instanceId ? <Link to={`/instances/${job.instanceId}`}>Open the new instance</Link> : <Link to="/instances">See the instances</Link>}
        </p>
      )}
      {job.status === 'FAILED' && <ErrorNote error={`The import failed: ${job.error?.message ?? 'no reason given'}`} />}
    </section>
  );
}

export function PowerState({ state }: { state: Guest['powerState'] }) {
  return <span className={`state ${state === 'PowerOn' ? 'state-running' : 'state-stopped'}`}>{state === 'PowerOn' ? 'Running' : 'Stopped'}</span>;
}
