import { describe, expect, it } from 'vitest';
import { StoreInputError } from '../../../src/store/errors.js';
import { openStore, parseStoreUrl } from '../../../src/store/open-store.js';

describe('parseStoreUrl', () => {
  it('reads sqlite paths and :memory:', () => {
    expect(parseStoreUrl('sqlite:./data/carebridge.db')).toEqual({ kind: 'sqlite', filename: './data/carebridge.db' });
    expect(parseStoreUrl('sqlite::memory:')).toEqual({ kind: 'sqlite', filename: ':memory:' });
    expect(parseStoreUrl('sqlite:///var/lib/cb.db')).toEqual({ kind: 'sqlite', filename: '/var/lib/cb.db' });
  });

  it('passes postgres URLs through', () => {
    const url = 'postgres://cb:secret@db:5432/carebridge';
    expect(parseStoreUrl(url)).toEqual({ kind: 'postgres', connectionString: url });
    expect(parseStoreUrl('postgresql://h/db').kind).toBe('postgres');
  });

  it('rejects other schemes without echoing the URL (it may hold a password)', () => {
    expect(() => parseStoreUrl('mysql://u:hunter2@h/db')).toThrow(StoreInputError);
    try {
      parseStoreUrl('mysql://u:hunter2@h/db');
    } catch (err) {
      expect((err as Error).message).not.toContain('hunter2');
    }
    expect(() => parseStoreUrl('sqlite:')).toThrow(StoreInputError);
  });
});

describe('openStore', () => {
  it('opens an in-memory SQLite store ready to use', async () => {
    const store = await openStore('sqlite::memory:');
    try {
      expect(store.kind).toBe('sqlite');
      await store.ping();
    } finally {
      await store.close();
    }
  });
});
