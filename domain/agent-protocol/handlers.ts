// Where "every command type is handled" is checked by the compiler. A handler table has one entry
// per command type, each typed for its own command; a command type added to `AgentCommand` without
// an entry in every table (the agent's execution, the command parser) fails to compile. The driver
// port keys its operations by command type as well (`adapters/hypervisor/driver.ts`), so the
// simulator and libvirt drivers fail to compile too until they carry the new command out.
import type { AgentCommand, AgentCommandOf, AgentCommandType } from './messages.js';

export type AgentCommandHandlers<R, Args extends readonly unknown[] = []> = {
  readonly [K in AgentCommandType]: (command: AgentCommandOf<K>, ...args: Args) => R;
};

/** Hands the command to its type's handler. */
export function handleAgentCommand<R, Args extends readonly unknown[]>(handlers: AgentCommandHandlers<R, Args>, command: AgentCommand, ...args: Args): R {
  return dispatch(handlers, command.type, command, args);
}

// Split out so the handler's type and the command's are one type parameter K (TypeScript's
// correlated-union pattern): no cast between them.
function dispatch<R, Args extends readonly unknown[], K extends AgentCommandType>(
  handlers: AgentCommandHandlers<R, Args>,
  type: K,
  command: AgentCommandOf<K>,
  args: Args,
): R {
  const handler: (command: AgentCommandOf<K>, ...args: Args) => R = handlers[type];
  return handler(command, ...args);
}

// A table over the types, so this set cannot miss one.
const COMMAND_TYPES: { readonly [K in AgentCommandType]: true } = {
  StartDomain: true,
  StopDomain: true,
  RebootDomain: true,
  MigrateDomain: true,
  DestroyDomain: true,
  ScaleDomain: true,
  CreateDomainSnapshot: true,
  RevertDomainSnapshot: true,
  DeleteDomainSnapshot: true,
  CopyVolumes: true,
  ManageDomain: true,
  UnmanageDomain: true,
  CopyRemoteVolumes: true,
  ConvertVmwareGuest: true,
  ImportConvertedDisks: true,
};

export function isAgentCommandType(value: unknown): value is AgentCommandType {
  return typeof value === 'string' && Object.hasOwn(COMMAND_TYPES, value);
}
