/**
 * The settings table of each service's README, generated from its env schema (services/<name>/src/env.ts).
 *
 *   npm run docs:env             writes the tables between <!-- env:start --> and <!-- env:end -->
 *   npm run docs:env -- --check  exits 1, naming the READMEs whose table differs from the schema
 *
 * The schema is read as source with the TypeScript compiler API, not run: a property's meaning is its
 * JSDoc comment, its default the literal in the expression (`.default(x)`, or the fallback argument of
 * @vod/config's `duration`, `list`, `bool`, `port`, `pattern`). Spreads (`...clockEnv`) and identifiers are followed
 * through imports to the object or literal they name.
 */
import { existsSync, readFileSync, readdirSync, realpathSync, writeFileSync } from "node:fs";
import { dirname, join, relative, resolve, sep } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import * as prettier from "prettier";
import ts from "typescript";

export const START = "<!-- env:start -->";
export const END = "<!-- env:end -->";

export interface Setting {
  variable: string;
  default: string;
  meaning: string;
}

interface Module {
  file: string;
  sf: ts.SourceFile;
}

export interface ReadOptions {
  /** Repository root: where `node_modules` resolves bare imports, and what link targets are relative to. */
  root: string;
  /** The README's directory (relative to `root`), for links to constants defined in other files. */
  linkFrom?: string;
  /** Reads a file the schema imports; undefined when it does not exist. */
  readSource?: (file: string) => string | undefined;
}

/** @vod/config's field helpers: their first argument is the default. */
const FALLBACK_HELPERS = new Set(["duration", "list", "bool", "port", "pattern"]);

/**
 * Meanings for names that say it all and carry no comment in the schemas, in the words the top-level
 * README uses for them. Anything else without a comment is left empty rather than guessed.
 */
const OBVIOUS: Record<string, string> = {
  KAFKA_BROKERS: "Kafka brokers to connect to, comma-separated.",
  TOPIC_PREFIX: "Prefix of every topic's name (namespaces the topics).",
  DATABASE_URL: "PostgreSQL connection URL.",
  GROUP_ID: "Kafka consumer group.",
  OPS_PORT: "Port of `/healthz` and `/metrics`.",
  PORT: "Port of the API (and the web page).",
  CLOCK_SPEED: "Clock milliseconds per real millisecond (1: real time).",
};

const defaultRead = (file: string): string | undefined => (existsSync(file) ? readFileSync(file, "utf8") : undefined);

/** The settings of the `z.object({...})` schema in `text` (the one assigned to `schema`, else the first). */
export function settingsFromSource(text: string, file: string, options: ReadOptions): Setting[] {
  const mod: Module = { file: resolve(file), sf: ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true) };
  const reader = new SchemaReader(options);
  const object = reader.schemaObject(mod);
  if (!object) throw new Error(`${file}: no z.object({...}) schema found`);
  return reader.settingsOf(object, mod);
}

export function settingsOf(file: string, options: ReadOptions): Setting[] {
  return settingsFromSource(readFileSync(file, "utf8"), file, options);
}

class SchemaReader {
  private readonly modules = new Map<string, Module | undefined>();
  private readonly read: (file: string) => string | undefined;

  constructor(private readonly options: ReadOptions) {
    this.read = options.readSource ?? defaultRead;
  }

  schemaObject(mod: Module): ts.ObjectLiteralExpression | undefined {
    let named: ts.Expression | undefined;
    const visitTop = (node: ts.Node): void => {
      if (ts.isVariableDeclaration(node) && ts.isIdentifier(node.name) && node.name.text === "schema") {
        named ??= node.initializer;
      }
      ts.forEachChild(node, visitTop);
    };
    visitTop(mod.sf);
    return findZObject(named ?? mod.sf);
  }

