import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll } from 'vitest';
import { SqliteStore } from '../../../src/store/sqlite/sqlite-store.js';
import { describeStoreContract } from './contract.js';

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describeStoreContract('sqlite file (WAL)', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'cb-store-'));
  dirs.push(dir);
  const file = join(dir, 'nested', 'carebridge.db');
  return {
    store: SqliteStore.open(file),
    openPeer: async () => SqliteStore.open(file),
  };
});

describeStoreContract('sqlite :memory:', async () => ({ store: SqliteStore.open(':memory:') }));
