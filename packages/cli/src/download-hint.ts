/**
 * The command the web page shows beside its mpv one, for the same playlist link:
 * `npm run vods -- download '<link>' --out '<name>.mp4'` (run from the repository).
 */
export function downloadCommandLine(link: string, name: string): string {
  const file = `${name.replace(/[^A-Za-z0-9._-]+/g, "_").replace(/\.mp4$/i, "") || "vod"}.mp4`;
  return `npm run vods -- download ${shellQuote(link)} --out ${shellQuote(file)}`;
}

/** Single quotes for a POSIX shell: nothing inside is expanded. */
const shellQuote = (s: string): string => (/^[A-Za-z0-9._/:=@%+-]+$/.test(s) ? s : `'${s.replaceAll("'", `'\\''`)}'`);
