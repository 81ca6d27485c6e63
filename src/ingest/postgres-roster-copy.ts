import { randomBytes } from 'node:crypto';
import pg from 'pg';

/**
 * A dry run on Postgres: the roster's tables copied, in one consistent snapshot, into a scratch
 * schema of the same database, which `use` gets as a store URL whose search_path is that schema
 * (so the roster's own code runs on it unchanged); the schema is dropped afterwards. The live
 * tables are only read.
 */
export async function withScratchRosterCopy<T>(url: string, use: (scratchUrl: string) => Promise<T>): Promise<T> {
  const schema = `carebridge_dry_run_${randomBytes(6).toString('hex')}`;
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ');
    const live = String((await client.query('SELECT current_schema() AS s')).rows[0].s);
    const tables = await client.query<{ table_name: string }>(
      `SELECT table_name FROM information_schema.tables
       WHERE table_schema = $1 AND table_type = 'BASE TABLE' AND table_name LIKE 'roster\\_%' ORDER BY table_name`,
      [live],
    );
    await client.query(`CREATE SCHEMA ${schema}`);
    for (const { table_name: table } of tables.rows) {
      const from = `${pg.escapeIdentifier(live)}.${pg.escapeIdentifier(table)}`;
      const to = `${schema}.${pg.escapeIdentifier(table)}`;
      await client.query(`CREATE TABLE ${to} (LIKE ${from} INCLUDING ALL)`);
      await client.query(`INSERT INTO ${to} OVERRIDING SYSTEM VALUE SELECT * FROM ${from}`);
      const identity = await client.query<{ column_name: string }>(
        `SELECT column_name FROM information_schema.columns WHERE table_schema = $1 AND table_name = $2 AND is_identity = 'YES'`,
        [live, table],
      );
      for (const { column_name: column } of identity.rows) {
        const c = pg.escapeIdentifier(column);
        // The copy's own identity sequence continues after the copied rows.
        await client.query(`SELECT setval(pg_get_serial_sequence($1, $2), COALESCE((SELECT MAX(${c}) FROM ${to}), 0) + 1, false)`, [
          to,
          column,
        ]);
      }
    }
    await client.query('COMMIT');
    const scratch = new URL(url);
    scratch.searchParams.set('options', `-c search_path=${schema}`);
    return await use(scratch.toString());
  } finally {
    await client.query('ROLLBACK').catch(() => {});
    await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`).catch(() => {});
    await client.end().catch(() => {});
  }
}
