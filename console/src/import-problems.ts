// Where each problem of an import's preview is shown: beside the control of the argument it names.
// importVmPreview gives importVm's own `field` (docs/api.md): a list entry by its index in the list the
// wizard sent (`nicIpAddressList[0].ip4Address`), else the whole list (`nicNetworkList`), whose
// message then names the NIC or disk ("… for NIC ID: 0 is invalid", "nic(ID: 0)"), which is how a
// problem finds its row.
import type { ImportProblem } from './model.ts';

/** The lists the wizard sent, to tell which NIC or disk an indexed field is about. */
export interface SentLists {
  nicNetworkList: readonly { nic: string }[];
  nicIpAddressList: readonly { nic: string }[];
  dataDiskOfferingList: readonly { disk: string }[];
}

/** The ids of the wizard's controls a problem can sit beside. */
export const CONTROL = {
  source: 'import-source',
  offering: 'import-serviceOfferingId',
  cpuSpeed: 'import-cpuSpeed',
  template: 'import-templateId',
  displayName: 'import-displayName',
  hostName: 'import-hostName',
  account: 'import-account',
  nics: 'import-nics',
  nicNetwork: (nic: string) => `import-nic-${nic}-network`,
  nicIp: (nic: string) => `import-nic-${nic}-ip`,
  disks: 'import-disks',
  disk: (disk: string) => `import-disk-${disk}`,
  forced: 'import-forced',
  tmpPath: 'import-tmpPath',
  convertHost: 'import-convertInstanceHostId',
  importHost: 'import-importInstanceHostId',
  convertPool: 'import-convertInstancePoolId',
  extraParams: 'import-extraParams',
  general: 'import-general',
} as const;

const SOURCE_FIELDS = new Set(['name', 'host', 'username', 'password', 'clusterId', 'zoneId', 'importSource', 'hostId']);

/** The NIC or disk id a message names: "NIC ID: 0", "NIC(ID: 0)", "nic(ID: 0)", "NIC ID: '0'", "disk ID: 1", "disk(ID: 1)". */
function idIn(message: string, kind: 'nic' | 'disk'): string | null {
  const match = new RegExp(`\\b${kind}\\s*\\(?\\s*ID:\\s*'?([A-Za-z0-9_-]+)`, 'i').exec(message);
  return match?.[1] ?? null;
}

/** The control `problem` belongs beside. */
export function controlOf(problem: ImportProblem, sent: SentLists): string {
  const field = problem.field;
  if (field === null) return CONTROL.general;
  const indexed = /^(nicNetworkList|nicIpAddressList|dataDiskOfferingList)\[(\d+)\]/.exec(field);
  if (indexed) {
    const [, list, index] = indexed as unknown as [string, keyof SentLists, string];
    const entry = sent[list][Number(index)] as { nic?: string; disk?: string } | undefined;
    if (list === 'dataDiskOfferingList') return entry?.disk !== undefined ? CONTROL.disk(entry.disk) : CONTROL.disks;
    if (entry?.nic === undefined) return CONTROL.nics;
    return list === 'nicNetworkList' ? CONTROL.nicNetwork(entry.nic) : CONTROL.nicIp(entry.nic);
  }
  if (field === 'nicNetworkList' || field === 'nicIpAddressList') {
    const nic = idIn(problem.message, 'nic');
    if (nic === null) return CONTROL.nics;
    return field === 'nicNetworkList' ? CONTROL.nicNetwork(nic) : CONTROL.nicIp(nic);
  }
  if (field === 'dataDiskOfferingList') {
    const disk = idIn(problem.message, 'disk');
    return disk !== null && sent.dataDiskOfferingList.some((entry) => entry.disk === disk) ? CONTROL.disk(disk) : CONTROL.disks;
  }
  if (field === 'serviceOfferingId' || field === 'details.cpuNumber' || field === 'details.memory') return CONTROL.offering;
  if (field === 'details.cpuSpeed') return CONTROL.cpuSpeed;
  if (field === 'templateId') return CONTROL.template;
  if (field === 'displayName') return CONTROL.displayName;
  if (field === 'hostName') return CONTROL.hostName;
  if (field === 'account' || field === 'domainId') return CONTROL.account;
  if (field === 'forced') return CONTROL.forced;
  if (field === 'tmpPath') return CONTROL.tmpPath;
  if (field === 'convertInstanceHostId') return CONTROL.convertHost;
  if (field === 'importInstanceHostId') return CONTROL.importHost;
  if (field === 'convertInstancePoolId') return CONTROL.convertPool;
  if (field === 'extraParams') return CONTROL.extraParams;
  if (SOURCE_FIELDS.has(field)) return CONTROL.source;
  return CONTROL.general;
}

/** Every problem, grouped by the control it is shown beside (in the preview's order). */
export function problemsByControl(problems: readonly ImportProblem[], sent: SentLists): Map<string, ImportProblem[]> {
  const grouped = new Map<string, ImportProblem[]>();
  for (const problem of problems) {
    const control = controlOf(problem, sent);
    grouped.set(control, [...(grouped.get(control) ?? []), problem]);
  }
  return grouped;
}
