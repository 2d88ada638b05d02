// No Docker engine runs here, so the compose file is checked against the code it starts.
import { existsSync, readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { serviceNodeFlags } from "@vod/cli";
import { createCatalog, dlqName } from "@vod/kafka";
import { repoRoot } from "@vod/testing";

interface ComposeService {
  image?: string;
  command?: string[];
  profiles?: string[];
  environment?: Record<string, string | number>;
  ports?: string[];
  depends_on?: Record<string, { condition: string }>;
  healthcheck?: unknown;
  restart?: string;
  volumes?: string[];
}

const source = readFileSync(join(repoRoot, "docker-compose.yml"), "utf8");
const compose = parse(source, { merge: true }) as { services: Record<string, ComposeService> };
const services = Object.entries(compose.services);
const serviceDirs = readdirSync(join(repoRoot, "services"), { withFileTypes: true })
  .filter((d) => d.isDirectory())
  .map((d) => d.name);
const profiles = ["twitch", "sim"];
const active = (profile: string) => services.filter(([, s]) => !s.profiles || s.profiles.includes(profile));
const runs = (s: ComposeService, dir: string) => (s.command ?? []).includes(`services/${dir}/src/main.ts`);
const env = (s: ComposeService) =>
  Object.fromEntries(Object.entries(s.environment ?? {}).map(([k, v]) => [k, String(v)]));

describe("docker-compose.yml", () => {
  it.each(profiles)("runs every service in services/ exactly once under the %s profile", (profile) => {
    for (const dir of serviceDirs) {
      expect(
        active(profile)
          .filter(([, s]) => runs(s, dir))
          .map(([name]) => name),
        `${dir} under ${profile}`,
      ).toHaveLength(1);
    }
  });

  it("sets environment that each service's env.ts accepts, with no key the service does not know", async () => {
    for (const dir of serviceDirs) {
      const { readEnv } = (await import(join(repoRoot, `services/${dir}/src/env.ts`))) as {
        readEnv: (e: Record<string, string>) => Record<string, unknown>;
      };
      for (const [name, s] of services.filter(([, s]) => runs(s, dir))) {
        const given = env(s);
        const parsed = readEnv(given);
        const unknown = Object.keys(given).filter((k) => !(k in parsed));
        expect(unknown, `${name} sets keys ${dir} does not read`).toEqual([]);
      }
    }
  });

  it("starts each service with the node flags in its package.json, as the demo and the soak do", () => {
    for (const dir of serviceDirs) {
      for (const [name, s] of services.filter(([, s]) => runs(s, dir))) {
        const command = s.command ?? [];
        const flags = command.slice(1, command.indexOf("--import"));
        expect(flags, name).toEqual(serviceNodeFlags(repoRoot, `services/${dir}/src/main.ts`));
      }
    }
  });

  it("starts only files that exist", () => {
    for (const [name, s] of services) {
      for (const arg of (s.command ?? []).flatMap((a) => a.split(/\s+/)).filter((a) => a.endsWith(".ts"))) {
        expect(existsSync(join(repoRoot, arg)), `${name}: ${arg}`).toBe(true);
      }
    }
  });

  it.each(profiles)("publishes no host port twice under the %s profile", (profile) => {
    const ports = active(profile)
      .flatMap(([, s]) => s.ports ?? [])
      .map((p) => p.split(":").slice(0, -1).join(":"));
    expect(ports.length).toBeGreaterThan(0);
    expect(new Set(ports).size).toBe(ports.length);
  });

  it("waits only on services that exist and can satisfy the condition", () => {
    for (const [name, s] of services) {
      for (const [dep, { condition }] of Object.entries(s.depends_on ?? {})) {
        const target = compose.services[dep];
        expect(target, `${name} depends on missing ${dep}`).toBeDefined();
        if (condition === "service_healthy")
          expect(target!.healthcheck, `${dep} needs a healthcheck for ${name}`).toBeDefined();
        if (condition === "service_completed_successfully")
          expect(target!.restart, `${dep} must be a one-shot job`).toBeUndefined();
        for (const profile of s.profiles ?? profiles) {
          expect(
            !target!.profiles || target!.profiles.includes(profile),
            `${name} (${profile}) waits on ${dep}, absent under ${profile}`,
          ).toBe(true);
        }
      }
    }
  });

  it("names only topics of the catalog, with one topic prefix for every service", () => {
    const catalog = Object.values(createCatalog()).flatMap((t) => [t.name, dlqName(t.name)]);
    for (const topic of source.match(/\btwitch\.[a-z0-9.-]+/g) ?? []) expect(catalog).toContain(topic);
    const prefixes = new Set(
      services
        .filter(([, s]) => s.command?.some((a) => a.startsWith("services/")))
        .map(([, s]) => env(s).TOPIC_PREFIX ?? ""),
    );
    expect(prefixes.size).toBe(1);
  });

  it("gives the delay the simulator's mute interval", () => {
    const simArgs = compose.services["twitch-sim"]!.command!;
    const simMute = simArgs[simArgs.indexOf("--mute-interval") + 1];
    expect(env(compose.services["delay-sim"]!).MUTE_INTERVAL).toBe(simMute);
  });

  it("runs the Kafka release the infra scripts fetch from Maven Central", () => {
    const pom = readFileSync(join(repoRoot, "infra/kafka/pom.xml"), "utf8");
    const version = /<kafka\.version>([\d.]+)<\/kafka\.version>/.exec(pom)![1]!;
    expect(compose.services.kafka!.image).toBe(`apache/kafka:${version}`);
  });

  it("runs no service as PostgreSQL's superuser, and the API as its read-only login", () => {
    const postgres = compose.services.postgres!;
    const superuser = env(postgres).POSTGRES_USER!;
    const logins = services
      .filter(([, s]) => env(s).DATABASE_URL)
      .map(([name, s]) => [name, decodeURIComponent(new URL(env(s).DATABASE_URL!).username)] as const);
    expect(logins.length).toBeGreaterThan(1);
    for (const [name, login] of logins) expect(login, name).not.toBe(superuser);
    for (const [name, login] of logins.filter(([name]) =>
      compose.services[name]!.command?.includes("services/api/src/main.ts"),
    ))
      expect(login, name).toBe("vod_api");
    // The superuser only initialises: a script the image runs once makes the owner, with no SUPERUSER.
    const script = (postgres.volumes ?? []).find((v) => v.includes("/docker-entrypoint-initdb.d/"));
    expect(script).toBeDefined();
    const init = readFileSync(join(repoRoot, script!.split(":")[0]!), "utf8");
    const owner = /CREATE ROLE vod [^;]*;/.exec(init)?.[0];
    expect(owner).toMatch(/ LOGIN /);
    expect(owner).not.toMatch(/ SUPERUSER/i);
    // The API's password is the one the init job gives its role.
    const apiUrl = env(compose.services.api!).DATABASE_URL!;
    expect(apiUrl).toContain(env(compose.services.init!).API_DATABASE_PASSWORD!);
    expect(compose.services.init!.command!.join(" ")).toContain("packages/db/scripts/api-login.ts");
  });

  it("starts the real-Twitch profile by default", () => {
    expect(readFileSync(join(repoRoot, ".env"), "utf8")).toMatch(/^COMPOSE_PROFILES=twitch$/m);
  });
});
