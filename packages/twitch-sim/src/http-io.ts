import type { IncomingMessage, ServerResponse } from "node:http";

/** Writes a whole response with its content-length; `head` leaves the body out, as a HEAD answer must. */
export function send(
  res: ServerResponse,
  status: number,
  headers: Record<string, string>,
  body: string | Buffer,
  head: boolean,
) {
  const bytes = typeof body === "string" ? Buffer.from(body) : body;
  res.writeHead(status, { ...headers, "content-length": String(bytes.length) });
  res.end(head ? undefined : bytes);
}

export function sendJson(res: ServerResponse, status: number, value: unknown) {
  send(res, status, { "content-type": "application/json" }, JSON.stringify(value), false);
}

export function sendText(res: ServerResponse, status: number, text: string) {
  send(res, status, { "content-type": "text/plain" }, text, false);
}

export async function readBody(req: IncomingMessage, limit = 1 << 20): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) throw new Error("request body too large");
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString("utf8");
}
