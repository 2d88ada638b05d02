import { describe, expect, it } from "vitest";
import { CLIENT_ID_MISSING } from "./endpoints.ts";
import type { Simulator } from "./server.ts";
import { gqlPost, query, simulatorPerTest } from "./testing.ts";

const sim = simulatorPerTest();

const PAGE = `query Page($first: Int, $after: Cursor) {
  streams(first: $first, after: $after, options: { sort: VIEWER_COUNT }) {
    edges { cursor node { id viewersCount createdAt type broadcaster { id login broadcastSettings { title language } } game { id name } } }
    pageInfo { hasNextPage }
  }
}`;

interface Page {
  streams: {
    edges: { cursor: string; node: { id: string; viewersCount: number; broadcaster: { login: string } } }[];
    pageInfo: { hasNextPage: boolean };
  } | null;
}

async function sweep(s: Simulator, between?: () => void) {
  const ids: string[] = [];
  let after: string | undefined;
  for (;;) {
    const { data } = await query<Page>(s, PAGE, { first: 30, after });
    const page = data?.streams;
    if (!page) throw new Error("no page");
    ids.push(...page.edges.map((e) => e.node.id));
    if (!page.pageInfo.hasNextPage) return ids;
    after = page.edges.at(-1)?.cursor;
    between?.();
  }
}

