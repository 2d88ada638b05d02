import type { Logger } from "@vod/log";
import type { Owned } from "./owned.ts";

/** One transactional id per partition of the group: every member that owns partition n sends under the same one. */
export const releaserId = (groupId: string, requestsTopic: string, partition: number): string =>
  `${groupId}.${requestsTopic}.${partition}`;

/** Closes a partition's release producer (in the background: a fenced one may take a while to say so). */
export function dropReleaser(o: Owned, log: Logger): void {
  const r = o.releaser;
  o.releaser = undefined;
  r?.disconnect().catch((err: unknown) =>
    log.warn({ err, partition: o.partition }, "closing a partition's release producer failed"),
  );
}
