import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { END, START, generate, settingsFromSource, settingsSection, withSection } from "./docs-env.ts";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");

const fixture = `
import { z } from "zod";
import { bool, duration, list, port } from "@vod/config";
import { shared } from "./shared.ts";

const headers = z.string().default("{}");

const schema = z
  .object({
    /**
     * Where it listens;
     * 0.0.0.0 in containers.
     */
    HOST: z.string().min(1).default("127.0.0.1"),
    LISTEN_PORT: port(9102),
    /** Clock time a VOD may go unseen (see END_GRACE). */
    END_AFTER: duration("15m", { allowZero: true }).refine((ms) => ms < 86_400_000),
    END_GRACE: duration("2m"),
    BROKERS: list(["127.0.0.1:19092", "b:2"]),
    ENABLED: bool(true),
    NAME: z.string().min(1),
    TOKEN: z.string().optional(),
    SIZE: z.coerce.number().int().default(4 * 1024 * 1024),
    LEVEL: z.enum(["info", "debug"]).default("info"),
    /** A regular expression. */
    HOSTS: z.string().default(String.raw\`^(a|b)\\.example$\`),
    HEADERS: headers,
    ...shared,
    ...unknown,
  })
  .refine((e) => e.END_GRACE <= e.END_AFTER);
`;

const shared = `
import { z } from "zod";
export { sharedEnv as shared } from "./shared-env.ts";
`;
const sharedEnv = `
import { z } from "zod";
export const sharedEnv = {
  /** Clock multiplier. */
  SPEED: z.coerce.number().positive().default(1),
};
`;

describe("settingsFromSource", () => {
  it("reads each property's default and JSDoc, following spreads through imports", () => {
    const files: Record<string, string> = { "/x/src/shared.ts": shared, "/x/src/shared-env.ts": sharedEnv };
    const rows = settingsFromSource(fixture, "/x/src/env.ts", { root: "/x", readSource: (f) => files[f] });
    expect(rows).toEqual([
      { variable: "`HOST`", default: "`127.0.0.1`", meaning: "Where it listens; 0.0.0.0 in containers." },
      { variable: "`LISTEN_PORT`", default: "`9102`", meaning: "" },
      { variable: "`END_AFTER`", default: "`15m`", meaning: "Clock time a VOD may go unseen (see END_GRACE)." },
      { variable: "`END_GRACE`", default: "`2m`", meaning: "See `END_AFTER`." },
      { variable: "`BROKERS`", default: "`127.0.0.1:19092,b:2`", meaning: "" },
      { variable: "`ENABLED`", default: "`true`", meaning: "" },
      { variable: "`NAME`", default: "required", meaning: "" },
      { variable: "`TOKEN`", default: "unset", meaning: "" },
      { variable: "`SIZE`", default: "`4194304` (4 MiB)", meaning: "" },
      { variable: "`LEVEL`", default: "`info`", meaning: "One of `info`, `debug`." },
      { variable: "`HOSTS`", default: "`^(a\\|b)\\.example$`", meaning: "A regular expression." },
      { variable: "`HEADERS`", default: "`{}`", meaning: "" },
      { variable: "`SPEED`", default: "`1`", meaning: "Clock multiplier." },
      { variable: "`...unknown`", default: "", meaning: "The settings of `unknown`." },
    ]);
  });

  it("replaces only what lies between the markers", async () => {
    const section = await settingsSection([{ variable: "`A`", default: "`1`", meaning: "One." }], "/x/README.md");
    const readme = `# x\n\nText.\n\n## Settings\n\n${START}\n\n| old |\n| --- |\n\n${END}\n\nAfter.\n`;
    const next = withSection(readme, "x", section);
    expect(next).not.toBe(readme);
    expect(next).toMatch(
      /^# x\n\nText\.\n\n## Settings\n\n<!-- env:start -->\n\n.*\n\n<!-- env:end -->\n\nAfter\.\n$/s,
    );
    expect(next).toContain("| `A`      | `1`     | One.    |");
    expect(withSection(next, "x", section)).toBe(next);
    expect(withSection(undefined, "x", section)).toMatch(/^# x\n\n## Settings\n\n<!-- env:start -->/);
  });
});

describe("services/*/README.md", () => {
  it("has every settings table as src/env.ts generates it (else: npm run docs:env)", async () => {
    const updates = await generate(root);
    expect(updates.map((u) => u.service)).toEqual(["api", "delay", "hls-fetcher", "live-poller", "writer"]);
    const stale = updates.filter((u) => u.current !== u.next).map((u) => u.path);
    expect(stale, "stale settings tables: run `npm run docs:env`").toEqual([]);
  });
});