  settingsOf(object: ts.ObjectLiteralExpression, mod: Module): Setting[] {
    const rows: Setting[] = [];
    let lastComment = { variable: "", text: "" };
    for (const prop of object.properties) {
      if (ts.isSpreadAssignment(prop)) {
        const target = this.resolveExpression(prop.expression, mod);
        const object = target && unwrap(target.node);
        if (target && object && ts.isObjectLiteralExpression(object)) {
          rows.push(...this.settingsOf(object, target.mod));
        } else {
          const name = prop.expression.getText(mod.sf);
          const from = this.importOf(name, mod);
          rows.push({
            variable: `\`...${name}\``,
            default: "",
            meaning: from ? `The settings of \`${name}\` in \`${from}\`.` : `The settings of \`${name}\`.`,
          });
        }
        lastComment = { variable: "", text: "" };
        continue;
      }
      let name: string;
      let value: ts.Expression;
      if (ts.isPropertyAssignment(prop) && (ts.isIdentifier(prop.name) || ts.isStringLiteral(prop.name))) {
        name = prop.name.text;
        value = prop.initializer;
      } else if (ts.isShorthandPropertyAssignment(prop)) {
        name = prop.name.text;
        value = prop.name;
      } else {
        continue;
      }
      const comment = jsDocText(prop);
      let meaning = comment;
      if (comment) lastComment = { variable: name, text: comment };
      else if (lastComment.text && new RegExp(`\\b${name}\\b`).test(lastComment.text)) {
        meaning = `See \`${lastComment.variable}\`.`;
      } else {
        meaning = enumMeaning(value, mod) ?? OBVIOUS[name] ?? "";
      }
      rows.push({ variable: `\`${name}\``, default: this.defaultOf(value, mod), meaning: cell(meaning) });
    }
    return rows;
  }

  /** The default of a field expression, as shown in the table. */
  defaultOf(expr: ts.Expression, mod: Module): string {
    let optional = false;
    let node: ts.Expression = unwrap(expr);
    if (ts.isIdentifier(node)) {
      const target = this.resolveExpression(node, mod);
      if (target) return this.defaultOf(target.node, target.mod);
    }
    while (ts.isCallExpression(node)) {
      const callee = node.expression;
      const arg = node.arguments[0];
      if (ts.isPropertyAccessExpression(callee)) {
        const method = callee.name.text;
        if (method === "default" && arg) return this.show(arg, mod);
        if (method === "optional" || method === "nullish") optional = true;
        node = callee.expression;
      } else if (ts.isIdentifier(callee) && FALLBACK_HELPERS.has(callee.text) && arg) {
        return this.show(arg, mod);
      } else {
        break;
      }
    }
    return optional ? "unset" : "required";
  }

  /** A default value as a table cell: code for values, a name and a link for long lists. */
  private show(expr: ts.Expression, mod: Module): string {
    const value = this.evaluate(expr, mod);
    if (value === undefined) return code(expr.getText(mod.sf).replace(/\s+/g, " "));
    if (typeof value === "string") return value === "" ? "empty" : code(value);
    if (typeof value === "boolean") return code(String(value));
    if (typeof value === "number") {
      const bytes = ts.isBinaryExpression(unwrap(expr)) ? byteSize(value) : "";
      return code(String(value)) + (bytes ? ` (${bytes})` : "");
    }
    if (value.length === 0) return "empty";
    const joined = value.join(",");
    if (joined.length <= 60) return code(joined);
    const target = ts.isIdentifier(unwrap(expr)) ? this.resolveExpression(unwrap(expr), mod) : undefined;
    if (!target) return `${value.length} values`;
    const name = unwrap(expr).getText(mod.sf);
    const file = relative(this.options.root, target.mod.file).split(sep).join("/");
    const link = relative(this.options.linkFrom ?? ".", file)
      .split(sep)
      .join("/");
    return `the ${value.length} of ${code(name)} in [${file}](${link})`;
  }

