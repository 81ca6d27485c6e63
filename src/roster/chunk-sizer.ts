/**
 * How many rows go into the next import chunk. A chunk is one transaction; on SQLite
 * (better-sqlite3 is synchronous) it holds the event loop for its whole length, so MLLP ACKs and
 * HTTP requests of the same process wait behind it. There the size follows the measured time per
 * row so a chunk lasts about `targetMs`; where chunks do not block (Postgres) it stays at `max`.
 */
export class ChunkSizer {
  private size: number;

  constructor(
    private readonly max: number,
    /** Undefined: chunks do not block the event loop, always `max` rows. */
    private readonly targetMs: number | undefined,
    private readonly min = Math.min(max, MIN_ROWS),
  ) {
    this.size = targetMs === undefined ? max : Math.min(max, Math.max(this.min, START_ROWS));
  }

  /** Rows for the next chunk. */
  get next(): number {
    return this.size;
  }

  /** A chunk of `rows` took `ms`. */
  record(rows: number, ms: number): void {
    // A short chunk (the file's last) is dominated by its fixed cost and says little per row.
    if (this.targetMs === undefined || rows < this.size) return;
    const ideal = (this.targetMs * rows) / Math.max(ms, 0.01);
    // Halfway towards the ideal: one slow chunk (an fsync stall) does not collapse the size.
    this.size = Math.round(Math.min(this.max, Math.max(this.min, (this.size + ideal) / 2)));
  }
}

/** Below this the fixed cost per transaction (an fsync under synchronous=FULL) dominates. */
const MIN_ROWS = 50;
const START_ROWS = 200;
