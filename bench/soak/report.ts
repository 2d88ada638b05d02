/** The soak's goals, its Markdown report and the day drawn as an SVG chart. */
import type { HourRow, SoakResult } from "./run.ts";

export interface Goal {
  name: string;
  ok: boolean;
  detail: string;
}

/** The issue's goals; `fetchBenchPerVod` is bench:fetch's requests per VOD to compare with. */
export function goals(r: SoakResult, fetchBenchPerVod: number): Goal[] {
  const missedShare = r.onCdnWhenDue === 0 ? 0 : r.missed / r.onCdnWhenDue;
  return [
    {
      name: "missed ≤ 0.1% of VODs on the CDN when due",
      ok: missedShare <= 0.001,
      detail: `${r.missed} of ${r.onCdnWhenDue} (${(missedShare * 100).toFixed(2)}%)`,
    },
    { name: "0 archived early", ok: r.early === 0, detail: String(r.early) },
    { name: "0 truncated", ok: r.truncated === 0, detail: String(r.truncated) },
    { name: "0 duplicates", ok: r.duplicates === 0, detail: String(r.duplicates) },
    {
      name: "p99 release → archived ≤ 10 simulated min outside faults",
      ok: r.latencyP99Min <= 10,
      detail: `p50 ${r.latencyP50Min}, p99 ${r.latencyP99Min} min`,
    },
    {
      name: "every backlog drained within one simulated hour of its fault",
      ok: r.maxDrainMin <= 60,
      detail: `longest ${r.maxDrainMin} min`,
    },
    // Evenly spaced requests at 1.8 a second still put 2 in some one-second windows.
    {
      name: "busiest second ≤ the scaled limit (rounded up)",
      ok: r.busiestSecond <= Math.ceil(r.limitPerSecond),
      detail: `${r.busiestSecond} against ${r.limitPerSecond}`,
    },
    {
      name: "requests per VOD within 10% of bench:fetch",
      ok: r.requestsPerVod <= fetchBenchPerVod * 1.1,
      detail: `${r.requestsPerVod} against ${fetchBenchPerVod}`,
    },
  ];
}

const esc = (s: string) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;");

/** VODs ended and archived per hour (bars), the fetch backlog and p99 latency (lines), fault windows shaded. */
export function chart(r: SoakResult, t0: number): string {
  const W = 900;
  const H = 360;
  const pad = { l: 50, r: 60, t: 30, b: 40 };
  const hours = r.hours;
  const n = Math.max(1, hours.length);
  const x = (h: number) => pad.l + ((W - pad.l - pad.r) * h) / n;
  const maxCount = Math.max(1, ...hours.map((h) => Math.max(h.ended, h.archived)));
  const y = (v: number) => H - pad.b - ((H - pad.t - pad.b) * v) / maxCount;
  const maxRight = Math.max(1, ...hours.map((h) => h.latencyP99Min), ...hours.map((h) => h.backlogMax / 10));
  const yr = (v: number) => H - pad.b - ((H - pad.t - pad.b) * v) / maxRight;
  const bw = (W - pad.l - pad.r) / n / 2.5;
  const parts: string[] = [];
  parts.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" font-family="sans-serif" font-size="11">`,
  );
  parts.push(`<rect width="${W}" height="${H}" fill="white"/>`);
  for (const f of r.faults) {
    const a = x((f.from - t0) / 3_600_000);
    const b = Math.max(a + 2, x((f.until - t0) / 3_600_000));
    parts.push(
      `<rect x="${a.toFixed(1)}" y="${pad.t}" width="${(b - a).toFixed(1)}" height="${H - pad.t - pad.b}" fill="#f4c7c3" opacity="0.6"><title>${esc(f.name)}</title></rect>`,
    );
  }
  hours.forEach((h: HourRow) => {
    parts.push(
      `<rect x="${(x(h.hour) + 2).toFixed(1)}" y="${y(h.ended).toFixed(1)}" width="${bw.toFixed(1)}" height="${(H - pad.b - y(h.ended)).toFixed(1)}" fill="#9fb7d8"/>`,
    );
    parts.push(
      `<rect x="${(x(h.hour) + 2 + bw).toFixed(1)}" y="${y(h.archived).toFixed(1)}" width="${bw.toFixed(1)}" height="${(H - pad.b - y(h.archived)).toFixed(1)}" fill="#3b6db3"/>`,
    );
  });
  const line = (values: number[], scale: (v: number) => number, color: string) =>
    `<polyline fill="none" stroke="${color}" stroke-width="2" points="${values.map((v, i) => `${(x(i) + bw * 1.2).toFixed(1)},${scale(v).toFixed(1)}`).join(" ")}"/>`;
  parts.push(
    line(
      hours.map((h) => h.latencyP99Min),
      yr,
      "#d9822b",
    ),
  );
  parts.push(
    line(
      hours.map((h) => h.backlogMax / 10),
      yr,
      "#7a4fa3",
    ),
  );
  parts.push(`<line x1="${pad.l}" y1="${H - pad.b}" x2="${W - pad.r}" y2="${H - pad.b}" stroke="#333"/>`);
  for (let h = 0; h <= n; h += Math.max(1, Math.round(n / 12)))
    parts.push(`<text x="${x(h).toFixed(1)}" y="${H - pad.b + 15}" text-anchor="middle">${h} h</text>`);
  parts.push(
    `<text x="${pad.l - 5}" y="${pad.t - 8}" text-anchor="start">VODs per simulated hour (max ${maxCount})</text>`,
  );
  parts.push(
    `<text x="${W - pad.r}" y="${pad.t - 8}" text-anchor="end">right scale: minutes / backlog ÷ 10 (max ${maxRight.toFixed(0)})</text>`,
  );
  const legend = [
    ["#9fb7d8", "ended (reached 10 viewers)"],
    ["#3b6db3", "archived"],
    ["#d9822b", "p99 release → archived (min)"],
    ["#7a4fa3", "fetch backlog ÷ 10"],
    ["#f4c7c3", "fault window"],
  ];
  let lx = pad.l;
  for (const [color, label] of legend) {
    parts.push(
      `<rect x="${lx}" y="${H - 14}" width="10" height="10" fill="${color}"/><text x="${lx + 14}" y="${H - 5}">${label}</text>`,
    );
    // About 6 px a character at 11 px.
    lx += 14 + (label ?? "").length * 6 + 18;
  }
  parts.push(`</svg>`);
  return parts.join("\n");
}

