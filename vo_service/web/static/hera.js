/* Hera web interface: helpers shared by every page (plain JavaScript, no library). */
"use strict";
const Hera = {
  csrf() { return document.querySelector('meta[name="csrf-token"]').content; },
  signedIn() { return document.body.dataset.signedIn === "true"; },

  /* fetch() on the service with the session cookie; state-changing requests carry the CSRF token. */
  request(url, options = {}) {
    const opts = Object.assign({ credentials: "same-origin" }, options);
    const method = (opts.method || "GET").toUpperCase();
    opts.headers = Object.assign({}, opts.headers || {});
    if (!["GET", "HEAD", "OPTIONS"].includes(method)) opts.headers["X-CSRF-Token"] = Hera.csrf();
    return fetch(url, opts);
  },

  /* The message of an error response: JSON {"error"}, a VOTable INFO, or its text. */
  async errorText(response) {
    const text = await response.text();
    try { const doc = JSON.parse(text); if (doc.error) return doc.error; } catch (e) { /* not JSON */ }
    const m = text.match(/<INFO[^>]*name="QUERY_STATUS"[^>]*>([\s\S]*?)<\/INFO>/);
    if (m) return m[1].trim();
    return (text.trim() || response.statusText).slice(0, 2000) + ` (HTTP ${response.status})`;
  },

  bytes(n) {
    if (n === null || n === undefined) return "";
    const units = ["B", "kB", "MB", "GB", "TB"];
    let i = 0;
    while (n >= 1000 && i < units.length - 1) { n /= 1000; i++; }
    return i === 0 ? `${n} B` : `${n.toFixed(1)} ${units[i]}`;
  },

  /* MJD (TT, as the catalogue gives it) to an ISO timestamp, to the second. */
  mjdToIso(mjd) {
    const ms = Math.round((mjd - 40587) * 86400) * 1000;
    return new Date(ms).toISOString().slice(0, 19);
  },

  el(tag, attrs = {}, ...children) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs)) {
      if (v === null || v === undefined || v === false) continue;
      if (k === "class") e.className = v; else if (k === "text") e.textContent = v;
      else if (k.startsWith("on")) e.addEventListener(k.slice(2), v); else e.setAttribute(k, v);
    }
    for (const c of children) e.append(c);
    return e;
  },

  show(target, message, kind = "info") {
    target.className = `notice ${kind}`;
    target.textContent = message;
    target.hidden = false;
  },
};
