/**
 * Extracts the part of Twitch's scraped schema that the simulator serves, keeping Twitch's
 * type, field and argument names and descriptions. Object types list their fields by hand;
 * enums, scalars and input objects they reference come along whole (inputs may be trimmed).
 *
 *   tsx packages/twitch-sim/scripts/extract-schema.ts [full-schema.graphql] [--check]
 *
 * --check exits 1 when the committed subset differs from a fresh extraction.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { Kind, buildASTSchema, parse, print, type DefinitionNode, type DocumentNode, type TypeNode } from "graphql";

const here = dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
const check = args.includes("--check");
const source = resolve(
  args.find((a) => !a.startsWith("--")) ??
    process.env.TWITCH_SCHEMA ??
    resolve(here, "../../../../shared/twitch/schema.graphql"),
);
const target = resolve(here, "../schema/twitch-subset.graphql");

/** Object types and input objects: the fields (and for fields, the arguments) to keep. */
const KEEP: Record<string, Record<string, string[] | true>> = {
  Query: {
    streams: ["first", "after", "options"],
    game: ["id", "name"],
    user: ["id", "login", "lookupType"],
    users: ["ids", "logins"],
    video: ["id"],
  },
  StreamConnection: { edges: true, pageInfo: true },
  StreamEdge: { cursor: true, node: true },
  PageInfo: { hasNextPage: true, hasPreviousPage: true },
  Stream: {
    id: true,
    viewersCount: true,
    createdAt: true,
    type: true,
    title: true,
    broadcaster: true,
    game: true,
    broadcastLanguage: true,
    language: true,
    isMature: true,
    previewImageURL: true,
    archiveVideo: true,
  },
  User: {
    id: true,
    login: true,
    displayName: true,
    createdAt: true,
    broadcastSettings: true,
    stream: true,
    videos: ["first", "after", "type", "types", "sort", "options"],
    subscriptionProducts: true,
    profileImageURL: true,
  },
  BroadcastSettings: { id: true, title: true, language: true, isMature: true, game: true },
  Game: { id: true, name: true, displayName: true, boxArtURL: true, streams: ["first", "after", "options"] },
  VideoConnection: { edges: true, pageInfo: true, totalCount: true },
  VideoEdge: { cursor: true, node: true },
  Video: {
    id: true,
    title: true,
    createdAt: true,
    publishedAt: true,
    lengthSeconds: true,
    status: true,
    seekPreviewsURL: true,
    broadcastType: true,
    owner: true,
    game: true,
    viewCount: true,
    previewThumbnailURL: true,
    animatedPreviewURL: true,
  },
  SubscriptionProduct: { id: true, displayName: true, hasSubonlyVideoArchive: true },
  StreamOptions: {
    sort: true,
    languages: true,
    tags: true,
    locale: true,
    requestID: true,
    platformType: true,
    includeRestricted: true,
  },
  GameStreamOptions: {
    sort: true,
    languages: true,
    tags: true,
    locale: true,
    requestID: true,
    includeRestricted: true,
  },
};

const BUILT_IN = new Set(["ID", "String", "Int", "Float", "Boolean"]);

function namedType(type: TypeNode): string {
  return type.kind === Kind.NAMED_TYPE ? type.name.value : namedType(type.type);
}

export function extractSubset(full: DocumentNode): DocumentNode {
  const byName = new Map<string, DefinitionNode & { name: { value: string } }>();
  for (const def of full.definitions) {
    if ("name" in def && def.name && def.kind !== Kind.DIRECTIVE_DEFINITION) byName.set(def.name.value, def as never);
  }
  const out = new Map<string, DefinitionNode>();
  const queue = ["Query"];
  while (queue.length > 0) {
    const name = queue.shift() as string;
    if (out.has(name) || BUILT_IN.has(name)) continue;
    const def = byName.get(name);
    if (!def) throw new Error(`type ${name} is not in the full schema`);
    const keep = KEEP[name];
    if (def.kind === Kind.OBJECT_TYPE_DEFINITION) {
      if (!keep) throw new Error(`object type ${name} is referenced but has no field list in KEEP`);
      const fields = (def.fields ?? []).filter((f) => f.name.value in keep);
      const missing = Object.keys(keep).filter((f) => !fields.some((x) => x.name.value === f));
      if (missing.length) throw new Error(`${name} has no field(s) ${missing.join(", ")}`);
      const trimmed = fields.map((f) => {
        const wanted = keep[f.name.value];
        const fieldArgs =
          wanted === true ? f.arguments : (f.arguments ?? []).filter((a) => wanted?.includes(a.name.value));
        for (const a of fieldArgs ?? []) queue.push(namedType(a.type));
        queue.push(namedType(f.type));
        return { ...f, arguments: fieldArgs };
      });
      out.set(name, { ...def, interfaces: [], fields: trimmed });
    } else if (def.kind === Kind.INPUT_OBJECT_TYPE_DEFINITION) {
      const fields = (def.fields ?? []).filter(
        (f) => !keep || f.name.value in keep || f.type.kind === Kind.NON_NULL_TYPE,
      );
      for (const f of fields) queue.push(namedType(f.type));
      out.set(name, { ...def, fields });
    } else if (def.kind === Kind.ENUM_TYPE_DEFINITION || def.kind === Kind.SCALAR_TYPE_DEFINITION) {
      out.set(name, def);
    } else {
      throw new Error(`type ${name} (${def.kind}) is not supported by the extractor`);
    }
  }
  const definitions = [...out.values()].sort((a, b) =>
    (a as { name: { value: string } }).name.value.localeCompare((b as { name: { value: string } }).name.value),
  );
  return { kind: Kind.DOCUMENT, definitions };
}

const HEADER =
  "# Subset of Twitch's GraphQL schema served by the simulator.\n" +
  "# Generated by packages/twitch-sim/scripts/extract-schema.ts from the scraped schema; do not edit by hand.\n\n";

const subset = extractSubset(parse(readFileSync(source, "utf8"), { noLocation: true }));
buildASTSchema(subset); // throws if the subset is not a valid schema on its own
const text = HEADER + print(subset) + "\n";
if (check) {
  const current = readFileSync(target, "utf8");
  if (current !== text) {
    console.error(`${target} differs from a fresh extraction of ${source}`);
    process.exit(1);
  }
  console.log("subset is up to date");
} else {
  writeFileSync(target, text);
  console.log(`wrote ${target} (${subset.definitions.length} types)`);
}
