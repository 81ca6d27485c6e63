export { loadConfig, defaultConfigFile } from './load-config.js';
export { ConfigError, formatKeyPath, type ConfigIssue } from './errors.js';
export { hashApiKey, verifyApiKey, isApiKeyHash, createApiKeyMatcher, type ApiKeyMatcher } from './api-keys.js';
export { ENV_OVERRIDES } from './overrides.js';
export type { Env } from './interpolate.js';
export type * from './types.js';
