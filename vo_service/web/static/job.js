/* A job's page: follow the UWS job with blocking WAIT requests while it runs, and show
   the new state (the page is rendered again by the server) when its phase changes. */
"use strict";
(function () {
  const box = document.getElementById("job");
  const url = box.dataset.uws;
  const live = document.getElementById("live");

  async function follow(phase) {
    while (true) {
      let response;
      try {
        response = await Hera.request(`${url}?WAIT=30&PHASE=${encodeURIComponent(phase)}`, { headers: { Accept: "application/xml" } });
      } catch (e) { live.textContent = "Connection lost; retrying …"; await new Promise(r => setTimeout(r, 3000)); continue; }
      if (!response.ok) { live.textContent = "The job is gone: " + await Hera.errorText(response); return; }
      const doc = new DOMParser().parseFromString(await response.text(), "application/xml");
      const now = doc.getElementsByTagNameNS("http://www.ivoa.net/xml/UWS/v1.0", "phase")[0].textContent.trim();
      if (now !== phase) { location.reload(); return; }
    }
  }
  if (url && box.dataset.final !== "true") {
    follow(box.dataset.phase);
    // how long it has been waiting or running, every second
    const since = Date.parse(box.dataset.started || box.dataset.created);
    const doing = box.dataset.started ? "running" : box.dataset.phase === "PENDING" ? "pending" : "queued";
    const tick = () => {
      const elapsed = document.getElementById("elapsed");  // gone once a message replaced the line
      if (elapsed) elapsed.textContent = `(${doing} for ${Math.max(0, Math.round((Date.now() - since) / 1000))} s)`;
    };
    if (!Number.isNaN(since)) { tick(); setInterval(tick, 1000); }
  }

  const abort = document.getElementById("abort-form");
  if (abort) abort.addEventListener("submit", async e => {
    e.preventDefault();
    const response = await Hera.request(abort.action, { method: "POST", body: new URLSearchParams({ PHASE: "ABORT" }) });
    if (!response.ok) { live.textContent = "Not aborted: " + await Hera.errorText(response); return; }
    location.reload();
  });
  const del = document.getElementById("delete-form");
  if (del) del.addEventListener("submit", async e => {
    e.preventDefault();
    if (!confirm("Delete this job and its results? This cannot be undone.")) return;
    const response = await Hera.request(del.action, { method: "POST", body: new URLSearchParams({ ACTION: "DELETE" }) });
    if (!response.ok) { live.textContent = "Not deleted: " + await Hera.errorText(response); return; }
    location.href = "/ui/jobs";
  });
})();
