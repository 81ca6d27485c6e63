import type { MemberFormat } from '../../adapters/member-common/layout-schema.js';

/** A file source's `format` → the member layout it is read with (care-plan files have none). */
export const MEMBER_FORMAT_OF_SOURCE: Readonly<Record<string, MemberFormat | undefined>> = {
  'member-csv': 'delimited',
  'member-fixed-width': 'fixed-width',
  'x12-834': 'x12-834',
  'member-xlsx': 'xlsx',
};
