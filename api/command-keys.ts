// Where the main job keeps the keys it signs agent commands with: the ring is one secret in the
// secrets port, and the data directory holds only its reference (agent-command-keys.ref) and the copy
// an operator hands to every agent (agent-command-keys.json, 0600: the agents' `commandKeysFile`).
// The first start makes a ring; `vmledger agent-keys rotate` makes a new current key and keeps the
// old one as the previous, which agents still accept until the next rotation.
import { chmod, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { formatCommandKeyRing, newCommandKey, parseCommandKeyRing, rotateCommandKeys, type CommandKeyRing } from '../adapters/hypervisor/command-signing.js';
import type { SecretStore } from '../adapters/secrets/port.js';

export const COMMAND_KEYS_REF_FILE = 'agent-command-keys.ref';
export const AGENT_COMMAND_KEYS_FILE = 'agent-command-keys.json';

async function readRef(dataDir: string): Promise<string | undefined> {
  try {
    return (await readFile(join(dataDir, COMMAND_KEYS_REF_FILE), 'utf8')).trim();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

/** Written to a sibling and renamed over, so a crash leaves the old file or the new one. */
async function writeAtomically(file: string, text: string): Promise<void> {
  const temporary = `${file}.tmp`;
  await writeFile(temporary, text, { mode: 0o600 });
  await chmod(temporary, 0o600);
  await rename(temporary, file);
}

async function storeRing(secrets: SecretStore, dataDir: string, ring: CommandKeyRing): Promise<void> {
  const ref = await secrets.put(formatCommandKeyRing(ring));
  await writeAtomically(join(dataDir, COMMAND_KEYS_REF_FILE), `${ref}\n`);
}

/** The ring the main job signs with, made on the first start; the agents' copy is written again each time. */
export async function openCommandKeys(secrets: SecretStore, dataDir: string, now = new Date()): Promise<CommandKeyRing> {
  const ref = await readRef(dataDir);
  if (ref === undefined) await storeRing(secrets, dataDir, { current: newCommandKey(now) });
  const current = (await readRef(dataDir))!;
  const text = await secrets.get(current);
  if (text === undefined) {
    throw new Error(`${join(dataDir, COMMAND_KEYS_REF_FILE)} names secret ${current}, which the secrets store does not hold: the agent command keys are lost`);
  }
  const ring = parseCommandKeyRing(text, `the agent command keys (secret ${current})`);
  await writeAtomically(join(dataDir, AGENT_COMMAND_KEYS_FILE), formatCommandKeyRing(ring));
  return ring;
}

/**
 * A new current key; the current one becomes the previous (the one before that is forgotten). Give
 * the agents the new agent-command-keys.json, then restart the main job: until it restarts it signs
 * with the old key, which the agents still accept as the previous.
 */
export async function rotateStoredCommandKeys(secrets: SecretStore, dataDir: string, now = new Date()): Promise<CommandKeyRing> {
  const ring = await openCommandKeys(secrets, dataDir, now);
  const old = (await readRef(dataDir))!;
  const rotated = rotateCommandKeys(ring, newCommandKey(now));
  await storeRing(secrets, dataDir, rotated);
  await secrets.delete(old);
  await writeAtomically(join(dataDir, AGENT_COMMAND_KEYS_FILE), formatCommandKeyRing(rotated));
  return rotated;
}
