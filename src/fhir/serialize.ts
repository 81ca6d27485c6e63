// Bundle → JSON text, exactly as JSON.stringify would write it, but reusing the text of entries
// whose resource a converter shares between Bundles (the same Practitioner or facility
// Organization in thousands of messages): their JSON is written once, not once per message.
import type { Bundle } from 'fhir/r4';
import { isShared } from './shared.js';

const sharedJson = new WeakMap<object, string>();

/** JSON.stringify(bundle), byte for byte; shared entry resources (./shared.ts) are serialized once. */
export function stringifyBundle(bundle: Bundle): string {
  if (!Array.isArray(bundle.entry)) return JSON.stringify(bundle);
  // Pieces joined once: one flat string, not a rope of concatenations to flatten later.
  const out: string[] = [];
  members(out, bundle as unknown as Record<string, unknown>, (key, value) =>
    key === 'entry' ? () => entries(out, value as unknown[]) : JSON.stringify(value),
  );
  return out.join('');
}

function entries(out: string[], list: unknown[]): void {
  out.push('[');
  for (let i = 0; i < list.length; i++) {
    const entry = list[i];
    if (i > 0) out.push(',');
    // JSON.stringify writes null for array members it cannot represent.
    if (entry === null || typeof entry !== 'object' || Array.isArray(entry)) out.push(JSON.stringify(entry) ?? 'null');
    else members(out, entry as Record<string, unknown>, (key, value) => (key === 'resource' ? resourceJson(value) : JSON.stringify(value)));
  }
  out.push(']');
}

function resourceJson(resource: unknown): string | undefined {
  if (resource === null || typeof resource !== 'object' || !isShared(resource)) return JSON.stringify(resource);
  let json = sharedJson.get(resource);
  if (json === undefined) {
    json = JSON.stringify(resource);
    sharedJson.set(resource, json);
  }
  return json;
}

/**
 * An object's members in JSON.stringify's order, skipping those that serialize to nothing.
 * `write` returns the value's JSON (undefined: leave the member out), or a function that
 * pushes the value to `out` itself (for the entry list, so it is not built as one string).
 */
function members(out: string[], o: Record<string, unknown>, write: (key: string, value: unknown) => string | undefined | (() => void)): void {
  if (typeof (o as { toJSON?: unknown }).toJSON === 'function') {
    out.push(JSON.stringify(o));
    return;
  }
  out.push('{');
  let first = true;
  for (const key of Object.keys(o)) {
    const json = write(key, o[key]);
    if (json === undefined) continue;
    out.push(first ? JSON.stringify(key) + ':' : ',' + JSON.stringify(key) + ':');
    first = false;
    if (typeof json === 'string') out.push(json);
    else json();
  }
  out.push('}');
}
