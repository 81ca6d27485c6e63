import { useState } from 'preact/hooks';
import FIELDS from './v2-fields.json';

type FieldDef = [number, string, string];
const TABLE = FIELDS as unknown as Record<string, FieldDef[]>;
const NAMES = new Map<string, Map<number, FieldDef>>(
  Object.entries(TABLE).map(([seg, defs]) => [seg, new Map(defs.map((d) => [d[0], d]))]),
);

/** "PID-3 Patient Identifier List (CX)"; a field outside the table shows its position only. */
export function fieldLabel(segment: string, position: number): string {
  const def = NAMES.get(segment)?.get(position);
  return def ? `${segment}-${position} ${def[1]}${def[2] ? ` (${def[2]})` : ''}` : `${segment}-${position}`;
}

interface Field {
  position: number;
  text: string;
}

/** Fields with their HL7 positions: MSH-1 is the field separator itself, MSH-2 the encoding characters. */
export function splitSegment(line: string, separator: string): { name: string; fields: Field[] } {
  const parts = line.split(separator);
  const name = parts[0] ?? '';
  if (name === 'MSH' || name === 'FHS' || name === 'BHS') {
    return { name, fields: [{ position: 1, text: separator }, ...parts.slice(1).map((text, i) => ({ position: i + 2, text }))] };
  }
  return { name, fields: parts.slice(1).map((text, i) => ({ position: i + 1, text })) };
}

/**
 * The raw message, one segment per line; each field names itself (from the v2 definitions) on
 * hover and on keyboard focus, in the line under the message as well as in its tooltip.
 */
export function Hl7View(props: { raw: string; version: string | null }) {
  const [focused, setFocused] = useState<string>('');
  const lines = props.raw.split(/\r\n|\r|\n/).filter((l) => l.trim() !== '');
  const separator = lines[0]?.startsWith('MSH') || lines[0]?.startsWith('FHS') || lines[0]?.startsWith('BHS') ? (lines[0][3] ?? '|') : '|';
  return (
    <div class="hl7">
      <p class="muted small">
        Field names: HL7 v2 definitions (v2-to-FHIR IG); positions are the same in every version since 2.3. This message is version{' '}
        {props.version ?? 'unknown'}.
      </p>
      <ol class="segments" aria-label="segments">
        {lines.map((line, i) => {
          const seg = splitSegment(line, separator);
          return (
            <li key={i} class="segment">
              <span class="seg-name">{seg.name}</span>
              {seg.fields.map((f) => {
                const label = fieldLabel(seg.name, f.position);
                const skipSeparator = (seg.name === 'MSH' || seg.name === 'FHS' || seg.name === 'BHS') && f.position === 1;
                return (
                  <span key={f.position}>
                    {!skipSeparator && <span class="sep">{separator}</span>}
                    {f.text !== '' && !skipSeparator && (
                      <span
                        class="field"
                        title={label}
                        data-field={`${seg.name}-${f.position}`}
                        tabIndex={0}
                        onMouseEnter={() => setFocused(label)}
                        onFocus={() => setFocused(label)}
                      >
                        {f.text}
                      </span>
                    )}
                  </span>
                );
              })}
            </li>
          );
        })}
      </ol>
      <p class="field-info" aria-live="polite">
        {focused || 'Point at a field (or Tab to it) to see its name and position.'}
      </p>
    </div>
  );
}
