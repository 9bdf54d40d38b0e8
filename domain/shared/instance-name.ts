// The hypervisor-side name of an instance (CloudStack's instanceName): i-<accountId>-<instanceId>-<suffix>,
// the suffix being the `instance.name` setting, or the instance's own hostname when
// `vm.instancename.flag` is on (api/control-plane/instances.ts builds it). Declared once here, because
// three places must agree on it exactly: the setting's rule, the hostname rule, and the agent, which
// refuses a command naming a domain that vmledger cannot have named.

/** A lower-case UUID, as vmledger's ids are (randomUUID, uuidv5). */
export const UUID_SOURCE = '[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}';
export const UUID = new RegExp(`^${UUID_SOURCE}$`);

// NetUtils.verifyDomainNameLabel(name, isHostName=true): an RFC 1123 label that starts with a letter.
const HOSTNAME_SOURCE = '[A-Za-z](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?';
export const HOSTNAME = new RegExp(`^${HOSTNAME_SOURCE}$`);

// CloudStack's NetUtils.verifyInstanceName only refuses '-', ' ' and '+'; vmledger keeps the suffix to
// characters that are safe in a libvirt domain name, a file name and a command line as they are.
const INSTANCE_NAME_SETTING_SOURCE = '[A-Za-z0-9_.]{1,64}';
/** The `instance.name` setting. */
export const INSTANCE_NAME_SETTING = new RegExp(`^${INSTANCE_NAME_SETTING_SOURCE}$`);

/** Every name internalName can produce, and nothing else; the capture groups are the account and instance ids. */
export const INSTANCE_NAME = new RegExp(`^i-(${UUID_SOURCE})-(${UUID_SOURCE})-(?:${INSTANCE_NAME_SETTING_SOURCE}|${HOSTNAME_SOURCE})$`);

/** The instance id inside a hypervisor-side name, or undefined for a name vmledger cannot have made. */
export function instanceIdInName(name: string): string | undefined {
  return INSTANCE_NAME.exec(name)?.[2];
}

// A VM snapshot's host-side name, as CloudStack makes it: `<instanceName>_VS_<yyyyMMddHHmmss>` (GMT).
// The orchestrator makes it, the agent refuses any other form: it becomes a libvirt snapshot name and
// a qcow2 internal snapshot tag, so it must name its own instance and hold nothing a shell could read.
const VM_SNAPSHOT_TIME_SOURCE = '[0-9]{4}(?:0[1-9]|1[0-2])(?:0[1-9]|[12][0-9]|3[01])(?:[01][0-9]|2[0-3])[0-5][0-9][0-5][0-9]';
/** The capture group is the instance name: vmledger's own form, or an imported domain's (ADOPTED_DOMAIN_NAME). */
export const VM_SNAPSHOT_NAME = new RegExp(`^(${INSTANCE_NAME.source.slice(1, -1)}|[A-Za-z0-9][A-Za-z0-9._+-]{0,99})_VS_${VM_SNAPSHOT_TIME_SOURCE}$`);
/** The longest name VM_SNAPSHOT_NAME matches (an instance name of 2+36+1+36+1+64 characters, then 18). */
export const MAX_VM_SNAPSHOT_NAME = 158;

/** The host-side name of a snapshot of `instanceName` taken at `at`. */
export function vmSnapshotName(instanceName: string, at: Date): string {
  const stamp = at.toISOString().slice(0, 19).replace(/[-T:]/g, '');
  return `${instanceName}_VS_${stamp}`;
}

/** The instance name inside a VM snapshot's name, or undefined for a name vmledger cannot have made. */
export function instanceNameOfVmSnapshot(name: string): string | undefined {
  return name.length <= MAX_VM_SNAPSHOT_NAME ? VM_SNAPSHOT_NAME.exec(name)?.[1] : undefined;
}

/**
 * The name of a domain vmledger adopted (importUnmanagedInstance keeps the hypervisor's name, as
 * CloudStack does): characters that are safe in a libvirt domain name, a file name and a command line
 * as they are. A name of vmledger's own form must still name its instance (see the agent's parser);
 * what protects a domain is its vmledger record, which the agent checks before acting on it.
 */
export const ADOPTED_DOMAIN_NAME = /^[A-Za-z0-9][A-Za-z0-9._+-]{0,99}$/;