describe("GQL", () => {
  it("refuses a request without Client-ID with Twitch's exact 400 body", async () => {
    const s = await sim({ streams: 3 });
    const res = await gqlPost(s, { query: "{ streams { edges { cursor } } }" }, {});
    expect(res.status).toBe(400);
    expect(res.body).toEqual(CLIENT_ID_MISSING);
    expect(JSON.stringify(res.body)).toBe(
      '{"error":"Bad Request","status":400,"message":"The \\"Client-ID\\" header is missing from the request."}',
    );
  });

  it("answers users(ids:) with each user's live stream, in order, null for unknown ids, and refuses more than 100 ids", async () => {
    const s = await sim({ streams: 5 });
    const live = s.world.page(0, 5).items;
    const ids = [live[0]!.streamer.id, "999999999", live[1]!.streamer.id];
    const Q = `query U($ids: [ID!]) { users(ids: $ids) { id stream { id viewersCount } } }`;
    const { data } = await query<{
      users: ({ id: string; stream: { id: string; viewersCount: number } | null } | null)[];
    }>(s, Q, { ids });
    expect(data?.users.map((u) => u?.stream?.id ?? null)).toEqual([live[0]!.vod.streamId, null, live[1]!.vod.streamId]);
    const many = await query<{ users: unknown }>(s, Q, { ids: Array.from({ length: 101 }, (_, i) => String(i + 1)) });
    expect(many.errors?.[0]?.message).toMatch(/at most 100/);
  });

  it("answers batches with an array, in order", async () => {
    const s = await sim({ streams: 0, streamers: [{ login: "solo", viewers: 3, sessions: [{ start: "-1h" }] }] });
    const res = await gqlPost(s, [
      { query: `{ user(login: "solo") { login } }` },
      { query: `query Q($id: ID) { user(id: $id) { id } }`, variables: { id: "nope" } },
      { query: `{ user(login: "solo") { noSuchField } }` },
    ]);
    expect(res.status).toBe(200);
    const body = res.body as { data?: unknown; errors?: unknown[] }[];
    expect(body).toHaveLength(3);
    expect(body[0]?.data).toEqual({ user: { login: "solo" } });
    expect(body[1]?.data).toEqual({ user: null });
    expect(body[2]?.errors?.length).toBe(1);
  });

  it("sorts by viewers, caps pages at 30, has no endCursor, and sweeps every live stream once while counts stand still", async () => {
    const s = await sim({ seed: 4, streams: 400 });
    const first = await query<Page>(s, PAGE, { first: 100 });
    const edges = first.data?.streams?.edges ?? [];
    expect(edges).toHaveLength(30);
    const counts = edges.map((e) => e.node.viewersCount);
    expect(counts).toEqual([...counts].sort((a, b) => b - a));
    const noEnd = await query(s, `{ streams(first: 1) { pageInfo { endCursor } } }`);
    expect(noEnd.errors?.[0]?.message).toMatch(/endCursor/);

    const ids = await sweep(s);
    expect(ids.length).toBe(s.world.liveCount);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it("drifts while paging when viewer counts change: duplicates and skips", async () => {
    const s = await sim({ seed: 4, streams: 2_000 });
    const live = new Set(s.vods({ state: "live" }).map((v) => v.streamId));
    const ids = await sweep(s, () => s.clock.advance(60_000));
    const seen = new Set(ids);
    const duplicates = ids.length - seen.size;
    const stillLive = new Set(s.vods({ state: "live" }).map((v) => v.streamId));
    const skipped = [...live].filter((id) => stillLive.has(id) && !seen.has(id)).length;
    expect(duplicates).toBeGreaterThan(0);
    expect(skipped).toBeGreaterThan(0);
  });

  it("pages from any edge's cursor, as tools that restart 80% into a page do", async () => {
    const s = await sim({ seed: 2, streams: 200 });
    const one = (await query<Page>(s, PAGE, { first: 30 })).data?.streams?.edges ?? [];
    const from24 = (await query<Page>(s, PAGE, { first: 30, after: one[23]?.cursor })).data?.streams?.edges ?? [];
    expect(from24.slice(0, 6).map((e) => e.node.id)).toEqual(one.slice(24).map((e) => e.node.id));
    const bad = await query<Page>(s, PAGE, { first: 30, after: "garbage" });
    expect(bad.data?.streams).toBeNull();
    expect(bad.errors?.[0]?.message).toMatch(/cursor/);
  });

  it("lists public ARCHIVE videos with a seekPreviewsURL naming the domain and stream id, and sub-only archives", async () => {
    const s = await sim({
      streams: 0,
      streamers: [
        {
          login: "pub",
          viewers: 10,
          subOnly: true,
          domain: "vod-metro.twitch.tv",
          sessions: [
            { start: "-3h", duration: "1h" },
            { start: "-30m", duration: "2h" },
          ],
        },
        { login: "hid", viewers: 10, hidden: true, sessions: [{ start: "-3h", duration: "1h" }] },
      ],
    });
    const Q = `query V($login: String) { user(login: $login) {
      id login subscriptionProducts { hasSubonlyVideoArchive }
      videos(first: 10, type: ARCHIVE, sort: TIME) { edges { node { id createdAt lengthSeconds status seekPreviewsURL broadcastType } } }
    } }`;
    interface V {
      user: {
        subscriptionProducts: { hasSubonlyVideoArchive: boolean }[];
        videos: {
          edges: {
            node: {
              createdAt: string;
              lengthSeconds: number;
              status: string;
              seekPreviewsURL: string;
              broadcastType: string;
            };
          }[];
        };
      };
    }
    const pub = (await query<V>(s, Q, { login: "pub" })).data?.user;
    const truth = s.vods({ login: "pub" });
    expect(pub?.subscriptionProducts[0]?.hasSubonlyVideoArchive).toBe(true);
    const nodes = pub?.videos.edges.map((e) => e.node) ?? [];
    expect(nodes.map((n) => n.status)).toEqual(["RECORDING", "RECORDED"]);
    expect(nodes.map((n) => n.createdAt)).toEqual([truth[1]?.startTime, truth[0]?.startTime]);
    expect(nodes[1]?.lengthSeconds).toBe(3600);
    expect(nodes[0]?.lengthSeconds).toBe(1800);
    for (const [i, n] of nodes.entries()) {
      const vod = truth[1 - i];
      expect(n.broadcastType).toBe("ARCHIVE");
      expect(n.seekPreviewsURL).toContain(`https://vod-metro.twitch.tv/`);
      expect(n.seekPreviewsURL).toContain(`_${vod?.streamId}_`);
      expect(n.seekPreviewsURL).toContain(vod?.path.split("/")[0]);
    }
    const hid = (await query<V>(s, Q, { login: "hid" })).data?.user;
    expect(hid?.videos.edges).toEqual([]);
    expect(hid?.subscriptionProducts[0]?.hasSubonlyVideoArchive).toBe(false);
    expect(s.vods({ login: "hid" })[0]).toMatchObject({ saved: true, public: false, hidden: true });
  });
});
