import { describe, expect, it } from 'vitest';
import { Lifecycle } from '../../../src/gateway/lifecycle.js';
import type { Logger } from '../../../src/observability/log.js';

function recordingLog(): Logger & { warnings: unknown[] } {
  const warnings: unknown[] = [];
  const noop = () => {};
  return {
    warnings,
    warn: (o: unknown) => void warnings.push(o),
    info: noop,
    error: noop,
    debug: noop,
    trace: noop,
    fatal: noop,
    child: () => recordingLog(),
  } as unknown as Logger & {
    warnings: unknown[];
  };
}

describe('Lifecycle', () => {
  it('closes modules in reverse registration order, each once', async () => {
    const order: string[] = [];
    const modules = new Lifecycle(recordingLog());
    for (const name of ['store', 'redis', 'outbox', 'http'])
      await modules.register(
        name,
        () => name,
        (n) => void order.push(n),
      );
    await Promise.all([modules.close(), modules.close()]);
    expect(order).toEqual(['http', 'outbox', 'redis', 'store']);
  });

  it('passes each module what its start returned', async () => {
    const modules = new Lifecycle(recordingLog());
    const closed: number[] = [];
    const value = await modules.register(
      'counter',
      async () => 42,
      (n) => void closed.push(n),
    );
    expect(value).toBe(42);
    await modules.close();
    expect(closed).toEqual([42]);
  });

  it('a module that fails to close is logged and the earlier ones still close', async () => {
    const log = recordingLog();
    const modules = new Lifecycle(log);
    const order: string[] = [];
    await modules.register(
      'store',
      () => 'store',
      () => void order.push('store'),
    );
    await modules.register(
      'broken',
      () => 'broken',
      () => {
        throw new Error('socket already gone');
      },
    );
    await modules.close();
    expect(order).toEqual(['store']);
    expect(log.warnings).toEqual([{ module: 'broken', err: 'socket already gone' }]);
  });

  it('a module whose start fails is not closed, and nothing starts once closing began', async () => {
    const modules = new Lifecycle(recordingLog());
    const order: string[] = [];
    await modules.register(
      'store',
      () => 'store',
      () => void order.push('store'),
    );
    await expect(
      modules.register(
        'http',
        () => {
          throw new Error('port 8080 is already in use');
        },
        () => void order.push('http'),
      ),
    ).rejects.toThrow('already in use');
    await modules.close();
    expect(order).toEqual(['store']);
    await expect(modules.register('late', () => 1)).rejects.toThrow('late not started: the gateway is stopping');
  });
});
