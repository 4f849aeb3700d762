/* A minimal SAMP 1.3 Web Profile client (plain JavaScript): is a hub running on this
   computer, and send it a VOTable URL (mtype table.load.votable) for TOPCAT and friends.
   The Web Profile hub listens on http://localhost:21012/ and speaks XML-RPC. */
"use strict";
const Samp = {
  hubUrl: "http://localhost:21012/",

  encode(value) {
    if (Array.isArray(value)) return `<array><data>${value.map(v => `<value>${Samp.encode(v)}</value>`).join("")}</data></array>`;
    if (value !== null && typeof value === "object") {
      return "<struct>" + Object.entries(value).map(([k, v]) =>
        `<member><name>${Samp.escape(k)}</name><value>${Samp.encode(v)}</value></member>`).join("") + "</struct>";
    }
    return `<string>${Samp.escape(String(value))}</string>`;
  },
  escape(text) { return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;"); },

  decode(node) {
    const child = Array.from(node.children)[0];
    if (!child) return node.textContent;
    switch (child.tagName) {
      case "struct": {
        const out = {};
        for (const m of child.children) out[m.querySelector("name").textContent] = Samp.decode(m.querySelector("value"));
        return out;
      }
      case "array": return Array.from(child.querySelector("data").children).map(Samp.decode);
      default: return child.textContent;
    }
  },

  async call(method, params, timeoutMs = 4000) {
    const body = `<?xml version="1.0"?><methodCall><methodName>${method}</methodName><params>` +
      params.map(p => `<param><value>${Samp.encode(p)}</value></param>`).join("") + "</params></methodCall>";
    const abort = new AbortController();
    const timer = setTimeout(() => abort.abort(), timeoutMs);
    try {
      const response = await fetch(Samp.hubUrl, { method: "POST", body, signal: abort.signal,
                                                  headers: { "Content-Type": "text/xml" } });
      const doc = new DOMParser().parseFromString(await response.text(), "text/xml");
      const fault = doc.querySelector("fault");
      if (fault) throw new Error("SAMP hub: " + JSON.stringify(Samp.decode(fault.querySelector("value"))));
      const value = doc.querySelector("params > param > value");
      return value ? Samp.decode(value) : null;
    } finally { clearTimeout(timer); }
  },

  async hubRunning() {
    try { await Samp.call("samp.webhub.ping", [], 1500); return true; } catch (e) { return false; }
  },

  /* Register (the hub asks its user to accept), send the table to every client, unregister. */
  async sendTable(url, name) {
    const reg = await Samp.call("samp.webhub.register", [{ "samp.name": "Hera" }], 120000);
    const key = reg["samp.private-key"];
    try {
      await Samp.call("samp.webhub.declareMetadata", [key, {
        "samp.name": "Hera", "samp.description.text": "Hera INTEGRAL archive web page",
        "samp.icon.url": new URL(document.querySelector('link[rel=icon]').href, location.href).href }]);
      await Samp.call("samp.webhub.notifyAll", [key, { "samp.mtype": "table.load.votable",
        "samp.params": { "url": url, "name": name } }]);
    } finally {
      await Samp.call("samp.webhub.unregister", [key]).catch(() => {});
    }
  },
};
