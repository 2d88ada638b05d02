import { describe, expect, it } from "vitest";
import { GAMES } from "./games.ts";
import type { Simulator } from "./server.ts";
import { gqlPost, query, simulatorPerTest } from "./testing.ts";
import { REALISTIC_RATES } from "./world-options.ts";

const sim = simulatorPerTest();

const NODE =
  "edges { cursor node { id viewersCount broadcaster { id broadcastSettings { language } } game { id name } } } pageInfo { hasNextPage }";
const BY_LANGUAGE = `query L($after: Cursor, $languages: [Language!]) { streams(first: 30, after: $after, options: { languages: $languages }) { ${NODE} } }`;
const BY_GAME = `query G($id: ID, $after: Cursor, $languages: [String!]) { game(id: $id) { id streams(first: 30, after: $after, options: { languages: $languages }) { ${NODE} } } }`;

interface Edge {
  cursor: string;
  node: {
    id: string;
    viewersCount: number;
    broadcaster: { id: string; broadcastSettings: { language: string } };
    game: { id: string; name: string } | null;
  };
}
interface Conn {
  edges: Edge[];
  pageInfo: { hasNextPage: boolean };
}

async function pageAll(
  s: Simulator,
  doc: string,
  vars: Record<string, unknown>,
  pick: (data: unknown) => Conn | null | undefined,
): Promise<Edge["node"][]> {
  const out: Edge["node"][] = [];
  let after: string | undefined;
  for (;;) {
    const res = await query<unknown>(s, doc, { ...vars, after });
    const conn = pick(res.data);
    if (!conn) throw new Error(JSON.stringify(res.errors));
    out.push(...conn.edges.map((e) => e.node));
    if (!conn.pageInfo.hasNextPage) return out;
    after = conn.edges.at(-1)?.cursor;
  }
}

const truth = (s: Simulator, keep: (language: string, gameIdx: number) => boolean) => {
  const ids: string[] = [];
  for (let off = 0; ; off += 30) {
    const p = s.world.page(off, 30);
    for (const it of p.items) if (keep(it.vod.language, it.vod.gameIdx)) ids.push(it.vod.streamId);
    if (!p.hasNextPage) return ids;
  }
};

