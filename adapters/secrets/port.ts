// The secrets port: host passwords and private keys live here, never in an event. Events carry the
// reference `put` returns; deleting the secret leaves the history intact but the credential gone.

export interface SecretStore {
  /** Keeps the secret and returns a new, unguessable reference to it. */
  put(secret: string): Promise<string>;
  /** The secret, or undefined for an unknown or deleted reference. */
  get(ref: string): Promise<string | undefined>;
  /** Forgets the secret; an unknown reference is not an error, so a retried delete succeeds. */
  delete(ref: string): Promise<void>;
}

export class InvalidSecretError extends TypeError {
  constructor(message: string) {
    super(message);
    this.name = 'InvalidSecretError';
  }
}

/** Both stores refuse the same inputs, so code tested against the memory store behaves the same on disk. */
export function assertSecret(secret: unknown): asserts secret is string {
  if (typeof secret !== 'string') throw new InvalidSecretError(`a secret must be a string, got ${typeof secret}`);
}
