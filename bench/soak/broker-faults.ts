/**
 * Broker faults for a soak on a Kafka cluster of its own (`npm run soak -- --brokers 3`): three KRaft
 * nodes started by infra/kafka.sh in .infra/soak-kafka/ on ports 39092-39094, apart from the shared
 * broker, and the faults a three-broker cluster must ride out: kill -9 of one broker for 10
 * simulated minutes, a rolling restart of all three, a broker's data dir wiped and the broker
 * rejoining empty. Each step after a broker comes back waits until every partition is in sync again.
 */
import { execFile } from "node:child_process";
import { rmSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import type { Kafka } from "kafkajs";
import { kafkaHealth } from "../../packages/cli/src/doctor-kafka.ts";
import { childEnv } from "../env.ts";

const MIN = 60_000;

export type BrokerFaultKind = "broker-kill" | "broker-start" | "broker-roll" | "broker-wipe";

/** The faults, in the order they are scheduled; `broker-start` ends `broker-kill` after its window. */
export const BROKER_FAULTS: { name: string; kind: BrokerFaultKind; forMs: number }[] = [
  { name: "kill -9 of a Kafka broker, 10 min", kind: "broker-kill", forMs: 10 * MIN },
  { name: "rolling restart of every Kafka broker", kind: "broker-roll", forMs: 0 },
  { name: "a Kafka broker's data dir wiped, rejoining empty", kind: "broker-wipe", forMs: 0 },
];

export const isBrokerFault = (kind: string): kind is BrokerFaultKind => kind.startsWith("broker-");

export interface BrokerCluster {
  nodes: number;
  /** KAFKA_BROKERS: every node's address. */
  brokers: string;
  /** `infra/kafka.sh COMMAND [NODE]` against this cluster; rejects when it fails. */
  run(command: string, node?: number): Promise<string>;
}

const execFileAsync = promisify(execFile);

/**
 * Starts `nodes` nodes from scratch (a cluster an earlier run left there is stopped first). Its
 * commands run as child processes without blocking: the soak's clock and sampling go on meanwhile.
 */
export async function startBrokerCluster(root: string, nodes: number, port = 39092): Promise<BrokerCluster> {
  const stateDir = join(root, ".infra/soak-kafka");
  const env = childEnv({ INFRA_STATE_DIR: stateDir, KAFKA_PORT: String(port) });
  const run = async (command: string, node?: number) => {
    const args = [join(root, "infra/kafka.sh"), command, ...(node === undefined ? [] : [String(node)])];
    if (command === "up") args.push("--brokers", String(nodes));
    try {
      return (await execFileAsync("bash", args, { env, encoding: "utf8" })).stdout.trim();
    } catch (err) {
      const e = err as { stderr?: string; message: string };
      throw new Error(`infra/kafka.sh ${args.slice(1).join(" ")} failed: ${e.message}\n${e.stderr ?? ""}`);
    }
  };
  await run("down");
  rmSync(stateDir, { recursive: true, force: true });
  return { nodes, brokers: await run("up"), run };
}

/** Waits (real time, up to `timeoutMs`) until no partition of `topics` lacks an in-sync replica. */
async function inSync(kafka: Kafka, topics: string[], timeoutMs = 180_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const health = await kafkaHealth(kafka, topics).catch(() => undefined);
    if (health && health.brokers.length > 0 && health.underReplicated.length === 0) return;
    if (Date.now() > deadline) throw new Error(`partitions still under-replicated after ${timeoutMs / 1000} s`);
    await new Promise((r) => setTimeout(r, 1_000));
  }
}

/** Plays one fault on broker `victim` (the roll: on every broker, one at a time). */
export async function playBrokerFault(
  kind: BrokerFaultKind,
  cluster: BrokerCluster,
  kafka: Kafka,
  topics: string[],
  victim: number,
): Promise<void> {
  if (kind === "broker-kill") await cluster.run("kill", victim);
  if (kind === "broker-start") {
    await cluster.run("start", victim);
    await inSync(kafka, topics);
  }
  if (kind === "broker-roll")
    for (let node = 1; node <= cluster.nodes; node++) {
      await cluster.run("stop", node);
      await cluster.run("start", node);
      await inSync(kafka, topics);
    }
  if (kind === "broker-wipe") {
    await cluster.run("wipe", victim);
    await inSync(kafka, topics);
  }
}
