import type { Database } from 'better-sqlite3';
import { recordedOsType } from '../../../domain/os-type/index.js';
import type { TemplateFormat } from '../../../domain/template/index.js';
import type { HypervisorType } from '../../../domain/zone/index.js';
import type { Connection, PageRequest } from '../../pagination.js';
import { byCreated, listPage, where } from '../../listing.js';
import { prepared } from '../../sql.js';
import { ownedByNobodyOrWithin, type Reach } from '../../visibility.js';

export interface TemplateNode {
  readonly id: string;
  readonly name: string;
  readonly displayText: string;
  /** CloudStack's `ostypename`, e.g. `Debian GNU/Linux 12 (64-bit)`. */
  readonly osTypeName: string;
  /** The catalogue's id of that OS type (CloudStack's `ostypeid`); null for a name recorded before the catalogue. */
  readonly osTypeId: string | null;
  /** Virtual size in bytes. */
  readonly size: number;
  readonly format: TemplateFormat;
  readonly hypervisor: HypervisorType;
  readonly isDynamicallyScalable: boolean;
  readonly url: string;
  /** Null for a cross-zone template. */
  readonly zoneId: string | null;
  readonly accountId: string | null;
  readonly isPublic: boolean;
  readonly removed: boolean;
  readonly created: string;
}

interface TemplateRow {
  id: string;
  name: string;
  display_text: string;
  os_type_name: string;
  url: string;
  format: TemplateFormat;
  hypervisor: HypervisorType;
  size: number;
  is_dynamically_scalable: 0 | 1;
  zone_id: string | null;
  account_id: string | null;
  is_public: 0 | 1;
  deleted: 0 | 1;
  created: string;
}

const templateNode = (row: TemplateRow): TemplateNode => ({
  id: row.id,
  name: row.name,
  displayText: row.display_text,
  osTypeName: row.os_type_name,
  osTypeId: recordedOsType(row.os_type_name)?.id ?? null,
  size: row.size,
  format: row.format,
  hypervisor: row.hypervisor,
  isDynamicallyScalable: row.is_dynamically_scalable === 1,
  url: row.url,
  zoneId: row.zone_id,
  accountId: row.account_id,
  isPublic: row.is_public === 1,
  removed: row.deleted === 1,
  created: row.created,
});

export interface ListTemplatesArgs extends PageRequest {
  readonly id?: string | null;
  /** Templates usable in this zone: its own and the cross-zone ones. */
  readonly zoneId?: string | null;
}

/** Templates not deleted, oldest first. Who may see which template is the API's decision, not this list's. */
export function listTemplates(db: Database, args: ListTemplatesArgs = {}): Connection<TemplateNode> {
  const conditions = [
    where('deleted = 0'),
    args.id != null ? where('id = ?', args.id) : undefined,
    args.zoneId != null ? where('zone_id = ? OR zone_id IS NULL', args.zoneId) : undefined,
  ];
  return listPage(db, byCreated<TemplateRow>('infra_template', conditions), args, templateNode);
}

/** Public templates and the private ones of the accounts within reach, not deleted, oldest first. */
export function listReachableTemplates(db: Database, reach: Reach, args: ListTemplatesArgs = {}): Connection<TemplateNode> {
  const conditions = [
    where('deleted = 0'),
    args.id != null ? where('id = ?', args.id) : undefined,
    args.zoneId != null ? where('zone_id = ? OR zone_id IS NULL', args.zoneId) : undefined,
    ownedByNobodyOrWithin(reach, 'is_public = 1'),
  ];
  return listPage(db, byCreated<TemplateRow>('infra_template', conditions), args, templateNode);
}

/** A deleted template only with `includeRemoved`: instances keep referring to the template they came from. */
export function getTemplate(db: Database, id: string, options: { readonly includeRemoved?: boolean } = {}): TemplateNode | undefined {
  const row = prepared(db, 'SELECT * FROM infra_template WHERE id = ?').get(id) as TemplateRow | undefined;
  return row && (options.includeRemoved || row.deleted === 0) ? templateNode(row) : undefined;
}
