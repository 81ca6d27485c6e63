import { Hl7ParseError } from './errors.js';

/** A compiled terser-like path. All positions are 1-based. */
export interface Hl7Path {
  segment: string;
  occurrence: number;
  field: number;
  repetition: number;
  component: number;
  subcomponent: number;
}

const PATH = /^([A-Z][A-Z0-9]{2})(?:\[(\d+)\])?-(\d+)(?:\[(\d+)\])?(?:\.(\d+))?(?:\.(\d+))?$/;
const cache = new Map<string, Hl7Path>();

/** Parses `SEG[occ]-field[rep].comp.sub`, e.g. `PID-3[2].4.2` or `PV1-44`. Results are cached. */
export function compilePath(path: string): Hl7Path {
  const hit = cache.get(path);
  if (hit) return hit;
  const m = PATH.exec(path.trim());
  if (!m) throw new Hl7ParseError('BAD_PATH', `'${path}' is not a path like PID-3[2].4.2`);
  const num = (s: string | undefined) => (s === undefined ? 1 : Number(s));
  const p: Hl7Path = {
    segment: m[1],
    occurrence: num(m[2]),
    field: Number(m[3]),
    repetition: num(m[4]),
    component: num(m[5]),
    subcomponent: num(m[6]),
  };
  if (p.field < 1 || p.occurrence < 1 || p.repetition < 1 || p.component < 1 || p.subcomponent < 1) {
    throw new Hl7ParseError('BAD_PATH', `'${path}': positions are 1-based`);
  }
  cache.set(path, p);
  return p;
}