  private evaluate(expr: ts.Expression, mod: Module): string | number | boolean | string[] | undefined {
    const node = unwrap(expr);
    if (ts.isStringLiteral(node) || ts.isNoSubstitutionTemplateLiteral(node)) return node.text;
    if (ts.isNumericLiteral(node)) return Number(node.text.replace(/_/g, ""));
    if (node.kind === ts.SyntaxKind.TrueKeyword) return true;
    if (node.kind === ts.SyntaxKind.FalseKeyword) return false;
    if (
      ts.isTaggedTemplateExpression(node) &&
      node.tag.getText(mod.sf) === "String.raw" &&
      ts.isNoSubstitutionTemplateLiteral(node.template)
    ) {
      return node.template.rawText ?? node.template.text;
    }
    if (ts.isPrefixUnaryExpression(node) && node.operator === ts.SyntaxKind.MinusToken) {
      const v = this.evaluate(node.operand, mod);
      return typeof v === "number" ? -v : undefined;
    }
    if (ts.isBinaryExpression(node)) {
      const a = this.evaluate(node.left, mod);
      const b = this.evaluate(node.right, mod);
      if (typeof a !== "number" || typeof b !== "number") return undefined;
      switch (node.operatorToken.kind) {
        case ts.SyntaxKind.AsteriskToken:
          return a * b;
        case ts.SyntaxKind.PlusToken:
          return a + b;
        case ts.SyntaxKind.MinusToken:
          return a - b;
        case ts.SyntaxKind.SlashToken:
          return a / b;
        default:
          return undefined;
      }
    }
    if (ts.isArrayLiteralExpression(node)) {
      const items = node.elements.map((e) => this.evaluate(e, mod));
      return items.every((i): i is string => typeof i === "string") ? items : undefined;
    }
    if (ts.isIdentifier(node)) {
      const target = this.resolveExpression(node, mod);
      return target ? this.evaluate(target.node, target.mod) : undefined;
    }
    return undefined;
  }

  /** What an identifier names: a const of this module, or one it imports (re-exports followed). */
  resolveExpression(expr: ts.Expression, mod: Module, depth = 0): { node: ts.Expression; mod: Module } | undefined {
    const node = unwrap(expr);
    if (!ts.isIdentifier(node) || depth > 8) return undefined;
    return this.findBinding(node.text, mod, depth);
  }

  private findBinding(name: string, mod: Module, depth: number): { node: ts.Expression; mod: Module } | undefined {
    for (const statement of mod.sf.statements) {
      if (ts.isVariableStatement(statement)) {
        for (const decl of statement.declarationList.declarations) {
          if (ts.isIdentifier(decl.name) && decl.name.text === name && decl.initializer) {
            return { node: decl.initializer, mod };
          }
        }
      }
      if (ts.isImportDeclaration(statement) && ts.isStringLiteral(statement.moduleSpecifier)) {
        const bindings = statement.importClause?.namedBindings;
        if (!bindings || !ts.isNamedImports(bindings)) continue;
        for (const spec of bindings.elements) {
          if (spec.name.text !== name) continue;
          const target = this.module(statement.moduleSpecifier.text, mod);
          return target && this.findExport((spec.propertyName ?? spec.name).text, target, depth + 1);
        }
      }
    }
    return undefined;
  }

  private findExport(name: string, mod: Module, depth: number): { node: ts.Expression; mod: Module } | undefined {
    if (depth > 8) return undefined;
    for (const statement of mod.sf.statements) {
      if (ts.isExportDeclaration(statement) && statement.exportClause && ts.isNamedExports(statement.exportClause)) {
        for (const spec of statement.exportClause.elements) {
          if (spec.name.text !== name) continue;
          const local = (spec.propertyName ?? spec.name).text;
          if (statement.moduleSpecifier && ts.isStringLiteral(statement.moduleSpecifier)) {
            const target = this.module(statement.moduleSpecifier.text, mod);
            return target && this.findExport(local, target, depth + 1);
          }
          return this.findBinding(local, mod, depth + 1);
        }
      }
    }
    return this.findBinding(name, mod, depth + 1);
  }

