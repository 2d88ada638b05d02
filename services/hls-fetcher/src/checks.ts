import {
  subscribe,
  type Catalog,
  type Subscription,
  type TypedProducer,
  type VodCheck,
  type VodCheckRequest,
} from "@vod/kafka";
import type { CdnHttp } from "./http.ts";

/** Checks wait behind every fetch the limiter holds: a person's curiosity never delays an archive. */
const CHECK_PRIORITY = 9;

export interface CheckDeps {
  http: Pick<CdnHttp, "probe">;
  /** CDN_URL_TEMPLATE: a segment is requested only under it, on a domain the fetcher may use. */
  urlTemplate: string;
  mayUse: (domain: string) => boolean;
  now: () => Date;
}

/**
 * The domain a segment URI is on, when it is one the fetcher may request: the request comes from the
 * API, which read it from a stored playlist, and nothing but the CDN may be asked.
 */
export function segmentDomain(uri: string, urlTemplate: string, mayUse: (domain: string) => boolean): string | null {
  const [before, after] = urlTemplate.split("{domain}") as [string, string];
  if (!uri.startsWith(before)) return null;
  const rest = uri.slice(before.length);
  const end = rest.indexOf(after);
  if (end <= 0) return null;
  const domain = rest.slice(0, end);
  return /^[a-z0-9.-]+$/.test(domain) && mayUse(domain) ? domain : null;
}

/**
 * Requests each segment once. Every segment there: `playable`; some: `partial`; none: `gone`. A segment
 * that answered nothing definite (timeout, 5xx) makes the check inconclusive (null): no state is better
 * than a wrong one, and the next person to open the VOD asks again.
 */
export async function checkVod(req: VodCheckRequest, d: CheckDeps, signal: AbortSignal): Promise<VodCheck | null> {
  const usable = req.segments.filter((uri) => segmentDomain(uri, d.urlTemplate, d.mayUse) !== null);
  if (usable.length === 0) return null;
  const answers = await Promise.all(usable.map((uri) => d.http.probe(uri, signal, CHECK_PRIORITY)));
  if (answers.some((a) => typeof a === "object")) return null;
  const dead = usable.flatMap((uri, i) => (answers[i] === "gone" ? [{ uri, status: "gone (403/404)" }] : []));
  return {
    v: 1,
    streamId: req.streamId,
    startTime: req.startTime,
    streamerId: req.streamerId,
    state: dead.length === 0 ? "playable" : dead.length === usable.length ? "gone" : "partial",
    checkedAt: d.now().toISOString(),
    checked: usable.length,
    dead,
  };
}

/**
 * The check requests of a batch, together; their outcomes published before the offsets move on. A check
 * gives up with the batch (shutdown) and is asked again after the redelivery.
 */
export function checkSubscription(catalog: Catalog, producer: TypedProducer, d: CheckDeps): Subscription {
  return subscribe(
    catalog.vodCheckRequests,
    {
      eachBatch: async (messages, ctx) => {
        const checks = await Promise.all(messages.map((m) => checkVod(m.value, d, ctx.signal)));
        const done = checks.filter((c): c is VodCheck => c !== null);
        if (done.length > 0) await producer.send(catalog.vodChecks, done);
        ctx.log.info({ asked: messages.length, answered: done.length }, "playable checks published");
      },
    },
    { optional: true },
  );
}
