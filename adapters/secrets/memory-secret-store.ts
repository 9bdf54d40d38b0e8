// Secrets held in process memory: for tests and throwaway runs; nothing survives the process.
import { randomUUID } from 'node:crypto';
import { assertSecret, type SecretStore } from './port.js';

export class MemorySecretStore implements SecretStore {
  private readonly secrets = new Map<string, string>();

  async put(secret: string): Promise<string> {
    assertSecret(secret);
    const ref = randomUUID();
    this.secrets.set(ref, secret);
    return ref;
  }

  async get(ref: string): Promise<string | undefined> {
    return typeof ref === 'string' ? this.secrets.get(ref) : undefined;
  }

  /** How many secrets are held: what a test checks to see that a workflow deleted its own. */
  get size(): number {
    return this.secrets.size;
  }

  async delete(ref: string): Promise<void> {
    if (typeof ref === 'string') this.secrets.delete(ref);
  }
}
