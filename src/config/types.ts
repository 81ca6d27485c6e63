/** The typed gateway configuration the rest of carebridge is wired from. */
import type { ParsedGatewayConfig } from './schema/gateway.js';

type Parsed = ParsedGatewayConfig;

/** After loading: every local path is absolute and every default is filled in. */
export interface GatewayConfig extends Omit<Parsed, 'dataDir' | 'store' | 'mappings'> {
  /** Absolute path of the file this came from. */
  configFile: string;
  /** Absolute; holds the SQLite database and the private Redis data. */
  dataDir: string;
  /** `url` is always set: `sqlite:/abs/path.db`, `sqlite::memory:` or a postgres:// URL. */
  store: Omit<Parsed['store'], 'url'> & { url: string };
  /** Absolute folder holding base/ and partners/. */
  mappings: { dir: string };
}

export type ServerConfig = GatewayConfig['server'];
export type HttpServerConfig = ServerConfig['http'];
export type StoreConfig = GatewayConfig['store'];
export type RedisConfig = GatewayConfig['redis'];
export type PartnerConfig = GatewayConfig['partners'][string];
export type PartnerKind = PartnerConfig['kind'];

export type SourceConfig = GatewayConfig['sources'][number];
export type MllpSourceConfig = Extract<SourceConfig, { type: 'mllp' }>;
export type HttpSourceConfig = Extract<SourceConfig, { type: 'http' }>;
export type SftpSourceConfig = Extract<SourceConfig, { type: 'sftp' }>;
export type DirectorySourceConfig = Extract<SourceConfig, { type: 'directory' }>;
/** A source that polls a folder (remote or local) for files. */
export type FolderSourceConfig = SftpSourceConfig | DirectorySourceConfig;
export type SftpFileFormat = SftpSourceConfig['format'];

/**
 * Named *Config to keep it apart from src/delivery's runtime DestinationConfig. One member per
 * destination type, each declared by its module (src/delivery/deliverers/registry.ts).
 */
export type DestinationConfig = GatewayConfig['destinations'][number];

export type RouteConfig = GatewayConfig['routes'][number];
export type ConsentConfig = GatewayConfig['consent'];
export type SensitiveCodeConfig = ConsentConfig['sensitiveFacilities'][number];
export type ApiKeyConfig = GatewayConfig['apiKeys'][number];
