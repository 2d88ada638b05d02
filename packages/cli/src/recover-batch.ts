// `vods recover --from FILE`: many VODs, one JSON line each, resumable through its output file.
import { appendFile, readFile, truncate } from "node:fs/promises";
import { setTimeout as sleep } from "node:timers/promises";
import { InputError, NotFound, parseStartTime, parseTarget, recover, type Recovered } from "@vod/recover";
import { UsageError } from "./errors.ts";
import { Progress, type ProgressOutput } from "./progress.ts";
import { readBatchRows, rowKey, type BatchRow } from "./recover-batch-input.ts";
import type { RecoverEnv } from "./recover-env.ts";
import { openArchive, recoverOptions } from "./recover-setup.ts";

export interface BatchArgs {
  file: string;
  out: string | undefined;
  tz: string | undefined;
  budget: number;
}

export interface BatchIo {
  note: (message: string) => void;
  progress?: ProgressOutput;
  now: () => number;
}

/** Runs every row not yet answered in `out`; resolves to the summary (with --out) or the JSON lines (without). */
export async function recoverBatch(args: BatchArgs, env: RecoverEnv, io: BatchIo): Promise<string> {
  const raw = await readFile(args.file, "utf8").catch((err: NodeJS.ErrnoException) => {
    throw new UsageError(`--from ${args.file}: ${err.code === "ENOENT" ? "no such file" : err.message}`);
  });
  const rows = readBatchRows(raw, args.file);
  const answered = args.out === undefined ? new Set<string>() : await answeredKeys(args.out);
  const todo = rows.filter((r) => !answered.has(rowKey(r.input)));
  const lines: string[] = [];
  const counts = { found: 0, notFound: 0, failed: 0 };
  const progress = new Progress(io.progress ?? { write: () => undefined }, {
    total: rows.length,
    doneAtStart: rows.length - todo.length,
  });
  const draw = (done: number, force = false) =>
    progress.update("VODs", done, [`found ${counts.found}`, `not found ${counts.notFound}`], force);
  draw(rows.length - todo.length, true);

  const budget = new BatchBudget(args.budget, env.RECOVER_WINDOW, io.note);
  const archive = await openArchive(env, io.note, "vods-recover");
  try {
    for (const [i, row] of todo.entries()) {
      const answer = await answerRow(
        row,
        args.tz,
        io.now,
        (extra) => recoverOptions(env, { db: archive.db, budget: extra, note: io.note, now: io.now }),
        budget,
        io.note,
      );
      if (answer === null) counts.failed++;
      else {
        if (answer.found) counts.found++;
        else counts.notFound++;
        const line = JSON.stringify(answer);
        if (args.out !== undefined) await appendFile(args.out, `${line}\n`);
        else lines.push(line);
      }
      draw(rows.length - todo.length + i + 1);
    }
  } finally {
    await archive.close();
    draw(rows.length - todo.length + todo.length, true);
    progress.end();
  }
  const skipped = rows.length - todo.length;
  const summary =
    `${rows.length} rows: ${counts.found} found, ${counts.notFound} not found` +
    (skipped ? `, ${skipped} answered in an earlier run` : "") +
    (counts.failed ? `, ${counts.failed} failed for a passing reason (run again to retry them)` : "") +
    (args.out !== undefined ? `; answers in ${args.out}` : "");
  if (args.out !== undefined) return summary;
  io.note(summary);
  return lines.join("\n");
}

type Answer = { row: number; input: BatchRow["input"]; found: boolean } & Record<string, unknown>;

/** One row's JSON line; null for a failure that another run may not meet (the row stays unanswered). */
async function answerRow(
  row: BatchRow,
  tz: string | undefined,
  now: () => number,
  options: (budget: number) => Parameters<typeof recover>[2],
  budget: BatchBudget,
  note: (m: string) => void,
): Promise<Answer | null> {
  const base = { row: row.line, input: row.input };
  let spent = 0;
  try {
    const target = parseTarget(row.link, { login: row.login, streamId: row.streamId });
    const time = row.time === undefined ? undefined : parseStartTime(row.time, tz, now());
    const r: Recovered = await recover(target, time, options(await budget.available()));
    spent = r.requests;
    const { source, login, streamId, startTime, url, cdnUrl, live, segments, requests } = r;
    return { ...base, found: true, source, login, streamId, startTime, url, cdnUrl, live, segments, requests };
  } catch (err) {
    if (err instanceof InputError) return { ...base, found: false, error: `bad row: ${err.message}` };
    if (err instanceof NotFound) {
      spent = err.tried.requests;
      return { ...base, found: false, error: err.message, sources: err.tried.sources, requests: err.tried.requests };
    }
    note(`line ${row.line}: ${(err as Error).message}; left unanswered`);
    return null;
  } finally {
    budget.spend(spent);
  }
}

/** The politeness budget across the batch: each row gets what the window has left, and waits when nothing is. */
class BatchBudget {
  #spent: { at: number; n: number }[] = [];
  constructor(
    private readonly budget: number,
    private readonly windowMs: number,
    private readonly note: (m: string) => void,
  ) {}

  spend(n: number): void {
    if (n > 0) this.#spent.push({ at: Date.now(), n });
  }

  async available(): Promise<number> {
    for (;;) {
      const since = Date.now() - this.windowMs;
      this.#spent = this.#spent.filter((s) => s.at > since);
      const left = this.budget - this.#spent.reduce((sum, s) => sum + s.n, 0);
      if (left > 0) return left;
      const waitMs = this.#spent[0]!.at - since;
      this.note(
        `politeness budget spent (${this.budget} requests per ${Math.round(this.windowMs / 1000)} s); waiting ${Math.ceil(waitMs / 1000)} s`,
      );
      await sleep(waitMs);
    }
  }
}

/** Keys of the rows an earlier run answered; a last line cut short by a kill is dropped. */
async function answeredKeys(out: string): Promise<Set<string>> {
  const text = await readFile(out, "utf8").catch(() => "");
  const end = text.lastIndexOf("\n") + 1;
  if (end < text.length) await truncate(out, Buffer.byteLength(text.slice(0, end)));
  const keys = new Set<string>();
  for (const line of text.slice(0, end).split("\n")) {
    if (line.trim() === "") continue;
    try {
      const { input } = JSON.parse(line) as { input?: BatchRow["input"] };
      if (input !== undefined) keys.add(rowKey(input));
    } catch {
      // Not one of ours: left alone, and its row asked again.
    }
  }
  return keys;
}
