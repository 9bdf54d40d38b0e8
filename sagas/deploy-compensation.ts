// The deployment's compensation, the one place a deployment that did not record its instance is undone.
// A deployment claims its instance's name (its own stream, sagas/instance-names.ts), opens its job and claims its NICs'
// addresses (network streams) before it records the instance. When it fails in between, or the
// process dies there, this gives everything back and closes the job; the API calls it when a step
// fails, the saga runner when it resumes a deploy job whose instance was never recorded, and the
// orphaned-claims sweep for claims no job describes.
//
// It first closes the instance's stream to the deployment (`AbandonDeployment`, which is refused
// once the instance exists), so a deployment still under way elsewhere can never record an instance
// whose name and addresses were just given back: whichever append lands first decides.
import { CommandRejectedError, unlessRefused, type CommandEnvelope } from '../adapters/eventstore/command-handler.js';
import type { Commander } from '../adapters/eventstore/commander.js';
import { instanceDecider, instanceStream } from '../domain/instance/index.js';
import { jobDecider, jobStream, type JobError, type NicClaim } from '../domain/job/index.js';
import { releaseInstanceName } from './instance-names.js';
import { releaseNicAddress } from './nic-addresses.js';

export interface Deployment {
  readonly instanceId: string;
  /** The account holding its name; null when the name is not held (any more). */
  readonly accountId: string | null;
  /** The name it claimed; null when unknown (a claim of an older log, kept on the account stream). */
  readonly name: string | null;
  /** Its job, when it had opened one. */
  readonly jobId: string | null;
  /** Its NICs; `addresses`, claims the read model knows of a NIC that was never recorded (see releaseNicAddress). */
  readonly nics: ReadonlyArray<NicClaim & { readonly addresses?: readonly string[] }>;
}

/** The failure of a deploy job whose process died before the instance was recorded. */
export const INTERRUPTED: JobError = {
  code: 'INTERNAL_ERROR',
  errorCode: 530,
  message: 'The deployment was interrupted before its instance was recorded; its name and addresses were given back. Deploy again.',
};

/**
 * Undoes the deployment unless its instance was recorded: `abandoned` when it gave the claims back
 * (or had already), `recorded` when the instance exists and nothing was touched.
 */
export async function abandonDeployment(commander: Commander, deployment: Deployment, failure: JobError, envelope: CommandEnvelope): Promise<'abandoned' | 'recorded'> {
  const { instanceId, accountId, jobId } = deployment;
  try {
    await commander.execute(instanceStream(instanceId), instanceDecider, { type: 'AbandonDeployment', instanceId, jobId: jobId ?? '', reason: failure.message, at: envelope.occurredAt }, envelope);
  } catch (error) {
    if (error instanceof CommandRejectedError) return 'recorded';
    throw error;
  }
  // Each release is idempotent: a repeat after a crash half-way gives back only what is still held.
  for (const nic of deployment.nics) {
    await unlessRefused(releaseNicAddress(commander, nic, envelope));
  }
  if (accountId) await unlessRefused(releaseInstanceName(commander, { accountId, instanceId, name: deployment.name }, envelope));
  if (jobId) await unlessRefused(commander.execute(jobStream(jobId), jobDecider, { type: 'CompleteJob', error: failure, at: envelope.occurredAt }, envelope));
  return 'abandoned';
}
