import type { ChildProcess } from 'node:child_process';

/** Resolves true once the child has exited, false after `ms` (it is then still running). */
export function waitForExit(child: ChildProcess, ms: number): Promise<boolean> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), ms);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve(true);
    });
  });
}

/**
 * If the test process exits while a server child still runs, SIGKILL it (by PID) and clean up,
 * so no private server outlives its tests. Returns the function that removes the guard.
 */
export function killChildOnExit(child: () => ChildProcess | undefined, cleanup: () => void): () => void {
  const onExit = (): void => {
    const c = child();
    if (c?.pid && c.exitCode === null) {
      try {
        process.kill(c.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    cleanup();
  };
  process.once('exit', onExit);
  return () => process.removeListener('exit', onExit);
}
