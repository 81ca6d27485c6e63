import type { Logger } from '../observability/log.js';

interface Started {
  name: string;
  close(): Promise<void> | void;
}

/**
 * The gateway's modules, started in the order they are registered and closed in reverse (as
 * Fastify's register/onClose do): intake registered last stops first, the store and Redis
 * registered first close last. The order is written once, by registration.
 */
export class Lifecycle {
  private readonly started: Started[] = [];
  private closing: Promise<void> | undefined;

  constructor(private readonly log: Logger) {}

  /** Starts a module; its `close`, if any, runs at shutdown before that of every earlier module. */
  async register<T>(name: string, start: () => Promise<T> | T, close?: (started: T) => Promise<void> | void): Promise<T> {
    if (this.closing) throw new Error(`${name} not started: the gateway is stopping`);
    const value = await start();
    if (close) this.started.push({ name, close: () => close(value) });
    return value;
  }

  get isClosing(): boolean {
    return this.closing !== undefined;
  }

  /** Closes every started module, newest first; a module that fails to close is logged and the rest still close. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      for (const module of [...this.started].reverse()) {
        try {
          await module.close();
        } catch (e) {
          this.log.warn({ module: module.name, err: (e as Error).message }, 'module did not close cleanly');
        }
      }
    })();
    return this.closing;
  }
}