describe("GQL stream filters", () => {
  it("filters streams by languages, viewer-sorted, and the languages together give back every stream", async () => {
    const s = await sim({ streams: 600, seed: 3, rates: REALISTIC_RATES });
    const en = await pageAll(s, BY_LANGUAGE, { languages: ["EN"] }, (d) => (d as { streams: Conn }).streams);
    expect(en.length).toBeGreaterThan(100);
    expect(en.every((n) => n.broadcaster.broadcastSettings.language === "EN")).toBe(true);
    expect(en.map((n) => n.viewersCount)).toEqual([...en.map((n) => n.viewersCount)].sort((a, b) => b - a));
    expect(en.map((n) => n.id)).toEqual(truth(s, (l) => l === "EN"));
    const rest = await pageAll(
      s,
      BY_LANGUAGE,
      { languages: ["ES", "PT", "DE", "RU", "FR", "JA", "KO", "IT", "ZH", "PL", "TR", "OTHER"] },
      (d) => (d as { streams: Conn }).streams,
    );
    expect(new Set([...en, ...rest].map((n) => n.id)).size).toBe(s.world.liveCount);
    // No filter, or an empty list, means every language.
    const all = await pageAll(s, BY_LANGUAGE, { languages: [] }, (d) => (d as { streams: Conn }).streams);
    expect(all).toHaveLength(s.world.liveCount);
  });

  it("refuses a language outside the Language enum, as the schema does", async () => {
    const s = await sim({ streams: 5 });
    const res = await query(s, BY_LANGUAGE, { languages: ["english"] });
    expect(res.errors?.[0]?.message).toMatch(/Language/);
  });

  it("lists a category's streams by game id or name, with a language filter in either case, and some streams have no category", async () => {
    const s = await sim({ streams: 800, seed: 5, rates: { ...REALISTIC_RATES, noCategory: 0.05 } });
    const chatting = GAMES.findIndex((g) => g.name === "Just Chatting");
    const streams = await pageAll(
      s,
      BY_GAME,
      { id: "509658", languages: ["en"] },
      (d) => (d as { game: { streams: Conn } }).game.streams,
    );
    expect(streams.length).toBeGreaterThan(5);
    expect(
      streams.every((n) => n.game?.name === "Just Chatting" && n.broadcaster.broadcastSettings.language === "EN"),
    ).toBe(true);
    expect(streams.map((n) => n.id)).toEqual(truth(s, (l, g) => l === "EN" && g === chatting));
    const byName = await query<{ game: { id: string } | null }>(s, `{ game(name: "just chatting") { id } }`);
    expect(byName.data?.game?.id).toBe("509658");
    expect((await query<{ game: unknown }>(s, `{ game(id: "1") { id } }`)).data?.game).toBeNull();
    // Streams without a category are in no game's list, only in Query.streams.
    const noCategory = truth(s, (_, g) => g < 0);
    expect(noCategory.length).toBeGreaterThan(10);
    const all = await pageAll(s, BY_LANGUAGE, {}, (d) => (d as { streams: Conn }).streams);
    expect(
      all
        .filter((n) => n.game === null)
        .map((n) => n.id)
        .sort(),
    ).toEqual([...noCategory].sort());
  });

  it("answers several filtered pages in one POST, each with its own cursors", async () => {
    const s = await sim({ streams: 300, seed: 7, rates: REALISTIC_RATES });
    const res = await gqlPost(s, [
      { query: BY_LANGUAGE, variables: { languages: ["EN"] } },
      { query: BY_LANGUAGE, variables: { languages: ["ES"] } },
      { query: BY_GAME, variables: { id: "21779" } },
    ]);
    const body = res.body as { data: { streams?: Conn; game?: { streams: Conn } } }[];
    expect(body).toHaveLength(3);
    expect(body[0]?.data.streams?.edges.every((e) => e.node.broadcaster.broadcastSettings.language === "EN")).toBe(
      true,
    );
    expect(body[1]?.data.streams?.edges.every((e) => e.node.broadcaster.broadcastSettings.language === "ES")).toBe(
      true,
    );
    expect(body[2]?.data.game?.streams.edges.every((e) => e.node.game?.id === "21779")).toBe(true);
    const second = await query<{ streams: Conn }>(s, BY_LANGUAGE, {
      languages: ["EN"],
      after: body[0]?.data.streams?.edges.at(-1)?.cursor,
    });
    const firstIds = new Set(body[0]?.data.streams?.edges.map((e) => e.node.id));
    expect(second.data?.streams.edges.length).toBeGreaterThan(0);
    expect(second.data?.streams.edges.some((e) => firstIds.has(e.node.id))).toBe(false);
  });

  it("answers empty stream lists during an `empty` fault, and full ones after it", async () => {
    const s = await sim({ streams: 50, faults: [{ kind: "empty", for: "20m" }] });
    const during = await query<{ streams: Conn }>(s, BY_LANGUAGE, {});
    expect(during.data?.streams).toEqual({ edges: [], pageInfo: { hasNextPage: false } });
    s.clock.advance(20 * 60_000);
    const after = await query<{ streams: Conn }>(s, BY_LANGUAGE, {});
    expect(after.data?.streams.edges.length).toBe(30);
  });
});

describe("the realistic world", () => {
  it("has Twitch's viewer shape: about 20% of live streams at 10 or more and 30% at 5 or more", async () => {
    const s = await sim({ streams: 20_000, seed: 11, rates: REALISTIC_RATES });
    let live = 0;
    let five = 0;
    let ten = 0;
    for (let off = 0; ; off += 30) {
      const p = s.world.page(off, 30);
      for (const it of p.items) {
        live++;
        if (it.viewers >= 5) five++;
        if (it.viewers >= 10) ten++;
      }
      if (!p.hasNextPage) break;
    }
    expect(ten / live).toBeGreaterThan(0.17);
    expect(ten / live).toBeLessThan(0.23);
    expect(five / live).toBeGreaterThan(0.27);
    expect(five / live).toBeLessThan(0.33);
  });
});
