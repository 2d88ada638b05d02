import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { isObjectType } from "graphql";
import { describe, expect, it } from "vitest";
import { subsetSchema } from "./gql.ts";
import { documentsInSource, findQueryDocuments, problemsWith } from "./query-docs.ts";

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), "../../..");

describe("schema subset", () => {
  it("builds and keeps Twitch's names, with no endCursor on PageInfo", () => {
    const schema = subsetSchema();
    const query = schema.getQueryType();
    expect(query?.getFields().streams?.args.map((a) => a.name)).toEqual(["first", "after", "options"]);
    const pageInfo = schema.getType("PageInfo");
    expect(isObjectType(pageInfo) && Object.keys(pageInfo.getFields())).toEqual(["hasNextPage", "hasPreviousPage"]);
    const video = schema.getType("Video");
    expect(isObjectType(video) && Object.keys(video.getFields())).toEqual(
      expect.arrayContaining(["id", "createdAt", "lengthSeconds", "status", "seekPreviewsURL", "broadcastType"]),
    );
  });
});

describe("query documents in the repository", () => {
  it("finds tagged templates and inlines interpolated fragments", () => {
    const src = [
      "const F = gql`fragment U on User { id login }`;",
      "export const Q = gql`",
      '  query { user(login: "x") { ...U } } ${F}',
      "`;",
      "const R = /* GraphQL */ `{ streams { edges { node { idd } } } }`;",
    ].join("\n");
    const docs = documentsInSource("x.ts", src);
    expect(docs.map((d) => d.line)).toEqual([1, 2, 5]);
    const schema = subsetSchema();
    expect(problemsWith(schema, docs[1]?.text ?? "")).toEqual([]);
    expect(problemsWith(schema, docs[2]?.text ?? "")).toEqual([expect.stringMatching(/idd/)]);
    expect(() => documentsInSource("y.ts", "const Q = gql`{ ${unknown} }`;")).toThrow(/cannot resolve/);
  });

  it("every document sent by packages/ and services/ validates against the subset", () => {
    const schema = subsetSchema();
    const docs = findQueryDocuments(repoRoot);
    expect(docs.map((d) => d.file)).toContain("packages/twitch/src/gql/live-streams.ts");
    const problems = docs.flatMap((d) => problemsWith(schema, d.text).map((p) => `${d.file}:${d.line}: ${p}`));
    expect(problems).toEqual([]);
  });
});
