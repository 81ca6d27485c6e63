/**
 * Reclaiming the jobs of a gateway that died (kill -9, power loss) without waiting for BullMQ.
 *
 * A job the dead process held stays `active` with its lock until the lock lapses (lockDuration)
 * and a stalled check sees it; meanwhile it heads its patient's ordering line and every later
 * delivery of that patient waits. Each gateway names its Redis connection after itself and its
 * workers stamp that name on the jobs they take (`processedBy`), so at start a gateway can tell a
 * job whose owner is gone (no connection of that name: the kernel closed them all when the process
 * died) from one a live gateway is still sending. Only the former is reclaimed: its lock is
 * removed and BullMQ's own stalled check moves it back to wait (counting the stall as usual).
 */
import type { Redis } from 'ioredis';
import type { Worker } from 'bullmq';

/** The Redis client name of a gateway instance's long-lived connection. */
export function instanceClientName(prefix: string, instance: string): string {
  return `${prefix}:gw:${instance}`;
}

/** Instances with a connection open right now; undefined when the server refuses CLIENT LIST. */
export async function liveInstances(redis: Redis, prefix: string): Promise<Set<string> | undefined> {
  let list: string;
  try {
    list = String(await redis.client('LIST'));
  } catch {
    return undefined;
  }
  const marker = instanceClientName(prefix, '');
  const live = new Set<string>();
  for (const match of list.matchAll(/(?:^| )name=(\S+)/gm)) {
    if (match[1].startsWith(marker)) live.add(match[1].slice(marker.length));
  }
  return live;
}

/** Returns how many active jobs of dead instances were handed back to BullMQ's stalled check. */
export async function reclaimDeadOwners(client: Redis, worker: Worker, live: ReadonlySet<string>): Promise<number> {
  const queue = worker; // a Worker knows its queue's keys
  const active = await client.lrange(queue.keys.active, 0, -1);
  let reclaimed = 0;
  for (const jobId of active) {
    const owner = await client.hget(queue.toKey(jobId), 'pb');
    // No owner recorded (taken before owners were stamped) or owner alive: BullMQ's timers decide.
    if (!owner || live.has(owner)) continue;
    await client
      .multi()
      .del(`${queue.toKey(jobId)}:lock`)
      .sadd(queue.keys.stalled, jobId)
      .exec();
    reclaimed++;
  }
  if (reclaimed > 0) {
    // A stalled check runs at most once per stalledInterval (this key); run one now.
    await client.del(queue.keys['stalled-check']);
    await worker.startStalledCheckTimer();
  }
  return reclaimed;
}
