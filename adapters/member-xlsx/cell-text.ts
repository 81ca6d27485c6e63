/** ExcelJS cell values → the text a CSV export of the same cell would hold. */
import type { CellValue } from 'exceljs';

export function cellText(value: CellValue): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'string') return value;
  if (typeof value === 'number') return numberText(value);
  if (typeof value === 'boolean') return value ? 'TRUE' : 'FALSE';
  // Date cells arrive as UTC midnights of the calendar date Excel shows: keep that date.
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? '' : value.toISOString().slice(0, 10);
  if ('richText' in value) return value.richText.map((r) => r.text).join('');
  if ('error' in value) return ''; // #N/A, #REF!: no value
  if ('formula' in value || 'sharedFormula' in value) return cellText((value as { result?: CellValue }).result);
  if ('hyperlink' in value) return cellText(value.text as CellValue);
  return '';
}

/** Whole numbers without exponent or ".0" (member ids, ZIP codes typed as numbers). */
function numberText(n: number): string {
  if (!Number.isFinite(n)) return '';
  return Number.isInteger(n) && Math.abs(n) < 1e21 ? n.toFixed(0) : String(n);
}
