import { readFileSync, readdirSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { Kind, NoUnusedFragmentsRule, parse, specifiedRules, validate, type GraphQLSchema } from "graphql";
import ts from "typescript";

export interface QueryDocument {
  file: string;
  line: number;
  text: string;
}

/** A template's pieces: literal text between interpolations, and each interpolation's source. */
interface Template {
  name: string | undefined;
  line: number;
  quasis: string[];
  exprs: string[];
}

function templateOf(sf: ts.SourceFile, node: ts.TemplateLiteral, name: string | undefined): Template {
  const line = sf.getLineAndCharacterOfPosition(node.getStart(sf)).line + 1;
  if (ts.isNoSubstitutionTemplateLiteral(node)) return { name, line, quasis: [node.text], exprs: [] };
  return {
    name,
    line,
    quasis: [node.head.text, ...node.templateSpans.map((s) => s.literal.text)],
    exprs: node.templateSpans.map((s) => s.expression.getText(sf)),
  };
}

const isGqlTag = (tag: ts.Expression): boolean =>
  (ts.isIdentifier(tag) && tag.text === "gql") || (ts.isPropertyAccessExpression(tag) && tag.name.text === "gql");

/**
 * Finds GraphQL documents in TypeScript source: templates tagged gql (graphql-request's tag) and
 * templates marked with a leading GraphQL block comment. An interpolation must name another such
 * template in the same file (a shared fragment); it is inlined.
 */
export function documentsInSource(file: string, src: string): QueryDocument[] {
  const sf = ts.createSourceFile(file, src, ts.ScriptTarget.Latest, true, ts.ScriptKind.TS);
  const found: Template[] = [];
  const nameOf = (node: ts.Node): string | undefined => {
    const parent = node.parent;
    return parent && ts.isVariableDeclaration(parent) && ts.isIdentifier(parent.name) ? parent.name.text : undefined;
  };
  const visit = (node: ts.Node): void => {
    if (ts.isTaggedTemplateExpression(node) && isGqlTag(node.tag)) {
      found.push(templateOf(sf, node.template, nameOf(node)));
    } else if (ts.isNoSubstitutionTemplateLiteral(node) || ts.isTemplateExpression(node)) {
      // A comment on the same line as the previous token counts as trailing trivia in TypeScript.
      const at = node.getFullStart();
      const comments = [
        ...(ts.getTrailingCommentRanges(src, at) ?? []),
        ...(ts.getLeadingCommentRanges(src, at) ?? []),
      ];
      if (comments.some((c) => /^\/\*\s*GraphQL\s*\*\/$/.test(src.slice(c.pos, c.end)))) {
        found.push(templateOf(sf, node, nameOf(node)));
      }
    }
    ts.forEachChild(node, visit);
  };
  visit(sf);
  const byName = new Map(found.filter((f) => f.name).map((f) => [f.name as string, f]));
  const render = (f: Template, seen: Set<string>): string =>
    f.quasis
      .map((q, i) => {
        const expr = f.exprs[i];
        if (expr === undefined) return q;
        const target = byName.get(expr);
        if (!target || seen.has(expr)) {
          throw new Error(
            `${file}:${f.line}: cannot resolve \${${expr}} in a GraphQL document; interpolate only gql constants of this file`,
          );
        }
        return q + render(target, new Set([...seen, expr]));
      })
      .join("");
  return found.map((f) => ({ file, line: f.line, text: render(f, new Set(f.name ? [f.name] : [])) }));
}

function walk(dir: string, out: string[]): void {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return;
  }
  for (const name of names) {
    if (name === "node_modules" || name.startsWith(".")) continue;
    const path = join(dir, name);
    if (statSync(path).isDirectory()) walk(path, out);
    else out.push(path);
  }
}

/** Every GraphQL document under `packages/*\/src` and `services/*\/src` of the repository at `root`, tests aside. */
export function findQueryDocuments(root: string): QueryDocument[] {
  const files: string[] = [];
  for (const group of ["packages", "services"]) {
    let members: string[] = [];
    try {
      members = readdirSync(join(root, group));
    } catch {
      continue;
    }
    for (const member of members) walk(join(root, group, member, "src"), files);
  }
  const docs: QueryDocument[] = [];
  for (const path of files.sort()) {
    const file = relative(root, path);
    if (path.endsWith(".graphql") || path.endsWith(".gql"))
      docs.push({ file, line: 1, text: readFileSync(path, "utf8") });
    // Tests may hold deliberately broken documents; what services send lives in the other files.
    else if (/\.(ts|mts|js|mjs)$/.test(path) && !/\.test\.[mc]?[jt]s$/.test(path)) {
      const src = readFileSync(path, "utf8");
      if (src.includes("gql") || src.includes("GraphQL")) docs.push(...documentsInSource(file, src));
    }
  }
  return docs;
}

/** Validation messages for a document against a schema; empty when it is valid. */
export function problemsWith(schema: GraphQLSchema, text: string): string[] {
  try {
    const doc = parse(text);
    // A fragment defined on its own is checked where an operation spreads it, not for being unused there.
    const fragmentsOnly = doc.definitions.every((d) => d.kind === Kind.FRAGMENT_DEFINITION);
    const rules = fragmentsOnly ? specifiedRules.filter((r) => r !== NoUnusedFragmentsRule) : specifiedRules;
    return validate(schema, doc, rules).map((e) => e.message);
  } catch (err) {
    return [err instanceof Error ? err.message : String(err)];
  }
}
