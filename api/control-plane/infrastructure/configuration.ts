// Configuration: the global and zone settings, and what they are set to.
import { configStream, configurationDecider } from '../../../domain/config/index.js';
import { listConfigurations, type ConfigurationNode } from '../../../projections/configuration/index.js';
import { optionalString, requiredString } from '../args.js';
import { db, envelopeOf, execute, requireRootAdmin, setting, settled, type ControlPlaneContext } from '../context.js';
import type { Caller } from '../port.js';
import { readBack, requireZone } from './shared.js';

export async function updateConfiguration(
  context: ControlPlaneContext,
  caller: Caller,
  args: { readonly name: string; readonly value: string; readonly zoneId?: string | null },
): Promise<ConfigurationNode> {
  requireRootAdmin(caller, 'updateConfiguration');
  const name = requiredString(args, 'name');
  const value = requiredString(args, 'value');
  const zoneIdArg = optionalString(args, 'zoneId') ?? null;
  const zoneId = zoneIdArg === null ? null : requireZone(context, zoneIdArg).id;
  const result = await execute(
    context,
    configStream(zoneId),
    configurationDecider,
    { type: 'UpdateConfiguration', name, value, zoneId },
    envelopeOf(context, caller, context.newId()),
  );
  await settled(context, result.positions);
  // Behaviour §3.7: turning leases off cancels every PENDING lease not yet expired, for good.
  if (name === 'instance.lease.enabled' && result.events.length > 0 && !setting(context, 'instance.lease.enabled')) await context.leases.cancelAll();
  const node = listConfigurations(db(context), { zoneId }).find((entry) => entry.name === name);
  return readBack(node, 'configuration', name);
}

export function configurations(context: ControlPlaneContext, caller: Caller, args: { readonly name?: string | null; readonly zoneId?: string | null }): ConfigurationNode[] {
  requireRootAdmin(caller, 'configurations');
  const zoneId = args.zoneId ?? null;
  if (zoneId !== null) requireZone(context, zoneId);
  return listConfigurations(db(context), { name: args.name ?? null, zoneId });
}
