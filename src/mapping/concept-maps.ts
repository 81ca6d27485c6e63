// Concept maps (v2 table code -> FHIR code) from mappings/base/concept-maps/*.yaml, plus partner overrides.
//
// The base maps are generated from the HL7 v2-to-FHIR IG by scripts/build-concept-maps.mjs and committed,
// so nothing here needs the IG at run time. Maps load lazily (first use) and are cached.
//
// translate() semantics, in order:
//   1. partner override for the code (any coding system: partners override their local codes too);
//      an override of `null` removes the IG mapping;
//   2. IG row for the code, only when the caller's coding system is absent or is the map's v2 table
//      (HL70004, http://terminology.hl7.org/CodeSystem/v2-0004, urn:oid:2.16.840.1.113883.12.4);
//      rows with an IG condition (`when:`) are skipped, since conditions are not evaluated;
//   3. otherwise undefined: the caller keeps the original code with its own system.
// Codes match exactly first, then case-insensitively when that is unambiguous ("f" -> F).
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { z } from 'zod';

export interface ConceptTarget {
  code: string;
  system: string;
  display?: string;
}

export interface ConceptMapRow {
  code: string;
  text?: string;
  /** v2 coding system of this row when it differs from the map's sourceSystem. */
  system?: string;
  /** IG condition, verbatim; never evaluated. */
  when?: string;
  target?: ConceptTarget;
  comment?: string;
}

export interface TranslateOptions {
  /** Coding system the code came with (CWE.3 / CWE.14), if any. */
  system?: string;
}

export class ConceptMapError extends Error {
  override readonly name = 'ConceptMapError';
}

const targetSchema = z.strictObject({
  code: z.string().min(1),
  system: z.string().min(1),
  display: z.string().min(1).optional(),
});

const rowSchema = z.strictObject({
  code: z.string().min(1),
  text: z.string().optional(),
  system: z.string().optional(),
  when: z.string().optional(),
  target: targetSchema.optional(),
  comment: z.string().optional(),
});

const fileSchema = z.strictObject({
  name: z.string().min(1),
  igVersion: z.string().optional(),
  sourceFile: z.string().optional(),
  sourceSystem: z.string().optional(),
  rows: z.array(rowSchema),
});

/**
 * Partner overrides as written in a mapping profile: map name -> v2 code -> target (or null to unmap).
 * A map name the base does not have creates a partner-only map.
 */
export const conceptMapOverridesSchema = z.record(z.string().min(1), z.record(z.string().min(1), targetSchema.nullable()));
export type ConceptMapOverrides = z.infer<typeof conceptMapOverridesSchema>;

// ---- v2 table code systems ----------------------------------------------------------------------

/** 'http://terminology.hl7.org/CodeSystem/v2-0203' for '0203', '203', 203 or 'HL70203'. */
export function v2TableSystem(table: string | number): string {
  const digits = String(table).trim().replace(/^HL7/i, '');
  if (!/^\d{1,4}$/.test(digits)) throw new TypeError(`not a v2 table number: ${String(table)}`);
  return `http://terminology.hl7.org/CodeSystem/v2-${digits.padStart(4, '0')}`;
}

/** The 4-digit v2 table a coding system names (HL7nnnn, the THO URI, or the v2 table OID), else undefined. */
export function v2TableNumber(system: string): string | undefined {
  const s = system.trim();
  const m =
    /^HL7(\d{1,4})$/i.exec(s) ??
    /^https?:\/\/terminology\.hl7\.org\/CodeSystem\/v2-(\d{4})$/.exec(s) ??
    /^(?:urn:oid:)?2\.16\.840\.1\.113883\.12\.(\d{1,4})$/.exec(s);
  return m ? m[1]!.padStart(4, '0') : undefined;
}

// ---- one map ------------------------------------------------------------------------------------

interface CodeIndex {
  exact: Map<string, ConceptTarget | null>;
  /** Lower-cased code -> entry, only for codes with a single case-insensitive match. */
  folded: Map<string, ConceptTarget | null>;
}

function indexCodes(entries: Iterable<[string, ConceptTarget | null]>): CodeIndex {
  const exact = new Map<string, ConceptTarget | null>();
  const folded = new Map<string, ConceptTarget | null>();
  const ambiguous = new Set<string>();
  for (const [code, target] of entries) {
    if (exact.has(code)) continue; // first row wins (IG order)
    exact.set(code, target);
    const key = code.toLowerCase();
    if (folded.has(key)) ambiguous.add(key);
    else folded.set(key, target);
  }
  for (const key of ambiguous) folded.delete(key);
  return { exact, folded };
}

function lookup(index: CodeIndex, code: string): ConceptTarget | null | undefined {
  const hit = index.exact.get(code);
  if (hit !== undefined) return hit;
  return index.folded.get(code.toLowerCase());
}

export class ConceptMap {
  private readonly base: CodeIndex;
  private readonly overrides: CodeIndex;
  private readonly sourceTable: string | undefined;

  constructor(
    readonly name: string,
    /** v2 table the IG rows translate from, e.g. HL70004. */
    readonly sourceSystem: string | undefined,
    readonly rows: readonly ConceptMapRow[],
    overrides: Readonly<Record<string, ConceptTarget | null>> = {},
  ) {
    this.sourceTable = sourceSystem ? v2TableNumber(sourceSystem) : undefined;
    // Only unconditional rows can be used; a conditional or unmapped code is known-but-untranslatable.
    this.base = indexCodes(
      rows
        .filter((r) => !r.system || r.system === sourceSystem)
        .map((r): [string, ConceptTarget | null] => [r.code, r.when || !r.target ? null : r.target]),
    );
    this.overrides = indexCodes(Object.entries(overrides).map(([code, t]): [string, ConceptTarget | null] => [code.trim(), t]));
  }

