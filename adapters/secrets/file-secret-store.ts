// Secrets in one JSON file in the data directory, readable by the owner only (0600). Every change
// rewrites the whole file to a temporary sibling and renames it over the old one, so a crash leaves
// either the old or the new file, never a torn one. The file is small (one entry per host
// credential), which is what makes whole-file rewrites the simple and safe choice.
import { randomUUID } from 'node:crypto';
import { chmod, mkdir, open, readFile, rename, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { assertSecret, type SecretStore } from './port.js';

export const SECRETS_FILE_NAME = 'secrets.json';
const FILE_MODE = 0o600;
const FORMAT_VERSION = 1;

interface SecretsFile {
  readonly version: number;
  readonly secrets: Record<string, string>;
}

export class SecretsFileError extends Error {
  constructor(
    readonly file: string,
    message: string,
  ) {
    super(`${file}: ${message}`);
    this.name = 'SecretsFileError';
  }
}

export class FileSecretStore implements SecretStore {
  /** Writes run one after another: two interleaved rewrites would lose one of the changes. */
  private writing: Promise<void> = Promise.resolve();

  private constructor(
    readonly file: string,
    private readonly secrets: Map<string, string>,
  ) {}

  /** Opens (or starts) the store in `directory`, tightening the file's mode if someone widened it. */
  static async open(directory: string, fileName = SECRETS_FILE_NAME): Promise<FileSecretStore> {
    await mkdir(directory, { recursive: true });
    const file = join(directory, fileName);
    let text: string | undefined;
    try {
      text = await readFile(file, 'utf8');
    } catch (error) {
      if (!isMissing(error)) throw error;
    }
    if (text === undefined) return new FileSecretStore(file, new Map());
    await chmod(file, FILE_MODE);
    return new FileSecretStore(file, parse(file, text));
  }

  async put(secret: string): Promise<string> {
    assertSecret(secret);
    const ref = randomUUID();
    await this.change(() => {
      this.secrets.set(ref, secret);
      return () => this.secrets.delete(ref);
    });
    return ref;
  }

  async get(ref: string): Promise<string | undefined> {
    return typeof ref === 'string' ? this.secrets.get(ref) : undefined;
  }

  async delete(ref: string): Promise<void> {
    if (typeof ref !== 'string') return;
    await this.change(() => {
      const previous = this.secrets.get(ref);
      if (previous === undefined) return undefined;
      this.secrets.delete(ref);
      return () => this.secrets.set(ref, previous);
    });
  }

  /**
   * Applies the change in memory (in turn with the other writes, so it sees their effect), persists
   * it, and undoes it in memory if it could not be persisted. `apply` returns its undo, or undefined
   * when there was nothing to change.
   */
  private change(apply: () => (() => void) | undefined): Promise<void> {
    const run = this.writing.then(async () => {
      const undo = apply();
      if (undo === undefined) return;
      try {
        await this.persist();
      } catch (error) {
        undo();
        throw error;
      }
    });
    this.writing = run.catch(() => undefined);
    return run;
  }

  private async persist(): Promise<void> {
    const content: SecretsFile = { version: FORMAT_VERSION, secrets: Object.fromEntries(this.secrets) };
    const temporary = join(dirname(this.file), `.${SECRETS_FILE_NAME}.${randomUUID()}.tmp`);
    // `mode` applies at creation, before any byte is written; umask can only remove bits from 0600.
    const handle = await open(temporary, 'wx', FILE_MODE);
    try {
      await handle.writeFile(JSON.stringify(content), 'utf8');
      await handle.sync();
    } catch (error) {
      await handle.close();
      await rm(temporary, { force: true });
      throw error;
    }
    await handle.close();
    try {
      await rename(temporary, this.file);
    } catch (error) {
      await rm(temporary, { force: true });
      throw error;
    }
    await syncDirectory(dirname(this.file));
  }
}

function parse(file: string, text: string): Map<string, string> {
  let content: unknown;
  try {
    content = JSON.parse(text);
  } catch {
    throw new SecretsFileError(file, 'is not valid JSON');
  }
  if (typeof content !== 'object' || content === null || !('version' in content) || !('secrets' in content)) {
    throw new SecretsFileError(file, 'is not a vmledger secrets file');
  }
  if (content.version !== FORMAT_VERSION) throw new SecretsFileError(file, `has format version ${String(content.version)}, expected ${FORMAT_VERSION}`);
  const secrets = content.secrets;
  if (typeof secrets !== 'object' || secrets === null || Array.isArray(secrets)) throw new SecretsFileError(file, 'has no secrets object');
  const map = new Map<string, string>();
  for (const [ref, value] of Object.entries(secrets)) {
    if (typeof value !== 'string') throw new SecretsFileError(file, `secret ${ref} is not a string`);
    map.set(ref, value);
  }
  return map;
}

function isMissing(error: unknown): boolean {
  return typeof error === 'object' && error !== null && 'code' in error && error.code === 'ENOENT';
}

/** Makes the rename itself durable; some platforms cannot open a directory for syncing, which is then skipped. */
async function syncDirectory(directory: string): Promise<void> {
  let handle;
  try {
    handle = await open(directory, 'r');
    await handle.sync();
  } catch {
    // Best effort: the file's own contents were synced before the rename.
  } finally {
    await handle?.close();
  }
}
