// The archive page: lists VODs from /v1/vods, plays one in the page with hls.js, copies a player command.
/* global document, window, location, history */
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
    td.append(play, " ", copy);
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
    const url = absolute(v.playlist);
    $("player-box").hidden = false;
    $("now-playing").textContent = `${v.login} — ${v.title ?? ""} (${v.startTime})`;
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
