/**
 * Group commit: callers submit one item each and get their own result, while the flush
 * function sees them in batches. Items arriving while a flush runs form the next batch, so
 * under load batches grow by themselves and at low load an item waits one event-loop turn.
 */
export class MicroBatcher<I, O> {
  private queue: { item: I; resolve: (o: O) => void; reject: (e: unknown) => void }[] = [];
  private flushing = false;
  private scheduled = false;

  /**
   * @param lingerMs wait this long before a flush so more items join it: for work nobody waits on
   *   (post-ACK bookkeeping), fewer and larger commits are worth a few milliseconds. 0 = next turn.
   */
  constructor(
    private readonly flushFn: (items: I[]) => Promise<O[]>,
    private readonly maxBatch = 500,
    private readonly lingerMs = 0,
  ) {}

  submit(item: I): Promise<O> {
    return new Promise<O>((resolve, reject) => {
      this.queue.push({ item, resolve, reject });
      this.schedule();
    });
  }

  /** Items waiting for the next flush (for metrics and tests). */
  get pending(): number {
    return this.queue.length;
  }

  private schedule(): void {
    if (this.flushing || this.scheduled) return;
    this.scheduled = true;
    const run = () => {
      this.scheduled = false;
      void this.flush();
    };
    if (this.lingerMs > 0 && this.queue.length < this.maxBatch) setTimeout(run, this.lingerMs);
    else setImmediate(run);
  }

  private async flush(): Promise<void> {
    if (this.flushing || this.queue.length === 0) return;
    this.flushing = true;
    const batch = this.queue.splice(0, this.maxBatch);
    try {
      const results = await this.flushFn(batch.map((b) => b.item));
      batch.forEach((b, i) => b.resolve(results[i]));
    } catch (e) {
      for (const b of batch) b.reject(e);
    } finally {
      this.flushing = false;
      if (this.queue.length > 0) this.schedule();
    }
  }
}
