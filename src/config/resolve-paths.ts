/**
 * Local paths in a config file are relative to that file, so a config and its TLS files can
 * move together. Values that came from an environment override are relative to the working
 * directory instead: that is where the operator typed them. Remote (SFTP) paths are untouched.
 */
import { isAbsolute, join, resolve } from 'node:path';
import { packageRoot } from '../util/package-root.js';
import type { ParsedGatewayConfig } from './schema/gateway.js';
import type { GatewayConfig } from './types.js';

export interface PathBases {
  configFile: string;
  configDir: string;
  cwd: string;
  /** Formatted keys set from the environment (see overrides.ts). */
  overridden: ReadonlyMap<string, string>;
}

function sqliteUrl(url: string, base: string): string {
  let filename = url.slice('sqlite:'.length);
  if (filename.startsWith('//')) filename = filename.slice(2);
  if (filename === ':memory:' || isAbsolute(filename)) return `sqlite:${filename}`;
  return `sqlite:${resolve(base, filename)}`;
}

type WithTls = { tls?: { key?: string; cert?: string; ca?: string } };

export function resolvePaths(parsed: ParsedGatewayConfig, bases: PathBases): GatewayConfig {
  const fromFile = (p: string) => resolve(bases.configDir, p);
  const baseFor = (key: string) => (bases.overridden.has(key) ? bases.cwd : bases.configDir);

  const dataDir = parsed.dataDir === undefined ? resolve(bases.cwd, 'data') : resolve(baseFor('dataDir'), parsed.dataDir);
  const storeUrl = parsed.store.url ?? `sqlite:${join(dataDir, 'carebridge.db')}`;
  const tls = <T extends WithTls>(item: T): T =>
    item.tls === undefined
      ? item
      : {
          ...item,
          tls: {
            ...item.tls,
            ...(item.tls.key !== undefined && { key: fromFile(item.tls.key) }),
            ...(item.tls.cert !== undefined && { cert: fromFile(item.tls.cert) }),
            ...(item.tls.ca !== undefined && { ca: fromFile(item.tls.ca) }),
          },
        };
  const sshKey = <T extends { privateKey?: string }>(item: T): T =>
    item.privateKey === undefined ? item : { ...item, privateKey: fromFile(item.privateKey) };

  return {
    ...parsed,
    configFile: bases.configFile,
    dataDir,
    store: {
      ...parsed.store,
      url: storeUrl.startsWith('sqlite:') ? sqliteUrl(storeUrl, parsed.store.url === undefined ? dataDir : baseFor('store.url')) : storeUrl,
    },
    mappings: { dir: parsed.mappings.dir === undefined ? join(packageRoot(), 'mappings') : fromFile(parsed.mappings.dir) },
    server: { ...parsed.server, http: tls(parsed.server.http) },
    sources: parsed.sources.map((s) =>
      s.type === 'mllp' ? tls(s) : s.type === 'sftp' ? sshKey(s) : s.type === 'directory' ? { ...s, path: fromFile(s.path) } : s,
    ),
    // Whatever its type, a destination's `tls` block and `privateKey` are local files.
    destinations: parsed.destinations.map((d) => {
      const withTls = 'tls' in d ? tls(d) : d;
      return 'privateKey' in withTls ? sshKey(withTls) : withTls;
    }),
  };
}
