import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';

/** The shared real-world corpus lives beside the checkout; tests skip gracefully without it. */
export const CORPUS_DIR = resolve(process.env.CAREBRIDGE_CORPUS ?? join(import.meta.dirname, '../../../shared/corpus'));
export const hasCorpus = existsSync(CORPUS_DIR);

/** Every *.hl7 / *.txt HL7 file in the corpus (by inventory when present). */
export function corpusHl7Files(): string[] {
  if (!hasCorpus) return [];
  const inv = join(CORPUS_DIR, 'hl7-inventory.json');
  if (existsSync(inv)) {
    const entries = JSON.parse(readFileSync(inv, 'utf8')) as { file: string }[];
    return entries.map((e) => join(CORPUS_DIR, e.file)).filter((f) => existsSync(f));
  }
  const out: string[] = [];
  const walk = (dir: string) => {
    for (const name of readdirSync(dir)) {
      const p = join(dir, name);
      if (statSync(p).isDirectory()) walk(p);
      else if (/\.(hl7|txt)$/i.test(name)) out.push(p);
    }
  };
  walk(CORPUS_DIR);
  return out;
}

export function corpusRelative(file: string): string {
  return file.slice(CORPUS_DIR.length + 1);
}
