import type Database from 'better-sqlite3';
import { MigrationError } from '../errors.js';
import { latestVersion, type Migration } from '../migration.js';

/**
 * Applies missing migrations inside one IMMEDIATE transaction: the write lock is taken before the
 * applied versions are read, so two processes opening the same file at once apply each step once
 * (the second waits on busy_timeout, then finds nothing to do).
 */
export function migrateSqlite(db: Database.Database, migrations: readonly Migration[]): number[] {
  const run = db.transaction((): number[] => {
    db.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
      version    INTEGER PRIMARY KEY,
      name       TEXT NOT NULL,
      applied_at INTEGER NOT NULL
    )`);
    const applied = new Set(
      (db.prepare('SELECT version FROM schema_migrations').all() as Array<{ version: number }>).map(
        (r) => r.version,
      ),
    );
    const newest = latestVersion(migrations);
    for (const v of applied) {
      if (v > newest) {
        throw new MigrationError(
          `database schema version ${v} is newer than this carebridge supports (${newest}); upgrade carebridge`,
        );
      }
    }
    const done: number[] = [];
    const record = db.prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)');
    for (const m of [...migrations].sort((a, b) => a.version - b.version)) {
      if (applied.has(m.version)) continue;
      db.exec(m.sql);
      record.run(m.version, m.name, Date.now());
      done.push(m.version);
    }
    return done;
  });
  return run.immediate();
}
