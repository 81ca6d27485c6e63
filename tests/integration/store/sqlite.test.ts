import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll } from 'vitest';
import { openSqliteStore } from '../../../src/store/open-store.js';
import { describeBatchContract } from './batch-contract.js';
import { describeStoreContract, type StoreHarness } from './contract.js';

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function fileStore(): StoreHarness {
  const dir = mkdtempSync(join(tmpdir(), 'cb-store-'));
  dirs.push(dir);
  const file = join(dir, 'nested', 'carebridge.db');
  return {
    store: openSqliteStore(file),
    openPeer: async () => openSqliteStore(file),
  };
}

describeStoreContract('sqlite file (WAL)', async () => fileStore());
describeStoreContract('sqlite :memory:', async () => ({ store: openSqliteStore(':memory:') }));
describeBatchContract('sqlite file (WAL)', async () => fileStore());
