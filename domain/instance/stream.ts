// The instance's stream name: the one place it is spelled.
export const INSTANCE_STREAM_PREFIX = 'instance-';

export function instanceStream(instanceId: string): string {
  return `${INSTANCE_STREAM_PREFIX}${instanceId}`;
}
