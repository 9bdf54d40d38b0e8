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

/**
 * The name of a domain vmledger adopted (importUnmanagedInstance keeps the hypervisor's name, as
 * CloudStack does): characters that are safe in a libvirt domain name, a file name and a command line
 * as they are. A name of vmledger's own form must still name its instance (see the agent's parser);
 * what protects a domain is its vmledger record, which the agent checks before acting on it.
 */
export const ADOPTED_DOMAIN_NAME = /^[A-Za-z0-9][A-Za-z0-9._+-]{0,99}$/;