  translate(code: string, options: TranslateOptions = {}): ConceptTarget | undefined {
    const c = code.trim();
    if (!c) return undefined;
    const override = lookup(this.overrides, c);
    if (override !== undefined) return override ? { ...override } : undefined;
    if (options.system?.trim()) {
      const table = v2TableNumber(options.system);
      if (!table || table !== this.sourceTable) return undefined;
    }
    const target = lookup(this.base, c);
    return target ? { ...target } : undefined;
  }

  /** A copy with partner overrides layered on top (override wins, null unmaps). */
  withOverrides(overrides: Readonly<Record<string, ConceptTarget | null>>): ConceptMap {
    return new ConceptMap(this.name, this.sourceSystem, this.rows, { ...this.overridesRecord(), ...overrides });
  }

  private overridesRecord(): Record<string, ConceptTarget | null> {
    return Object.fromEntries(this.overrides.exact);
  }
}

/** translate(map, code, {system}) -> {code, system, display} | undefined. See the module comment. */
export function translate(map: ConceptMap, code: string, options: TranslateOptions = {}): ConceptTarget | undefined {
  return map.translate(code, options);
}

// ---- loading ------------------------------------------------------------------------------------

const MAP_NAME = /^[A-Za-z0-9][A-Za-z0-9 ._\-[\]]*$/;

/** Parses one concept-map YAML text; errors name the file and the offending key. */
export function parseConceptMapYaml(text: string, file: string): ConceptMap {
  let data: unknown;
  try {
    data = parse(text);
  } catch (err) {
    throw new ConceptMapError(`${file}: invalid YAML: ${err instanceof Error ? err.message : String(err)}`);
  }
  const result = fileSchema.safeParse(data);
  if (!result.success) {
    const issue = result.error.issues[0]!;
    throw new ConceptMapError(`${file}: ${issue.path.join('.') || '(root)'}: ${issue.message}`);
  }
  const { name, sourceSystem, rows } = result.data;
  return new ConceptMap(name, sourceSystem, rows);
}

let defaultDir: string | undefined;
/** mappings/base/concept-maps of this package, found from this module (works from src/ and dist/src/). */
export function defaultConceptMapDir(): string {
  if (!defaultDir) {
    let dir = dirname(fileURLToPath(import.meta.url));
    for (let i = 0; i < 6; i++) {
      const candidate = join(dir, 'mappings', 'base', 'concept-maps');
      if (existsSync(candidate)) return (defaultDir = candidate);
      dir = dirname(dir);
    }
    throw new ConceptMapError('mappings/base/concept-maps not found above the carebridge package');
  }
  return defaultDir;
}

/** A set of named maps: the base ones from a directory, optionally with partner overrides. */
export class ConceptMapSet {
  private readonly cache = new Map<string, ConceptMap | null>();

  constructor(
    private readonly resolve: (name: string) => ConceptMap | undefined,
    private readonly listNames: () => string[],
  ) {}

  /** The map, or undefined when there is no such map. Throws ConceptMapError for an invalid file. */
  get(name: string): ConceptMap | undefined {
    let map = this.cache.get(name);
    if (map === undefined) {
      map = this.resolve(name) ?? null;
      this.cache.set(name, map);
    }
    return map ?? undefined;
  }

  /** Like get(), but a missing map is an error (a profile naming a map that does not exist). */
  require(name: string): ConceptMap {
    const map = this.get(name);
    if (!map) throw new ConceptMapError(`unknown concept map "${name}"`);
    return map;
  }

  translate(name: string, code: string, options: TranslateOptions = {}): ConceptTarget | undefined {
    return this.require(name).translate(code, options);
  }

  names(): string[] {
    return this.listNames();
  }
}

/** Base concept maps read lazily from `dir` (default: the committed mappings/base/concept-maps). */
export function loadConceptMaps(dir?: string): ConceptMapSet {
  const directory = () => dir ?? defaultConceptMapDir();
  return new ConceptMapSet(
    (name) => {
      if (!MAP_NAME.test(name)) throw new ConceptMapError(`invalid concept map name "${name}"`);
      const file = join(directory(), `${name}.yaml`);
      if (!existsSync(file)) return undefined;
      const map = parseConceptMapYaml(readFileSync(file, 'utf8'), file);
      if (map.name !== name) throw new ConceptMapError(`${file}: name "${map.name}" does not match the file name`);
      return map;
    },
    () =>
      readdirSync(directory())
        .filter((f) => f.endsWith('.yaml'))
        .map((f) => f.slice(0, -'.yaml'.length))
        .sort(),
  );
}

let baseMaps: ConceptMapSet | undefined;
/** The shared, cached base maps. */
export function baseConceptMaps(): ConceptMapSet {
  return (baseMaps ??= loadConceptMaps());
}

/** One base map by name (lazily loaded and cached); throws ConceptMapError when it does not exist. */
export function loadConceptMap(name: string): ConceptMap {
  return baseConceptMaps().require(name);
}

/**
 * Base maps with a partner's overrides layered on top. Overrides win; `null` unmaps a code; a map name
 * the base lacks becomes a partner-only map. Validate untrusted input with conceptMapOverridesSchema first.
 */
export function withOverrides(base: ConceptMapSet, overrides: ConceptMapOverrides): ConceptMapSet {
  return new ConceptMapSet(
    (name) => {
      const own = overrides[name];
      const map = base.get(name);
      if (!own) return map;
      return map ? map.withOverrides(own) : new ConceptMap(name, undefined, [], own);
    },
    () => [...new Set([...base.names(), ...Object.keys(overrides)])].sort(),
  );
}
