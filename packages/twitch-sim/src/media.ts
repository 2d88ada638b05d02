import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

/**
 * A real 10-second segment (the simulator's segment length): H.264 320x180 at 15 fps, a test pattern
 * with the second counted on screen, and a 440 Hz tone in AAC, in MPEG-TS (138 KB). Every segment of
 * every VOD is this one, so an archived playlist plays in mpv, VLC, ffmpeg and the page. Made once by
 * Debian's ffmpeg 5.1:
 *   ffmpeg -f lavfi -i testsrc=size=320x180:rate=15 -f lavfi -i sine=frequency=440:sample_rate=44100 -t 10
 *     -c:v libx264 -preset veryslow -crf 32 -profile:v baseline -pix_fmt yuv420p -g 30 -c:a aac -b:a 32k
 *     -f mpegts segment-10s.mpegts
 */
export const PLAYABLE_SEGMENT_PATH = fileURLToPath(new URL("../media/segment-10s.mpegts", import.meta.url));

/** `--segment`: `playable` (the bundled real segment), `packet` (one 188-byte MPEG-TS packet: benchmarks about requests), or a file. */
export function segmentBody(choice: string): Buffer | undefined {
  if (choice === "packet") return undefined;
  return readFileSync(choice === "playable" ? PLAYABLE_SEGMENT_PATH : choice);
}
