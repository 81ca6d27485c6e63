/**
 * XLSX member files (ACOs send spreadsheets), streamed with ExcelJS's WorkbookReader: rows are
 * read one at a time; only the shared-string table is held in memory (ExcelJS caches it, and
 * parks worksheets stored before it in a temp file instead of memory).
 */
import { Readable } from 'node:stream';
import ExcelJS from 'exceljs';
import type { XlsxLayout } from '../member-common/layout-schema.js';
import { compileRowMapper, type RowMapper } from '../member-common/row-mapper.js';
import { MemberFileError, type MemberInput, type MemberItem } from '../member-common/types.js';
import { cellText } from './cell-text.js';

export async function* readXlsxMembers(input: MemberInput, layout: XlsxLayout): AsyncGenerator<MemberItem> {
  const stream = input instanceof Readable ? input : Readable.from(input as AsyncIterable<Buffer>);
  const reader = new ExcelJS.stream.xlsx.WorkbookReader(stream, {
    worksheets: 'emit',
    sharedStrings: 'cache',
    styles: 'cache', // needed to tell date cells from numbers
    hyperlinks: 'ignore',
    entries: 'ignore',
  });
  // ExcelJS reads sheet names from xl/workbook.xml; when a writer stores that part after the
  // worksheets, its reader dereferences a missing model (exceljs#3064). A placeholder keeps it
  // reading; sheet names are then unknown and `sheet: <number>` still works.
  // ExcelJS pipes the input into its unzipper, and pipe() does not pass errors on: a failing input
  // (a dropped download) would leave the reader waiting forever. Every wait races this instead,
  // and the failure is rethrown as itself, not as a bad workbook.
  let inputError: unknown;
  const inputFailed = new Promise<never>((_, reject) => {
    stream.once('error', (e) => {
      inputError = e;
      reject(e);
    });
  });
  inputFailed.catch(() => undefined); // observed through the races below
  const internals = reader as unknown as { model?: unknown };
  internals.model ??= { sheets: [] };

  let position = 0;
  let found = false;
  try {
    for await (const worksheet of raceWith(reader, inputFailed)) {
      position++;
      const ws = worksheet as unknown as { name?: string } & AsyncIterable<ExcelJS.Row>;
      if (!sheetMatches(layout.sheet, position, ws.name)) continue;
      found = true;
      let mapper: RowMapper | undefined;
      for await (const row of raceWith(ws, inputFailed)) {
        if (row.number < layout.headerRow) continue;
        const values = rowTexts(row);
        if (!mapper) {
          if (row.number !== layout.headerRow) throw new MemberFileError(layout.headerRow, 'the header row is empty');
          mapper = compileRowMapper(layout, values, row.number);
          continue;
        }
        const item = mapper.map(values, row.number);
        if (item) yield item;
      }
      if (!mapper) throw new MemberFileError(layout.headerRow, 'the sheet has no header row');
      break;
    }
  } catch (e) {
    if (e instanceof MemberFileError) throw e;
    if (inputError !== undefined) throw inputError;
    throw new MemberFileError(0, 'not a readable XLSX workbook');
  } finally {
    // Stopping after the wanted sheet leaves the zip half read: release the input.
    stream.destroy();
  }
  if (!found) {
    throw new MemberFileError(
      0,
      typeof layout.sheet === 'number'
        ? `the workbook has no worksheet number ${layout.sheet}`
        : `the workbook has no worksheet named '${layout.sheet}'`,
    );
  }
}

/** Iterates `source`, failing as soon as `failure` rejects even when `source` never settles. */
async function* raceWith<T>(source: AsyncIterable<T>, failure: Promise<never>): AsyncGenerator<T> {
  const it = source[Symbol.asyncIterator]();
  try {
    for (;;) {
      const next = await Promise.race([it.next(), failure]);
      if (next.done) return;
      yield next.value;
    }
  } finally {
    // Let the source finish its own cleanup; not awaited, since after a failure it may never settle.
    it.return?.()?.catch(() => undefined);
  }
}

function sheetMatches(wanted: string | number, position: number, name: string | undefined): boolean {
  if (typeof wanted === 'number') return wanted === position;
  return name !== undefined && name.trim().toUpperCase() === wanted.trim().toUpperCase();
}

/** Cell texts by column, 0-based (ExcelJS row.values is 1-based and sparse). */
function rowTexts(row: ExcelJS.Row): string[] {
  const values = row.values as ExcelJS.CellValue[];
  const out: string[] = new Array<string>(Math.max(values.length - 1, 0));
  for (let i = 1; i < values.length; i++) out[i - 1] = cellText(values[i]);
  return out;
}
