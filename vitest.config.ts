import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['tests/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Integration tests start real servers (redis-server, sshd, postgres) on free loopback ports;
    // two workers fit the 2-core machine.
    maxWorkers: 2,
    pool: 'forks',
  },
});
