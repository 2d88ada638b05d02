import type { Consumer } from "kafkajs";
import type { Logger } from "@vod/log";
import type { ConsumerOptions } from "./consumer.ts";

/**
 * Turns kafkajs's group events into the runner's hooks: a join is `onAssign`, a rebalance or a crash
 * is `onRevoke`. Install before `run()`: the first join happens inside it. `crashed()` is true once
 * kafkajs gave up on the consumer (a crash it will not restart from), for the handle's health.
 */
export function watchGroup(
  consumer: Consumer,
  groupLog: Logger,
  hooks: Pick<ConsumerOptions, "onAssign" | "onRevoke">,
): { crashed: () => boolean } {
  let crashed = false;
  consumer.on(consumer.events.CRASH, ({ payload }) => {
    if (!payload.restart) crashed = true;
    groupLog.error({ err: payload.error, restart: payload.restart }, "consumer crashed");
    hooks.onRevoke?.("crash");
  });
  consumer.on(consumer.events.REBALANCING, () => {
    groupLog.info("group rebalancing");
    hooks.onRevoke?.("rebalance");
  });
  consumer.on(consumer.events.GROUP_JOIN, ({ payload }) => {
    groupLog.info({ memberId: payload.memberId, assignment: payload.memberAssignment }, "joined the group");
    hooks.onAssign?.({ memberId: payload.memberId, partitions: payload.memberAssignment });
  });
  return { crashed: () => crashed };
}
