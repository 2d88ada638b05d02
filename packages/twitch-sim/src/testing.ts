import { request } from "node:http";
import { afterEach } from "vitest";
import { TWITCH_WEB_CLIENT_ID as CLIENT_ID } from "@vod/twitch";
import { startSimulator, type Simulator } from "./server.ts";
import type { SimulatorOptions } from "./simulator-options.ts";

export { CLIENT_ID };

/**
 * Starts simulators for the tests of one file and closes them after each test. `defaults` are
 * merged under each call's options.
 */
export function simulatorPerTest(defaults: SimulatorOptions = {}): (options?: SimulatorOptions) => Promise<Simulator> {
  const sims: Simulator[] = [];
  afterEach(async () => {
    await Promise.all(sims.splice(0).map((s) => s.close()));
  });
  return async (options = {}) => {
    const s = await startSimulator({ ...defaults, ...options });
    sims.push(s);
    return s;
  };
}

export async function gqlPost(
  sim: Simulator,
  body: unknown,
  headers: Record<string, string> = { "Client-ID": CLIENT_ID },
) {
  const res = await fetch(sim.gqlUrl, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: JSON.stringify(body),
  });
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    // fault answers are plain text
  }
  return { status: res.status, body: parsed };
}

export interface GqlResult<T> {
  data?: T;
  errors?: { message: string; path?: string[] }[];
}

export async function query<T>(
  sim: Simulator,
  query: string,
  variables?: Record<string, unknown>,
): Promise<GqlResult<T>> {
  const { status, body } = await gqlPost(sim, { query, variables });
  if (status !== 200) throw new Error(`GQL answered ${status}`);
  return body as GqlResult<T>;
}

export async function get(url: string): Promise<{ status: number; text: string }> {
  const res = await fetch(url);
  return { status: res.status, text: await res.text() };
}

/** GET with an explicit Host header (fetch does not let callers set one). */
export function getWithHost(sim: Simulator, host: string, path: string): Promise<{ status: number; text: string }> {
  const { hostname, port } = new URL(sim.url);
  return new Promise((resolve, reject) => {
    const req = request({ hostname, port, path, headers: { host } }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString("utf8") }));
      res.on("error", reject);
    });
    req.on("error", reject);
    req.end();
  });
}

export async function admin<T>(sim: Simulator, path: string, body?: unknown): Promise<{ status: number; body: T }> {
  const res = await fetch(`${sim.url}${path}`, {
    method: body === undefined ? "GET" : "POST",
    headers: { "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as T };
}
