/** A key path inside the config document: object keys and array indexes. */
export type KeyPath = ReadonlyArray<string | number>;

/** One problem with the config: where (key path) and what. Never carries a configured value. */
export interface ConfigIssue {
  /** Formatted like `sources[2].tls.cert`; empty for whole-file problems. */
  key: string;
  problem: string;
}

/** `['sources', 2, 'tls', 'cert']` -> `sources[2].tls.cert`. */
export function formatKeyPath(path: KeyPath): string {
  let out = '';
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`;
    else out += out === '' ? part : `.${part}`;
  }
  return out;
}

/**
 * A config that cannot be used. The message has one line per problem, each
 * `<file>: <key>: <problem>`, so it can be shown to an operator as is (the CLI prints the
 * message, never the stack).
 */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  constructor(
    readonly file: string,
    readonly issues: readonly ConfigIssue[],
  ) {
    super(issues.map((i) => `${file}: ${i.key ? `${i.key}: ` : ''}${i.problem}`).join('\n'));
  }

  static single(file: string, key: string, problem: string): ConfigError {
    return new ConfigError(file, [{ key, problem }]);
  }
}
