/**
 * Collects small writes into ~64 KiB chunks and honours backpressure, so printing millions of
 * NDJSON lines neither makes a syscall per line nor buffers the whole output in memory.
 */
export class BufferedWriter {
  private buf: string[] = [];
  private size = 0;

  constructor(
    private readonly stream: NodeJS.WritableStream,
    private readonly limit = 64 * 1024,
  ) {}

  write(text: string): Promise<void> | void {
    this.buf.push(text);
    this.size += text.length;
    if (this.size >= this.limit) return this.flush();
  }

  /** Writes already-encoded bytes (after whatever text is pending), honouring backpressure. */
  async writeBytes(bytes: Uint8Array): Promise<void> {
    await this.flush();
    if (bytes.length === 0) return;
    if (!this.stream.write(bytes)) await new Promise<void>((resolve) => this.stream.once('drain', () => resolve()));
  }

  async flush(): Promise<void> {
    if (this.size === 0) return;
    const chunk = this.buf.join('');
    this.buf = [];
    this.size = 0;
    if (!this.stream.write(chunk)) await new Promise<void>((resolve) => this.stream.once('drain', () => resolve()));
  }
}
