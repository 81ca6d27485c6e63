/**
 * At most one run per key at a time in this process: a caller asking while a run for its key is
 * under way gets that run's promise instead of starting a second one (intakes and the recovery
 * sweep may all ask for the same import or event at once).
 */
export class SingleFlight<T> {
  private readonly running = new Map<string, Promise<T>>();

  run(key: string, work: () => Promise<T>): Promise<T> {
    let current = this.running.get(key);
    if (!current) {
      current = work().finally(() => this.running.delete(key));
      this.running.set(key, current);
    }
    return current;
  }
}
