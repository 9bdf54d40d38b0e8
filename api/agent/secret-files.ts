// The agent's secret files: the command keys it checks signatures with and the hosts' VNC passwords.
// Errors name the file and what is wrong with it, never what it holds.
import { readFile } from 'node:fs/promises';
import { parseCommandKeyRing, type CommandKeyRing } from '../../adapters/hypervisor/command-signing.js';
import { AgentConfigError } from './agent-config.js';

async function readSecretFile(file: string, what: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (error) {
    throw new AgentConfigError(`cannot read the ${what} file ${file}: ${(error as NodeJS.ErrnoException).code ?? 'unreadable'}`);
  }
}

export async function readCommandKeys(file: string): Promise<CommandKeyRing> {
  return parseCommandKeyRing(await readSecretFile(file, 'command keys'), file);
}

/** VNC authentication uses at most 8 characters; a longer password would be cut without a word. */
export async function readVncPassword(file: string): Promise<string> {
  const password = (await readSecretFile(file, 'VNC password')).replace(/\r?\n$/, '');
  if (!/^[\x21-\x7e]{1,8}$/.test(password)) throw new AgentConfigError(`the VNC password in ${file} must be 1-8 printable ASCII characters without spaces`);
  return password;
}
