import type { PoolClient } from "pg";
import { createPool } from "@vod/db";
import type { Logger } from "@vod/log";

/** Thrown at start when this fetcher would break the group's one CDN budget. */
export class InstanceRefused extends Error {
  override name = "InstanceRefused";
}

export interface InstanceClaimOptions {
  databaseUrl: string;
  groupId: string;
  /** The CDN budget is shared through Redis: any number of such fetchers may run side by side. */
  sharedBudget: boolean;
  log: Logger;
  /** How often a lost claim (PostgreSQL restarted) is taken again. */
  reclaimMs?: number;
}

export interface InstanceClaim {
  release(): Promise<void>;
}

// First half of the two-key advisory lock: this lock's namespace; the second is the group's hash.
const LOCK_CLASS = 0x68_6c_73; // "hls"

/**
 * Who may run in a fetcher group, held as a PostgreSQL session advisory lock on the group: a fetcher
 * whose budget is its own (no Redis) takes it exclusively, fetchers sharing a budget take it shared.
 * So a second fetcher without Redis, or one with Redis beside one without, is refused at start. The
 * lock lives with the session: a fetcher killed with -9 drops it at once, and a restart is never
 * refused by its own ghost (as it would be by a consumer group member the broker still waits for).
 */
export async function claimInstance(options: InstanceClaimOptions): Promise<InstanceClaim> {
  const { databaseUrl, groupId, sharedBudget, log, reclaimMs = 5_000 } = options;
  const pool = createPool({ url: databaseUrl, max: 1, idleTimeoutMs: 0, applicationName: "hls-fetcher-instance" });
  const lock = sharedBudget ? "pg_try_advisory_lock_shared" : "pg_try_advisory_lock";
  let client: PoolClient | undefined;
  let closed = false;
  let timer: NodeJS.Timeout | undefined;

  async function take(): Promise<boolean> {
    const c = await pool.connect();
    c.on("error", () => undefined);
    try {
      const { rows } = await c.query<{ ok: boolean }>(`SELECT ${lock}($1, hashtext($2)) AS ok`, [LOCK_CLASS, groupId]);
      if (!rows[0]?.ok) {
        c.release();
        return false;
      }
    } catch (err) {
      c.release(true);
      throw err;
    }
    client = c;
    // A lost session loses the lock: take it again once PostgreSQL is back.
    c.once("end", () => {
      if (closed) return;
      client = undefined;
      log.warn(
        { group: groupId },
        "lost the fetcher group's advisory lock with its PostgreSQL session; taking it again",
      );
      schedule();
    });
    return true;
  }

  function schedule(): void {
    timer = setTimeout(() => {
      if (closed) return;
      take().then(
        (ok) => {
          if (!ok) log.error({ group: groupId }, refusal(groupId, sharedBudget));
          if (!ok) schedule();
        },
        () => schedule(),
      );
    }, reclaimMs);
    timer.unref();
  }

  try {
    if (!(await take())) throw new InstanceRefused(refusal(groupId, sharedBudget));
  } catch (err) {
    await pool.end();
    throw err;
  }
  return {
    async release() {
      closed = true;
      clearTimeout(timer);
      client?.release(true);
      client = undefined;
      await pool.end();
    },
  };
}

function refusal(groupId: string, sharedBudget: boolean): string {
  return sharedBudget
    ? `another hls-fetcher of group "${groupId}" runs without REDIS_URL, on a CDN budget of its own: beside it this one would spend its rate on top of that one's. Give every fetcher of the group REDIS_URL (one budget for all), or stop the other.`
    : `another hls-fetcher of group "${groupId}" is running: without REDIS_URL each fetcher spends its own RATE_PER_SECOND on the CDN, so two would make twice the requests a second (over CloudFront's rate rule). Set REDIS_URL on every fetcher of the group to share one budget, or run only one.`;
}
