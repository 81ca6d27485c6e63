import { setTimeout as sleep } from 'node:timers/promises';

/**
 * Polls until `condition` holds. The cap only turns a hang into a readable failure; nothing here
 * asserts how fast something happens.
 */
export async function until(condition: () => boolean | Promise<boolean>, what = 'condition', capMs = 25_000): Promise<void> {
  const deadline = Date.now() + capMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`gave up waiting for ${what}`);
    await sleep(20);
  }
}