  /** The module an import specifier names, when it is a file of this repository. */
  private module(specifier: string, from: Module): Module | undefined {
    let file: string | undefined;
    if (specifier.startsWith(".")) {
      file = resolve(dirname(from.file), specifier);
    } else {
      const pkgDir = join(this.options.root, "node_modules", specifier);
      const pkgText = this.read(join(pkgDir, "package.json"));
      if (pkgText === undefined) return undefined;
      const pkg = JSON.parse(pkgText) as { exports?: unknown; main?: string };
      const entry = typeof pkg.exports === "string" ? pkg.exports : (pkg.exports as Record<string, unknown>)?.["."];
      const target = typeof entry === "string" ? entry : pkg.main;
      if (!target) return undefined;
      const real = existsSync(pkgDir) ? realpathSync(pkgDir) : pkgDir;
      if (real.split(sep).includes("node_modules")) return undefined;
      file = join(real, target);
    }
    if (this.modules.has(file)) return this.modules.get(file);
    const text = this.read(file);
    const mod =
      text === undefined ? undefined : { file, sf: ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true) };
    this.modules.set(file, mod);
    return mod;
  }

  /** The specifier a name is imported from, for a spread that cannot be followed. */
  importOf(name: string, mod: Module): string | undefined {
    for (const statement of mod.sf.statements) {
      if (!ts.isImportDeclaration(statement) || !ts.isStringLiteral(statement.moduleSpecifier)) continue;
      const bindings = statement.importClause?.namedBindings;
      if (bindings && ts.isNamedImports(bindings) && bindings.elements.some((e) => e.name.text === name)) {
        return statement.moduleSpecifier.text;
      }
    }
    return undefined;
  }
}

function findZObject(root: ts.Node): ts.ObjectLiteralExpression | undefined {
  let found: ts.ObjectLiteralExpression | undefined;
  const visit = (node: ts.Node): void => {
    if (found) return;
    if (
      ts.isCallExpression(node) &&
      ts.isPropertyAccessExpression(node.expression) &&
      node.expression.name.text === "object" &&
      ts.isIdentifier(node.expression.expression) &&
      node.expression.expression.text === "z" &&
      node.arguments[0] &&
      ts.isObjectLiteralExpression(node.arguments[0])
    ) {
      found = node.arguments[0];
      return;
    }
    ts.forEachChild(node, visit);
  };
  visit(root);
  return found;
}

function unwrap(expr: ts.Expression): ts.Expression {
  let node = expr;
  while (ts.isParenthesizedExpression(node) || ts.isAsExpression(node) || ts.isSatisfiesExpression(node)) {
    node = node.expression;
  }
  return node;
}

/** The last JSDoc comment of a node, as one line. */
function jsDocText(node: ts.Node): string {
  const docs = ts.getJSDocCommentsAndTags(node).filter(ts.isJSDoc);
  const last = docs[docs.length - 1];
  const text = last ? (ts.getTextOfJSDocComment(last.comment) ?? "") : "";
  return text.replace(/\s+/g, " ").trim();
}

/** "One of `a`, `b`." for an undocumented z.enum([...]). */
function enumMeaning(expr: ts.Expression, mod: Module): string | undefined {
  let node = unwrap(expr);
  while (ts.isCallExpression(node)) {
    const callee = node.expression;
    if (
      ts.isPropertyAccessExpression(callee) &&
      callee.name.text === "enum" &&
      callee.expression.getText(mod.sf) === "z"
    ) {
      const values = node.arguments[0];
      if (!values || !ts.isArrayLiteralExpression(values)) return undefined;
      const names = values.elements.filter(ts.isStringLiteral).map((e) => `\`${e.text}\``);
      return `One of ${names.join(", ")}.`;
    }
    if (!ts.isPropertyAccessExpression(callee)) return undefined;
    node = callee.expression;
  }
  return undefined;
}

