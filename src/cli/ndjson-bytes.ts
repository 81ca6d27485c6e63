/**
 * NDJSON encoded straight into one growing buffer of its own (so it can be transferred): joining
 * a batch's Bundles into one string first copied every byte once more (~5 % of a worker's time
 * in the convert benchmark; bench/README.md).
 */
export class NdjsonBytes {
  private buf: Buffer;
  private at = 0;

  constructor(capacity: number) {
    this.buf = Buffer.allocUnsafeSlow(capacity);
  }

  line(text: string): void {
    // A UTF-16 code unit is at most 3 UTF-8 bytes; Buffer.write would silently truncate.
    const need = this.at + text.length * 3 + 1;
    if (need > this.buf.length) {
      const bigger = Buffer.allocUnsafeSlow(Math.max(need, this.buf.length * 2));
      this.buf.copy(bigger, 0, 0, this.at);
      this.buf = bigger;
    }
    this.at += this.buf.write(text, this.at, 'utf8');
    this.buf[this.at++] = 0x0a;
  }

  bytes(): Buffer {
    return this.buf.subarray(0, this.at);
  }
}
