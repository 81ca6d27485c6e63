/**
 * One entry point for every member file format: the layout's `format` picks the reader. The
 * importer (roster/SFTP) calls this and never imports a format adapter directly.
 */
import { readDelimitedMembers } from '../member-csv/read-delimited.js';
import { readFixedWidthMembers } from '../member-fixed-width/read-fixed-width.js';
import { readX12Members } from '../x12-834/read-834.js';
import type { LayoutProfile, XlsxLayout } from './layout-schema.js';
import type { MemberInput, MemberItem } from './types.js';

export function readMemberFile(input: MemberInput, layout: LayoutProfile): AsyncGenerator<MemberItem> {
  switch (layout.format) {
    case 'delimited':
      return readDelimitedMembers(input, layout);
    case 'fixed-width':
      return readFixedWidthMembers(input, layout);
    case 'xlsx':
      return readXlsx(input, layout);
    case 'x12-834':
      return readX12Members(input, layout);
  }
}

/** ExcelJS takes ~0.3 s to load: only pay for it when a spreadsheet arrives. */
async function* readXlsx(input: MemberInput, layout: XlsxLayout): AsyncGenerator<MemberItem> {
  const { readXlsxMembers } = await import('../member-xlsx/read-xlsx.js');
  yield* readXlsxMembers(input, layout);
}
