// The work directory beside a download's output (`FILE.mp4.parts/`): its manifest says which VOD
// and quality the segments in it belong to, so a resumed run never mixes two downloads.
import { spawn } from "node:child_process";
import { mkdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import { basename, join } from "node:path";
import { CommandError } from "./errors.ts";

export interface Manifest {
  streamId: string;
  startTime: string;
  quality: string;
  /** The playlist the segments come from. */
  playlist: string;
  segments: number;
}

export const workDirOf = (out: string): string => `${out}.parts`;

/** Creates or reopens the work directory; refuses one that holds another VOD or quality. */
export async function openWorkDir(dir: string, manifest: Manifest): Promise<{ resumed: boolean }> {
  await mkdir(dir, { recursive: true });
  const path = join(dir, "manifest.json");
  const raw = await readFile(path, "utf8").catch(() => null);
  if (raw !== null) {
    let had: Partial<Manifest> = {};
    try {
      had = JSON.parse(raw) as Partial<Manifest>;
    } catch {
      // A manifest cut short by a kill: the segment files are still keyed by the same playlist.
    }
    const same = (["streamId", "startTime", "quality"] as const).every(
      (k) => had[k] === undefined || had[k] === manifest[k],
    );
    if (!same)
      throw new CommandError(
        `${dir} holds part of another download (stream ${had.streamId} started ${had.startTime}, ${had.quality}); remove it or choose another --out`,
      );
  }
  await writeFile(`${path}.part`, `${JSON.stringify(manifest, null, 2)}\n`);
  await rename(`${path}.part`, path);
  return { resumed: raw !== null };
}

export const removeWorkDir = (dir: string): Promise<void> => rm(dir, { recursive: true, force: true });

/**
 * Joins the segments into an MP4 without re-encoding. The concat demuxer (not byte concatenation)
 * lays each segment after the previous one, whatever MPEG-TS timestamps it carries; ADTS AAC needs
 * `aac_adtstoasc` to go into MP4; `+faststart` puts the index first so the file plays while it loads.
 * `trim` (seconds of the joined segments) cuts a range out of them.
 */
export async function remux(
  dir: string,
  files: readonly string[],
  out: string,
  ffmpeg: string,
  trim?: { skip: number; length: number },
): Promise<void> {
  const list = join(dir, "concat.txt");
  await writeFile(list, files.map((f) => `file '${basename(f)}'\n`).join(""));
  const partial = `${out}.part`;
  const args = ["-hide_banner", "-loglevel", "error", "-nostdin", "-y"];
  // A range cuts inside the first and last segments: without re-encoding, at the keyframe before `skip` (2 s apart on Twitch).
  if (trim) args.push("-ss", trim.skip.toFixed(3), "-t", trim.length.toFixed(3));
  args.push("-f", "concat", "-safe", "0", "-i", list);
  args.push("-map", "0", "-c", "copy", "-bsf:a", "aac_adtstoasc", "-movflags", "+faststart", "-f", "mp4", partial);
  const { code, stderr } = await new Promise<{ code: number | null; stderr: string }>((resolve, reject) => {
    const child = spawn(ffmpeg, args, { stdio: ["ignore", "ignore", "pipe"] });
    let stderr = "";
    child.stderr.setEncoding("utf8").on("data", (d: string) => (stderr = (stderr + d).slice(-4000)));
    child.once("error", (err: NodeJS.ErrnoException) =>
      reject(
        err.code === "ENOENT"
          ? new CommandError(
              `${ffmpeg} is not installed: run bash infra/ensure-deps.sh --media (Debian's ffmpeg); the segments are kept in ${dir}`,
            )
          : err,
      ),
    );
    child.once("close", (code) => resolve({ code, stderr }));
  });
  if (code !== 0) {
    await rm(partial, { force: true });
    throw new CommandError(
      `ffmpeg could not join the segments (exit ${code}): ${stderr.trim().split("\n").slice(-3).join(" / ")}; the segments are kept in ${dir}`,
    );
  }
  await rename(partial, out);
}