export function markdown(r: SoakResult, checks: Goal[], command: string, svgFile: string): string {
  const lines: string[] = [];
  lines.push(`# Soak: a day of Twitch, end to end`, "");
  lines.push("```", command, "```", "");
  lines.push(
    `Scale ${r.scale} (${Math.round(100_000 * r.scale)} live streams), ${r.simHours} simulated hours measured after ${r.learnHours} learned in fast-forward (every VOD fetched at its release by the fetcher's own code on no budget, so the fetchers start with what a running deployment knows of its streamers) and ${r.warmupHours} of warm-up (no faults, not judged), ${r.instances} instance(s) of each service, ${r.realMinutes} real minutes in all.`,
    "",
  );
  lines.push(`![the day](${svgFile})`, "");
  lines.push(`| goal | result | |`, `|---|---|---|`);
  for (const g of checks) lines.push(`| ${g.name} | ${g.detail} | ${g.ok ? "met" : "**not met**"} |`);
  lines.push("", "| figure | value |", "|---|---|");
  const rows: [string, string | number][] = [
    ["VODs that reached 10 viewers, due in the run", r.vods],
    ["on the CDN when due", r.onCdnWhenDue],
    ["archived", r.archived],
    [
      "missed",
      `${r.missed} (${
        Object.entries(r.missedBy)
          .map(([k, v]) => `${k}: ${v}`)
          .join(", ") || "none"
      })`,
    ],
    ["early / truncated / duplicates", `${r.early} / ${r.truncated} / ${r.duplicates}`],
    ["release → archived, outside faults (p50 / p99, simulated min)", `${r.latencyP50Min} / ${r.latencyP99Min}`],
    ["release → archived, in fault windows (p50 / p99)", `${r.latencyInFaultsP50Min} / ${r.latencyInFaultsP99Min}`],
    ["CDN requests per VOD", r.requestsPerVod],
    [
      "busiest second / limit (counted on the way to the CDN, by the meter)",
      `${r.busiestSecond} / ${r.limitPerSecond}; busiest 900 ms ${r.busiestIn900ms}; the meter's longest stall ${r.meterStallMaxMs} ms`,
    ],
    ["CDN requests a second (real), on average", `${r.requestsPerSecond}`],
    [
      "busiest second as the simulator counted it; its longest stall",
      `${r.busiestSecondAtSimulator}; ${r.simStallMaxMs} ms (arrivals during a stall are counted together when it ends)`,
    ],
    ["GraphQL POSTs per simulated minute", r.gqlPostsPerMinute],
    [
      "longest consumer lag per group",
      Object.entries(r.maxLag)
        .map(([g, n]) => `${g} ${n}`)
        .join(", "),
    ],
    [
      "peak RSS per service (MB)",
      Object.entries(r.rssMb)
        .map(([g, n]) => `${g} ${n}`)
        .join(", "),
    ],
    [
      "restarts",
      Object.entries(r.restarts)
        .filter(([, n]) => n > 0)
        .map(([g, n]) => `${g} ${n}`)
        .join(", ") || "none",
    ],
  ];
  for (const [k, v] of rows) lines.push(`| ${k} | ${v} |`);
  lines.push(
    "",
    "Backlogs after faults (simulated minutes from the end of the fault until the group was back to its usual lag at that minute of the hour, the median of the hours without a fault, within a twentieth and 20 messages):",
    "",
  );
  lines.push("| fault | group | drained in |", "|---|---|---|");
  for (const d of r.drains) lines.push(`| ${d.fault} | ${d.group} | ${d.simMinutes} min |`);
  if (r.drains.length === 0) lines.push("| – | – | no backlog above its level before |");
  const examples = Object.entries(r.examples).filter(([, keys]) => keys.length > 0);
  if (examples.length > 0) {
    lines.push("", "Examples (stream id @ start time), to look into:", "");
    for (const [kind, keys] of examples) lines.push(`- ${kind}: ${keys.map((k) => `\`${k}\``).join(", ")}`);
  }
  lines.push("", "| hour | ended | archived | fetch backlog max | p50 / p99 min |", "|---|---|---|---|---|");
  for (const h of r.hours)
    lines.push(
      `| ${h.hour} | ${h.ended} | ${h.archived} | ${h.backlogMax} | ${h.latencyP50Min} / ${h.latencyP99Min} |`,
    );
  return `${lines.join("\n")}\n`;
}
