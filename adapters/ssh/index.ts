export { ChannelSlots } from './channel-slots.js';
export {
  HostKeyMismatchError,
  RemoteCommandError,
  SshClosedError,
  SshConnectError,
  SshConnectionLostError,
  SshError,
  SshTimeoutError,
} from './errors.js';
export { hostKeyFingerprint, parseHostKeyFingerprint } from './host-key.js';
export { LineSplitter } from './line-splitter.js';
export { quoteShellArgument, shellCommandLine } from './shell-quote.js';
export {
  SshConnection,
  type ExecOptions,
  type ExecResult,
  type RemoteProcess,
  type SshConnectionOptions,
  type StreamOptions,
} from './ssh-connection.js';
