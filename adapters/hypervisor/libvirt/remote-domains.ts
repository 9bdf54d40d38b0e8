// The stopped domains of an external KVM host (behaviour §4.6 `external`, CloudStack's
// LibvirtGetRemoteVmsCommandWrapper): the agent of a managed host logs in to it over SSH with the
// operator's login, for this one listing, and reads each shut-off domain as a listing of unmanaged
// instances reads it (unmanaged-domains.ts). CloudStack reaches the remote libvirtd over
// qemu+tcp://, unauthenticated; vmledger goes through the host's sshd with the login given instead.
// The password is held only for the call: it is never put in a message, a log line or an error.
import type { RemoteHostLogin, UnmanagedDomain } from '../../../domain/agent-protocol/index.js';
import { DriverError } from '../driver.js';
import { SshConnection } from '../../ssh/ssh-connection.js';
import { SshError } from '../../ssh/errors.js';
import { HostCommands } from './host-commands.js';
import { unmanagedDomainOf } from './unmanaged-domains.js';
import { parseBlockInfo } from './virsh-output.js';
import { XmlReadError } from './xml-reader.js';

/** How the agent logs in: the operator's password, else its own key. */
export type RemoteCredential = { readonly password: string } | { readonly privateKeyPath: string };

/** `connectionRefused`: CloudStack's two messages, the first naming SSH rather than libvirtd's tcp port. */
function remoteFailure(remote: RemoteHostLogin, error: unknown): DriverError {
  if (error instanceof DriverError) return new DriverError(error.code, `Unable to list stopped VMs on remote host ${remote.host}, due to: ${error.message}`, error.detail);
  if (error instanceof SshError) {
    return new DriverError('REMOTE_COMMAND_FAILED', `Unable to connect to remote host ${remote.host}, please check the SSH connectivity (port ${remote.port}) and the login, and retry: ${error.message}`);
  }
  if (error instanceof XmlReadError) return new DriverError('REMOTE_COMMAND_FAILED', `Unable to list stopped VMs on remote host ${remote.host}, due to: ${error.message}`);
  return new DriverError('REMOTE_COMMAND_FAILED', `Unable to list stopped VMs on remote host ${remote.host}, due to: ${error instanceof Error ? error.name : 'an unknown failure'}`);
}

async function readDomain(commands: HostCommands, name: string): Promise<UnmanagedDomain | null> {
  const what = `reading domain ${name}`;
  const [xml, sizes] = await Promise.all([
    commands.virshResult(['dumpxml', '--inactive', '--security-info', '--domain', name], what),
    commands.virshResult(['domblkinfo', '--all', '--domain', name], what),
  ]);
  for (const result of [xml, sizes]) {
    if (result.exitCode === 0) continue;
    const failure = commands.failure(what, result);
    // Undefined or started between the listing and now: no longer a stopped domain to offer.
    if (failure.code === 'NOT_FOUND') return null;
    throw failure;
  }
  // A domain another vmledger manages (it has a record) is not offered either.
  return unmanagedDomainOf(xml.stdout, 'stopped', parseBlockInfo(sizes.stdout));
}

/** The remote host's shut-off domains without a vmledger record, by name. */
export async function listRemoteStoppedDomains(remote: RemoteHostLogin, credential: RemoteCredential): Promise<UnmanagedDomain[]> {
  // The host key cannot be pinned: the operator names the host by address only, as in CloudStack.
  const connection = new SshConnection({ host: remote.host, port: remote.port, username: remote.username, hostKeySha256: null, readyTimeoutMs: 20_000, ...credential });
  const commands = new HostCommands(connection, remote.host);
  try {
    // Connected first, so a wrong address or login reads as such rather than as a failed listing.
    await connection.connect();
    const listed = await commands.virsh(['list', '--inactive', '--name'], 'listing the stopped domains');
    const names = listed.split('\n').map((line) => line.trim()).filter((line) => line !== '');
    const found: UnmanagedDomain[] = [];
    for (const name of names) {
      const domain = await readDomain(commands, name);
      if (domain !== null && domain.powerState === 'PowerOff') found.push(domain);
    }
    return found.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  } catch (error) {
    throw remoteFailure(remote, error);
  } finally {
    await connection.close();
  }
}
