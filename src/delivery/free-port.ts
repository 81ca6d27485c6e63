import { createServer } from 'node:net';

/**
 * Asks the kernel for a free loopback port. There is a window between closing our probe socket
 * and the real server binding it, so callers that spawn servers retry on "address in use".
 */
export function findFreePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.unref();
    probe.once('error', reject);
    probe.listen(0, host, () => {
      const address = probe.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      probe.close(() => (port ? resolve(port) : reject(new Error('could not get a free port'))));
    });
  });
}
