// Details of the AMQP connection's URL and socket: the heartbeat, the password kept out of messages,
// and the frames of a tick written to the socket together.

/** amqplib takes the heartbeat from the URL; one the caller put there wins. */
export function withHeartbeat(url: string, seconds: number): string {
  const parsed = new URL(url);
  if (parsed.searchParams.has('heartbeat')) return url;
  parsed.searchParams.set('heartbeat', String(seconds));
  return parsed.toString();
}

/** Connection URLs carry the password; error messages and logs must not. */
export function redact(url: string): string {
  return url.replace(/\/\/([^:/@]*):[^@/]*@/, '//$1:***@');
}

/**
 * amqplib writes every frame of a tick to the socket one by one: with Nagle off, one syscall and one
 * TCP segment each (a publish is three frames). Corking the socket around amqplib's write pass sends
 * them with one writev. This reaches into amqplib's connection (its `muxer` and `stream`); when those
 * are not there, as in another amqplib version, nothing changes but the number of syscalls.
 */
export function coalesceWrites(model: unknown): void {
  const connection = (model as { connection?: { muxer?: { _readIncoming?: () => void }; stream?: { cork?: () => void; uncork?: () => void } } }).connection;
  const muxer = connection?.muxer;
  const stream = connection?.stream;
  const writePass = muxer?._readIncoming;
  if (!muxer || typeof writePass !== 'function' || typeof stream?.cork !== 'function' || typeof stream.uncork !== 'function') return;
  muxer._readIncoming = function corkedWritePass(this: unknown) {
    stream.cork!();
    try {
      writePass.call(this);
    } finally {
      stream.uncork!();
    }
  };
}
