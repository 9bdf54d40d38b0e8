// Templates: registered by the root admin; public ones, and the accounts' own, listed to those who may use them.
import { TEMPLATE_FORMATS, templateDecider, templateStream } from '../../../domain/template/index.js';
import { HYPERVISOR_TYPES } from '../../../domain/zone/index.js';
import { getTemplate, listReachableTemplates, listTemplates, type TemplateNode } from '../../../projections/infrastructure/index.js';
import type { Connection } from '../../../projections/pagination.js';
import { optionalBoolean, optionalEnum, optionalNumber, optionalString, requiredString } from '../args.js';
import { db, envelopeOf, guarded, now, requireRootAdmin, type ControlPlaneContext } from '../context.js';
import type { Caller } from '../port.js';
import { badInput, created, page, reachOf, requireZone, type Args, type ZoneFilter } from './shared.js';

/** `size` is the image's virtual size in bytes: vmledger does not download the image to measure it. */
export async function registerTemplate(context: ControlPlaneContext, caller: Caller, args: Args): Promise<TemplateNode> {
  requireRootAdmin(caller, 'registerTemplate');
  const zoneIdArg = optionalString(args, 'zoneId') ?? null;
  const zone = zoneIdArg === null ? null : requireZone(context, zoneIdArg);
  const name = requiredString(args, 'name');
  const osTypeName = requiredString(args, 'osType');
  const url = requiredString(args, 'url');
  const size = optionalNumber(args, 'size') ?? null;
  if (size === null) badInput('size', 'size (the virtual size in bytes) is required');
  // KVM is the hypervisor vmledger drives (libvirt, and the simulator's clusters in the demo zone).
  const hypervisor = optionalEnum(args, 'hypervisor', HYPERVISOR_TYPES) ?? 'KVM';
  const format = optionalEnum(args, 'format', TEMPLATE_FORMATS) ?? (hypervisor === 'KVM' ? 'QCOW2' : null);
  if (format === null) badInput('format', `format is required for hypervisor ${hypervisor}`);

  const templateId = context.newId();
  return created(context, templateStream(templateId), templateDecider, {
    type: 'RegisterTemplate',
    templateId,
    name,
    displayText: optionalString(args, 'displayText') ?? null,
    osTypeName,
    url,
    format,
    hypervisor,
    size,
    isDynamicallyScalable: optionalBoolean(args, 'isDynamicallyScalable') ?? null,
    zoneId: zone?.id ?? null,
    accountId: null,
    isPublic: optionalBoolean(args, 'isPublic') ?? null,
    at: now(context),
  }, envelopeOf(context, caller, templateId), () => getTemplate(db(context), templateId), 'template', templateId);
}

/** Public templates, and the private ones of the accounts the caller may see. */
export function templates(context: ControlPlaneContext, caller: Caller, args: ZoneFilter): Connection<TemplateNode> {
  const filter = { ...page(args), zoneId: args.zoneId ?? null };
  if (caller.role === 'ROOT_ADMIN') return guarded(() => listTemplates(db(context), filter));
  return guarded(() => listReachableTemplates(db(context), reachOf(caller), filter));
}
