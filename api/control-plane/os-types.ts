// osTypes: CloudStack's listOsTypes over the catalogue of domain/os-type, for every caller. As in
// CloudStack, `description` and `keyword` match a part of the description, in any case.
import { OS_TYPES, type OsType } from '../../domain/os-type/index.js';
import { pageOfList, type Connection, type PageRequest } from '../../projections/pagination.js';
import { guarded } from './context.js';

export interface OsTypeListArgs extends PageRequest {
  readonly id?: string | null;
  readonly description?: string | null;
  readonly keyword?: string | null;
}

function containing(text: string | null | undefined): (os: OsType) => boolean {
  if (text == null) return () => true;
  const wanted = text.toLowerCase();
  return (os) => os.description.toLowerCase().includes(wanted);
}

export function osTypes(args: OsTypeListArgs): Connection<OsType> {
  const byDescription = containing(args.description);
  const byKeyword = containing(args.keyword);
  const matching = OS_TYPES.filter((os) => (args.id == null || os.id === args.id) && byDescription(os) && byKeyword(os));
  return guarded(() => pageOfList(matching, args, (os) => [os.description, os.id]));
}