function byteSize(n: number): string {
  if (n >= 1024 * 1024 && n % (1024 * 1024) === 0) return `${n / (1024 * 1024)} MiB`;
  if (n >= 1024 && n % 1024 === 0) return `${n / 1024} KiB`;
  return "";
}

/** A code span (pipes escaped for a table cell; backticks in the value get a longer fence). */
function code(text: string): string {
  const fence = text.includes("`") ? "``" : "`";
  const pad = text.includes("`") ? " " : "";
  return `${fence}${pad}${text.replace(/\|/g, "\\|")}${pad}${fence}`;
}

function cell(text: string): string {
  return text.replace(/\|/g, "\\|");
}

export function settingsTable(settings: Setting[]): string {
  const lines = ["| Variable | Default | Meaning |", "| --- | --- | --- |"];
  for (const s of settings) lines.push(`| ${s.variable} | ${s.default} | ${s.meaning} |`);
  return lines.join("\n");
}

/** The generated part between the markers, formatted as `prettier --write` would leave it. */
export async function settingsSection(settings: Setting[], readmePath: string): Promise<string> {
  const text = [
    "Generated from the schema in `src/env.ts` (and what it imports) by `npm run docs:env`:",
    "edit the comments there, not this table. Durations are written `500ms`, `30s`, `15m`, `1h`, `14d`",
    "or as a number of milliseconds.",
    "",
    settingsTable(settings),
  ].join("\n");
  const config = (await prettier.resolveConfig(readmePath)) ?? {};
  return (await prettier.format(text, { ...config, filepath: readmePath, parser: "markdown" })).trimEnd();
}

/** `readme` with the section between the markers replaced; a `## Settings` section is added when missing. */
export function withSection(readme: string | undefined, service: string, section: string): string {
  const block = `${START}\n\n${section}\n\n${END}`;
  if (readme === undefined) return `# ${service}\n\n## Settings\n\n${block}\n`;
  const start = readme.indexOf(START);
  const end = readme.indexOf(END);
  if (start >= 0 && end > start) return readme.slice(0, start) + block + readme.slice(end + END.length);
  return `${readme.trimEnd()}\n\n## Settings\n\n${block}\n`;
}

export interface ReadmeUpdate {
  service: string;
  /** Relative to the root. */
  path: string;
  current: string | undefined;
  next: string;
}

export function servicesWithEnv(root: string): string[] {
  const services = join(root, "services");
  return readdirSync(services)
    .filter((name) => existsSync(join(services, name, "src", "env.ts")))
    .sort();
}

export async function generate(root: string): Promise<ReadmeUpdate[]> {
  const updates: ReadmeUpdate[] = [];
  for (const service of servicesWithEnv(root)) {
    const dir = join("services", service);
    const path = join(dir, "README.md");
    const settings = settingsOf(join(root, dir, "src", "env.ts"), { root, linkFrom: dir });
    const section = await settingsSection(settings, join(root, path));
    const current = defaultRead(join(root, path));
    updates.push({ service, path, current, next: withSection(current, service, section) });
  }
  return updates;
}

export async function main(argv: string[], root: string): Promise<number> {
  const check = argv.includes("--check");
  const updates = await generate(root);
  const stale = updates.filter((u) => u.current !== u.next);
  if (check) {
    if (stale.length === 0) return 0;
    console.error(
      `Settings tables out of date with src/env.ts: ${stale.map((u) => u.path).join(", ")}. Run \`npm run docs:env\`.`,
    );
    return 1;
  }
  for (const u of stale) writeFileSync(join(root, u.path), u.next);
  console.log(stale.length ? `Wrote ${stale.map((u) => u.path).join(", ")}.` : "Every settings table is up to date.");
  return 0;
}

const here = fileURLToPath(import.meta.url);
if (process.argv[1] && pathToFileURL(resolve(process.argv[1])).href === pathToFileURL(here).href) {
  void main(process.argv.slice(2), resolve(dirname(here), "..")).then((code) => (process.exitCode = code));
}
