/* A tool's page: workspace file pickers, and submission of the form to the tool's UWS
   job list (POST with PHASE=RUN); then the new job's page is opened. */
"use strict";
(function () {
  const form = document.getElementById("tool-form");
  const status = document.getElementById("tool-status");

  // ---- workspace file pickers ------------------------------------------------------------
  async function browse(panel, input, folder) {
    panel.hidden = false;
    panel.replaceChildren(Hera.el("span", { class: "small muted", style: "padding:0.3rem 0.6rem;display:block" }, `/${folder} …`));
    const response = await Hera.request(`/workspace/${folder}?format=json`, { headers: { Accept: "application/json" } });
    if (!response.ok) { panel.replaceChildren(Hera.el("span", { class: "small", style: "padding:0.3rem 0.6rem;display:block" }, await Hera.errorText(response))); return; }
    const listing = await response.json();
    const items = [];
    if (folder) {
      const up = folder.replace(/[^/]+\/$/, "");
      items.push(Hera.el("a", { href: "#", onclick: e => { e.preventDefault(); browse(panel, input, up); } }, "⬑ .."));
    }
    for (const entry of listing.entries) {
      if (entry.type === "folder") items.push(Hera.el("a", { href: "#", onclick: e => { e.preventDefault(); browse(panel, input, entry.path + "/"); } }, `📁 ${entry.name}/`));
      else items.push(Hera.el("a", { href: "#", "data-path": entry.path, onclick: e => { e.preventDefault(); input.value = entry.path; panel.hidden = true; } },
                              `${entry.name}  `, Hera.el("span", { class: "muted" }, Hera.bytes(entry.size))));
    }
    if (!listing.entries.length) items.push(Hera.el("span", { class: "small muted", style: "padding:0.3rem 0.6rem;display:block" }, "empty folder"));
    panel.replaceChildren(...items);
  }
  for (const picker of form.querySelectorAll(".picker")) {
    const input = picker.querySelector("input"), panel = picker.querySelector(".browse");
    picker.querySelector(".browse-button").addEventListener("click", () => {
      if (!panel.hidden) { panel.hidden = true; return; }
      const value = input.value.replace(/\[.*$/, "");
      browse(panel, input, value.includes("/") ? value.slice(0, value.lastIndexOf("/") + 1) : "");
    });
  }

  // ---- submission ------------------------------------------------------------------------------
  form.addEventListener("submit", async event => {
    event.preventDefault();
    const missing = Array.from(form.querySelectorAll("[required]")).filter(e => !e.value.trim());
    if (missing.length) { Hera.show(status, "Please fill in: " + missing.map(e => e.name).join(", "), "error"); missing[0].focus(); return; }
    const invalid = Array.from(form.querySelectorAll("input[type=number]")).filter(e => !e.checkValidity());
    if (invalid.length) { Hera.show(status, "Out of range or not a number: " + invalid.map(e => e.name).join(", "), "error"); invalid[0].focus(); return; }
    const body = new URLSearchParams();
    for (const e of form.elements) {
      if (!e.name) continue;
      if (e.dataset.boolean) body.append(e.name, e.checked ? "true" : "false");
      // an empty field is left out (the tool's default applies), unless it had a default
      // that the user cleared: then "" is what they ask for
      else if (e.value.trim() !== "" || (e.dataset.default || "") !== "") body.append(e.name, e.value.trim());
    }
    body.append("PHASE", "RUN");
    Hera.show(status, "Creating the job …", "info");
    try {
      const response = await Hera.request(form.dataset.joblist, { method: "POST", body });
      if (!response.ok) { Hera.show(status, "The job was not created: " + await Hera.errorText(response), "error"); return; }
      const doc = new DOMParser().parseFromString(await response.text(), "application/xml");
      const id = doc.getElementsByTagNameNS("http://www.ivoa.net/xml/UWS/v1.0", "jobId")[0];
      if (!id) { Hera.show(status, "The job list did not answer with a job.", "error"); return; }
      location.href = `/ui/jobs/${encodeURIComponent(id.textContent.trim())}`;
    } catch (e) { Hera.show(status, "The job was not created: " + e, "error"); }
  });
})();
