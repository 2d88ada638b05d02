// The delay as its own process, killing itself with SIGKILL at one step of its first release:
// `CRASH_AT=before-send` as the release is handed to the producer (nothing of it sent), `after-commit`
// the moment the broker acknowledged it (nothing after it done). A kill -9 at an exact point, which
// a signal from outside cannot aim at.
import { systemClock } from "@vod/clock";
import { createFencedProducer, createKafka, createProducer, type FencedProducer } from "@vod/kafka";
import { createLogger } from "@vod/log";
import { createRegistry } from "@vod/service";
import { startDelay } from "../delay.ts";
import { readEnv } from "../env.ts";

const step = process.env.CRASH_AT;
if (step !== "before-send" && step !== "after-commit") throw new Error(`CRASH_AT: ${String(step)}`);
const env = readEnv();
const log = createLogger({ service: "delay", level: env.LOG_LEVEL });
const kafka = createKafka({ brokers: env.KAFKA_BROKERS, clientId: "delay-crash", log });
const requests = `${env.TOPIC_PREFIX}twitch.vod-fetch-requests`;
const die = () => process.kill(process.pid, "SIGKILL");

/** Runs `send`, dying before or after it when it carries a release. */
async function around(releases: boolean, send: () => Promise<void>): Promise<void> {
  if (releases && step === "before-send") die();
  await send();
  if (releases && step === "after-commit") die();
}

async function releaser(id: string): Promise<FencedProducer> {
  const real = await createFencedProducer(kafka, log, id);
  return {
    claim: () => real.claim(),
    sendAtomically: (topic, values) => around(topic.name === requests, () => real.sendAtomically(topic, values)),
    sendParts: (parts) =>
      around(
        parts.some((p) => p.topic === requests && p.messages.length > 0),
        () => real.sendParts(parts),
      ),
    disconnect: () => real.disconnect(),
  };
}

const producer = await createProducer(kafka, log);
await startDelay(env, {
  kafka,
  producer,
  clock: systemClock,
  log,
  registry: createRegistry("delay"),
  releaser,
  onFatal: () => process.exit(1),
});
log.info({ step }, "delay started; dies at its first release");
