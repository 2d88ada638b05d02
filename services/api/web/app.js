// The archive page: lists VODs from /v1/vods, plays one in the page with hls.js, copies a player command.
/* global document, window, location, history, EventSource */
"use strict";
(() => {
  const $ = (id) => document.getElementById(id);
  const form = $("filters");
  const tbody = document.querySelector("#vods tbody");
  const status = $("status");
  const more = $("more");
  const video = $("player");
  let next = null;
  let hls = null;

  const params = () => {
    const q = new URLSearchParams({ outcome: "found", limit: "50" });
    for (const name of ["login", "gameId", "language", "visibility"]) {
      const v = form.elements[name].value.trim();
      if (v) q.set(name, v);
    }
    return q;
  };
  const duration = (s) =>
    s == null
      ? ""
      : `${Math.floor(s / 3600)}:${String(Math.floor((s % 3600) / 60)).padStart(2, "0")}:${String(Math.floor(s % 60)).padStart(2, "0")}`;
  const percent = (x) => (x == null ? "" : `${Math.round(x * 100)}%`);
  const cell = (text, cls) => {
    const td = document.createElement("td");
    td.textContent = text;
    if (cls) td.className = cls;
    return td;
  };
  const absolute = (path) => new URL(path, location.origin).href;
  // The shell command `vods download` takes (single quotes, so nothing in the URL is expanded).
  const quote = (s) => `'${String(s).replaceAll("'", "'\\''")}'`;
  const downloadCommand = (url, name) =>
    `npm run vods -- download ${quote(url)} --out ${quote(`${name.replace(/[^A-Za-z0-9_.-]+/g, "-")}.mp4`)}`;
  const ago = (iso) => {
    const minutes = Math.max(0, Math.round((Date.now() - Date.parse(iso)) / 60_000));
    if (minutes < 60) return minutes <= 1 ? "just now" : `${minutes} min ago`;
    const hours = Math.round(minutes / 60);
    return hours < 48 ? `${hours} h ago` : `${Math.round(hours / 24)} days ago`;
  };
  /** The last check of a VOD's segments, in words. */
  const playableText = (p) =>
    p == null
      ? "not checked yet"
      : `${{ playable: "playable", partial: "some segments gone", gone: "segments gone" }[p.state] ?? p.state} (checked ${ago(p.checkedAt)})`;
  const copyTo = async (command, where) => {
    try {
      await navigator.clipboard.writeText(command);
      where.textContent = `Copied: ${command}`;
    } catch {
      where.textContent = command;
    }
  };

  function row(v) {
    const tr = document.createElement("tr");
    tr.append(
      cell(v.startTime.replace("T", " ").replace(/(\.\d+)?Z$/, "")),
      cell(v.login),
      cell(v.title ?? "", "title"),
      cell(v.gameName ?? ""),
      cell(v.language ?? ""),
      cell(duration(v.durationSeconds), "num"),
      cell(v.maxViewers.toLocaleString("en"), "num"),
      cell(percent(v.mutedShare), "num"),
      cell(v.visibility.replace("_", "-")),
      cell(playableText(v.playable), `plays ${v.playable?.state ?? "unchecked"}`),
    );
    const td = document.createElement("td");
    const play = document.createElement("button");
    play.type = "button";
    play.textContent = "Play";
    play.setAttribute("aria-label", `Play ${v.login}, ${v.startTime}`);
    play.addEventListener("click", () => playVod(v));
    const copy = document.createElement("button");
    copy.type = "button";
    copy.textContent = "Copy mpv";
    copy.setAttribute("aria-label", `Copy an mpv command for ${v.login}, ${v.startTime}`);
    copy.addEventListener("click", async () => {
      const command = `mpv "${absolute(v.playlist)}"`;
      try {
        await navigator.clipboard.writeText(command);
        status.textContent = `Copied: ${command} (VLC opens the same URL)`;
      } catch {
        status.textContent = command;
      }
    });
    const download = document.createElement("button");
    download.type = "button";
    download.textContent = "Copy download";
    download.setAttribute("aria-label", `Copy a download command for ${v.login}, ${v.startTime}`);
    download.addEventListener("click", () =>
      copyTo(downloadCommand(absolute(v.playlist), `${v.login}-${v.startTime.slice(0, 10)}`), status),
    );
    td.append(play, " ", copy, " ", download);
    tr.append(td);
    return tr;
  }

  async function load(append) {
    const q = params();
    if (append && next) q.set("cursor", next);
    status.textContent = "Loading…";
    try {
      const res = await fetch(`/v1/vods?${q}`);
      const body = await res.json();
      if (!res.ok) {
        status.textContent = body.message || `HTTP ${res.status}`;
        return;
      }
      if (!append) tbody.replaceChildren();
      tbody.append(...body.items.map(row));
      next = body.next;
      more.hidden = !next;
      const shown = tbody.children.length;
      status.textContent = shown === 0 ? "No archived VODs match." : `${shown} VOD${shown === 1 ? "" : "s"} shown.`;
    } catch (err) {
      status.textContent = `Could not load: ${err.message}`;
    }
  }

  function playVod(v) {
    playUrl(absolute(v.playlist), `${v.login} — ${v.title ?? ""} (${v.startTime})`);
    void showPlayable(v);
  }

  /** Opening the VOD asked for a check of its segments when the last is a day old: show the answer as it comes. */
  async function showPlayable(v) {
    const where = $("now-playable");
    // Another VOD opened meanwhile ends this one's wait.
    const opened = $("now-playing").dataset.opened;
    where.textContent = `Segments: ${playableText(v.playable)}`;
    const fresh = (p) => p && Date.now() - Date.parse(p.checkedAt) < 86_400_000;
    for (let i = 0; i < 10 && !fresh(v.playable); i++) {
      await new Promise((r) => setTimeout(r, 2_000));
      if ($("now-playing").dataset.opened !== opened) return;
      try {
        const res = await fetch(`/v1/vods/${v.streamId}/${encodeURIComponent(v.startTime)}`);
        if (!res.ok) return;
        v = await res.json();
      } catch {
        return;
      }
      where.textContent = `Segments: ${fresh(v.playable) ? playableText(v.playable) : "checking…"}`;
    }
  }

  function playUrl(url, title) {
    $("player-box").hidden = false;
    $("now-playing").textContent = title;
    $("now-playing").dataset.opened = String(Date.now());
    $("now-playable").textContent = "";
    if (hls) hls.destroy();
    hls = null;
    if (window.Hls && window.Hls.isSupported()) {
      hls = new window.Hls();
      hls.loadSource(url);
      hls.attachMedia(video);
      hls.on(window.Hls.Events.ERROR, (_e, data) => {
        if (data.fatal) status.textContent = `Playback failed: ${data.details}`;
      });
    } else {
      video.src = url;
    }
    video.play().catch(() => undefined);
    video.focus();
  }

  $("close-player").addEventListener("click", () => {
    if (hls) hls.destroy();
    hls = null;
    video.removeAttribute("src");
    video.load();
    $("player-box").hidden = true;
  });

  async function options(select, url, value, label) {
    try {
      const res = await fetch(url);
      if (!res.ok) return;
      for (const item of await res.json()) {
        const o = document.createElement("option");
        o.value = value(item);
        o.textContent = label(item);
        select.append(o);
      }
    } catch {
      // The lists still work without the choices.
    }
  }

  form.addEventListener("submit", (e) => {
    e.preventDefault();
    const q = params();
    q.delete("outcome");
    q.delete("limit");
    history.replaceState(null, "", q.toString() ? `/?${q}` : "/");
    void load(false);
  });
  more.addEventListener("click", () => void load(true));

  // Find a VOD: the archive answers at once; otherwise a search runs and streams its progress (EventSource).
  const findForm = $("find-form");
  const findTime = $("find-time");
  const findStatus = $("find-status");
  const findProgress = $("find-progress");
  // Read each time it is used: the zone may change while the page is open (a laptop on the move).
  const zone = () => Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC";
  let events = null;
  let running = null;
  $("find-zone").textContent = zone();
  const utcOf = (local) => {
    const d = new Date(local);
    return Number.isNaN(d.getTime()) ? "" : `${d.toISOString().slice(0, 19).replace("T", " ")} UTC`;
  };
  const showUtc = () => {
    $("find-zone").textContent = zone();
    $("find-utc").textContent = findTime.value ? `= ${utcOf(findTime.value)}` : "";
  };
  findTime.addEventListener("input", showUtc);
  const line = (text) => {
    const li = document.createElement("li");
    li.textContent = text;
    findProgress.append(li);
    li.scrollIntoView({ block: "nearest" });
  };
  const busy = (on) => {
    $("find-cancel").hidden = !on;
    findForm.querySelector("button[type=submit]").disabled = on;
  };
  const sourceText = {
    archive: "in our archive (no CDN request)",
    seen: "on the CDN (our archive saw it live)",
    listing: "through the channel's video listing",
    cdn: "on the CDN",
  };

  function showResult(r) {
    busy(false);
    const url = absolute(r.playlist);
    const local = new Date(r.startTime).toLocaleString(undefined, { timeZoneName: "short" });
    $("find-summary").textContent =
      `Found ${r.login}'s stream ${r.streamId}, started ${local} (${r.startTime.replace("T", " ").replace("Z", " UTC")}), ` +
      `${sourceText[r.source] ?? r.source}` +
      (r.source === "archive" ? "." : `: ${r.requests} CDN requests, ${r.seconds.toFixed(1)} s.`) +
      (r.live ? " Still live: the playlist grows." : "");
    const command = `mpv "${url}"`;
    $("find-mpv").textContent = command;
    $("find-copy").onclick = async () => {
      try {
        await navigator.clipboard.writeText(command);
        findStatus.textContent = `Copied: ${command}`;
      } catch {
        findStatus.textContent = command;
      }
    };
    const download = downloadCommand(url, `${r.login}-${r.startTime.slice(0, 10)}`);
    $("find-download").textContent = download;
    $("find-copy-download").onclick = () => copyTo(download, findStatus);
    $("find-play").onclick = () => playUrl(url, `${r.login} — stream ${r.streamId} (${r.startTime})`);
    $("find-check").textContent =
      r.checkedSegments == null
        ? `${r.segments ?? "?"} segments; not checked (${r.source === "archive" ? "the archive's copy" : "no check asked"}).`
        : r.deadSegments.length === 0
          ? `${r.segments} segments; ${r.checkedSegments} checked, all alive.`
          : `${r.segments} segments; ${r.deadSegments.length} of ${r.checkedSegments} checked are dead (left out of the playlist): ` +
            r.deadSegments.map((d) => `${d.uri.split("/").pop()} (${d.status})`).join(", ");
    $("find-result").hidden = false;
    findStatus.textContent = "Found.";
    $("find-play").focus();
  }

  function follow(id, url) {
    running = id;
    busy(true);
    events = new EventSource(url);
    events.addEventListener("progress", (e) => {
      const p = JSON.parse(e.data);
      if (p.message) line(p.message);
      findStatus.textContent = `Searching: ${p.requests} CDN requests, ${Math.round(p.seconds)} s`;
    });
    events.addEventListener("found", (e) => {
      stop();
      showResult(JSON.parse(e.data).result);
    });
    events.addEventListener("failed", (e) => {
      stop();
      const f = JSON.parse(e.data);
      findStatus.textContent = `Not found: ${f.message}`;
    });
    events.onerror = () => {
      if (events && events.readyState === EventSource.CLOSED) {
        stop();
        findStatus.textContent = "The progress stream closed; the search may still be running.";
      }
    };
  }

  function stop() {
    if (events) events.close();
    events = null;
    running = null;
    busy(false);
  }

  findForm.addEventListener("submit", async (e) => {
    e.preventDefault();
    if (events) return;
    findProgress.replaceChildren();
    $("find-result").hidden = true;
    const body = { input: $("find-input").value.trim() };
    if (findTime.value) Object.assign(body, { time: findTime.value, tz: zone() });
    findStatus.textContent = "Asking the archive…";
    try {
      const res = await fetch("/v1/finds", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(body),
      });
      const answer = await res.json();
      if (res.status === 200) return showResult(answer.result);
      if (res.status === 202) {
        line(`Search ${answer.id} started.`);
        return follow(answer.id, answer.events);
      }
      const wait = res.headers.get("retry-after");
      findStatus.textContent = `${answer.message || `HTTP ${res.status}`}${wait ? ` (retry in ${wait} s)` : ""}`;
    } catch (err) {
      findStatus.textContent = `Could not ask: ${err.message}`;
    }
  });

  $("find-cancel").addEventListener("click", async () => {
    const id = running;
    stop();
    if (id) await fetch(`/v1/finds/${id}`, { method: "DELETE" }).catch(() => undefined);
    findStatus.textContent = "Cancelled.";
  });

  const initial = new URLSearchParams(location.search);
  for (const name of ["login", "visibility"]) if (initial.get(name)) form.elements[name].value = initial.get(name);
  void Promise.all([
    options(
      $("game"),
      "/categories",
      (c) => c.GameID,
      (c) => `${c.GameName} (${c.Count})`,
    ),
    options(
      $("language"),
      "/languages",
      (l) => l.Language,
      (l) => `${l.Language} (${l.Count})`,
    ),
  ]).then(() => {
    for (const name of ["gameId", "language"]) if (initial.get(name)) form.elements[name].value = initial.get(name);
    return load(false);
  });
})();
