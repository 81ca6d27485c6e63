/**
 * Delivery bookkeeping (attempts, delivered/retrying/dead marks) commits with synchronous=NORMAL;
 * everything else keeps the connection's FULL. In WAL mode NORMAL skips the fsync at commit:
 * a power cut can lose the last few bookkeeping commits (never corrupt the file, never an
 * earlier FULL commit, whose fsync covered everything before it). A lost "delivered" mark means
 * one more send under the same Idempotency-Key, which receivers absorb; a lost inbound commit
 * would be a lost ACKed message, so those stay FULL. See docs/DECISIONS.md.
 *
 * One connection with the level switched around the transaction, not a second connection: all
 * calls run on one thread anyway, and a second connection would invalidate each other's page cache
 * at every alternation.
 */
import type Database from 'better-sqlite3';

export type SyncLevel = 'FULL' | 'NORMAL';

/**
 * Runs fn (which runs its own transaction) with synchronous=NORMAL, then restores `restore`.
 * The pragma is applied when parsed, so it is exec'd each time rather than kept prepared; it
 * cannot change inside a transaction, so fn must start and finish its transaction itself.
 */
export function withRelaxedSync<T>(db: Database.Database, restore: SyncLevel, fn: () => T): T {
  if (restore === 'NORMAL') return fn();
  db.exec('PRAGMA synchronous = NORMAL');
  try {
    return fn();
  } finally {
    db.exec(`PRAGMA synchronous = ${restore}`);
  }
}
