/**
 * One import per partner at a time inside this process: a second file of the same partner waits
 * for the first (the diff of a file is against the state the previous one left).
 */
export class PartnerMutex {
  private readonly tails = new Map<string, Promise<unknown>>();

  async run<T>(partnerId: string, fn: () => Promise<T>): Promise<T> {
    const previous = this.tails.get(partnerId) ?? Promise.resolve();
    const mine = previous.then(fn, fn);
    const tail = mine.catch(() => undefined);
    this.tails.set(partnerId, tail);
    try {
      return await mine;
    } finally {
      if (this.tails.get(partnerId) === tail) this.tails.delete(partnerId);
    }
  }
}
