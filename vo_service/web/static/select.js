/* The selection page: ADQL examples, the query through /tap/sync (JSON), a sortable and
   paginated table, a sky plot of the pointings, save to Hera and send to TOPCAT. */
"use strict";
(function () {
  const section = document.getElementById("results");
  // URLs longer than this may be refused by proxies and servers (gunicorn: 4094 bytes per request line)
  const LONGEST_URL = 3000;
  loadExamples();
  const adqlForm = document.getElementById("adql-form");
  adqlForm.addEventListener("submit", () => {
    if (encodeURIComponent(document.getElementById("adql").value).length > LONGEST_URL) {
      adqlForm.method = "post";
      adqlForm.append(Hera.el("input", { type: "hidden", name: "csrf_token", value: Hera.csrf() }));
    }
  });
  if (section) runQuery(section);

  async function loadExamples() {
    const select = document.getElementById("examples");
    const textarea = document.getElementById("adql");
    try {
      const response = await fetch("/tap/examples");
      if (!response.ok) throw new Error(`HTTP ${response.status}`);
      const doc = new DOMParser().parseFromString(await response.text(), "text/html");
      const queries = Array.from(doc.querySelectorAll('[property="query"]'));
      select.innerHTML = "";
      select.append(Hera.el("option", { value: "", text: `${queries.length} examples: choose one …` }));
      for (const q of queries) {
        const box = q.closest('[typeof="example"]') || q.parentElement;
        const title = box.querySelector('[property="name"]');
        select.append(Hera.el("option", { value: q.textContent.trim(),
                                          text: title ? title.textContent.trim() : box.id || "example" }));
      }
      select.disabled = queries.length === 0;
      select.addEventListener("change", () => { if (select.value) textarea.value = select.value; });
    } catch (e) {
      select.innerHTML = "";
      select.append(Hera.el("option", { text: "no examples: /tap/examples did not answer" }));
    }
  }

  // ---- the query -------------------------------------------------------------------------
  async function runQuery(section) {
    const status = document.getElementById("status-line");
    const maxrec = Number(section.dataset.maxrec);
    const params = new URLSearchParams({ REQUEST: "doQuery", LANG: "ADQL", QUERY: section.dataset.adql,
                                         RESPONSEFORMAT: "json", MAXREC: String(maxrec) });
    const started = performance.now();
    let doc;
    try {
      const url = `${section.dataset.sync}?${params}`;  // a long query does not fit in a URL: POST it
      const response = url.length <= LONGEST_URL ? await Hera.request(url)
        : await Hera.request(section.dataset.sync, { method: "POST", body: params });
      if (!response.ok) { Hera.show(status, "The query failed: " + await Hera.errorText(response), "error"); return; }
      doc = await response.json();
    } catch (e) { Hera.show(status, "The query failed: " + e, "error"); return; }
    const seconds = ((performance.now() - started) / 1000).toFixed(2);
    const n = doc.data.length;
    status.className = "";
    status.textContent = n === 0 ? `No science window matches (${seconds} s).`
      : `${n} row${n === 1 ? "" : "s"} in ${seconds} s` +
        (n >= maxrec ? ` — the limit of ${maxrec} rows is reached: there may be more (raise "at most this many rows").` : ".");
    status.dataset.rows = String(n);
    const table = new ResultTable(doc, document.getElementById("result-table"), document.getElementById("pager"));
    const sky = new SkyPlot(document.getElementById("sky"), doc, section.dataset);
    table.onSelect = i => sky.highlight(i);
    sky.onSelect = i => table.reveal(i);
    table.onMark = () => { sky.mark(table.marked); showMarks(table); };
    showMarks(table);
    setUpDownloads(section, table);
    setUpSave(section, table);
    setUpSamp(section, table);
  }

  // ---- the table ---------------------------------------------------------------------------
  function formatter(meta) {
    const name = meta.name.toLowerCase();
    if (name === "start_time" || name === "end_time")
      return v => [v.toFixed(5), Hera.mjdToIso(v)];
    if (name === "ra" || name === "dec" || name.endsWith("_ra") || name.endsWith("_dec")) return v => [v.toFixed(4)];
    if (name.startsWith("good_") || name === "elapsed") return v => [v.toFixed(0)];
    if (name === "dist") return v => [v.toFixed(3)];
    if (meta.datatype === "double" || meta.datatype === "float") return v => [Number(v.toPrecision(7)).toString()];
    return v => [String(v)];
  }

  class ResultTable {
    constructor(doc, table, pager) {
      this.meta = doc.metadata; this.data = doc.data; this.table = table; this.pager = pager;
      this.order = this.data.map((_, i) => i); this.page = 0; this.size = 50; this.selected = null;
      this.formats = this.meta.map(formatter);
      this.idColumn = this.meta.findIndex(m => m.name.toLowerCase() === "scw_id");
      this.marked = new Set();
      this.numeric = this.meta.map(m => ["double", "float", "int", "long", "short", "unsignedByte"].includes(m.datatype));
      this.head();
      this.draw();
    }
    head() {
      const tr = Hera.el("tr");
      if (this.idColumn >= 0) {
        this.markPage = Hera.el("input", { type: "checkbox", id: "mark-page", title: "mark or unmark the rows of this page",
          onchange: e => { for (const i of this.pageRows()) e.target.checked ? this.marked.add(i) : this.marked.delete(i);
                           this.draw(); this.onMark(); } });
        tr.append(Hera.el("th", { class: "mark" }, this.markPage));
      }
      this.meta.forEach((m, c) => {
        const th = Hera.el("th", { class: "sortable", title: m.description || m.name, "data-column": m.name, tabindex: "0",
                                   onclick: () => this.sort(c, th),
                                   onkeydown: e => { if (e.key === "Enter" || e.key === " ") { e.preventDefault(); this.sort(c, th); } } }, m.name);
        if (m.unit) th.append(Hera.el("span", { class: "unit", text: m.unit }));
        tr.append(th);
      });
      this.table.append(Hera.el("thead", {}, tr), this.body = Hera.el("tbody"));
    }
    sort(c, th) {
      const descending = th.getAttribute("aria-sort") === "ascending";
      this.table.querySelectorAll("th").forEach(h => h.removeAttribute("aria-sort"));
      th.setAttribute("aria-sort", descending ? "descending" : "ascending");
      const sign = descending ? -1 : 1, numeric = this.numeric[c];
      this.order.sort((a, b) => {
        const x = this.data[a][c], y = this.data[b][c];
        if (x === null) return 1; if (y === null) return -1;
        return sign * (numeric ? x - y : String(x).localeCompare(String(y)));
      });
      this.page = 0;
      this.draw();
    }
    reveal(i) {
      this.selected = i;
      this.page = Math.floor(this.order.indexOf(i) / this.size);
      this.draw();
      const row = this.body.querySelector("tr.highlight");
      if (row) row.scrollIntoView({ block: "nearest" });
    }
    pageRows() { return this.order.slice(this.page * this.size, (this.page + 1) * this.size); }
    /* The query of the marked rows only: the page's query, narrowed to their scw_id. */
    markedQuery(adqlText) {
      const ids = [...this.marked].sort((a, b) => a - b).map(i => `'${String(this.data[i][this.idColumn]).replace(/'/g, "''")}'`);
      const ordered = this.meta.some(m => m.name.toLowerCase() === "start_time");
      return `SELECT * FROM (\n${adqlText}\n) AS marked\nWHERE scw_id IN (${ids.join(", ")})` + (ordered ? "\nORDER BY start_time" : "");
    }
    draw() {
      const pages = Math.max(1, Math.ceil(this.data.length / this.size));
      this.page = Math.min(this.page, pages - 1);
      const first = this.page * this.size, rows = this.pageRows();
      if (this.markPage) this.markPage.checked = rows.length > 0 && rows.every(i => this.marked.has(i));
      this.body.replaceChildren(...rows.map(i => {
        const tr = Hera.el("tr", { class: i === this.selected ? "highlight" : null, "data-row": String(i),
                                  onclick: () => { this.selected = i; this.draw(); if (this.onSelect) this.onSelect(i); } });
        if (this.idColumn >= 0) {
          tr.append(Hera.el("td", { class: "mark" }, Hera.el("input", { type: "checkbox", class: "mark", checked: this.marked.has(i) ? "checked" : null,
            onclick: e => e.stopPropagation(),
            onchange: e => { e.target.checked ? this.marked.add(i) : this.marked.delete(i); this.draw(); this.onMark(); } })));
        }
        this.data[i].forEach((v, c) => {
          if (v === null) { tr.append(Hera.el("td", { class: "muted" }, "")); return; }
          const [text, title] = this.formats[c](v);
          tr.append(Hera.el("td", { class: this.numeric[c] ? "num" : null, title }, text));
        });
        return tr;
      }));
      const sizes = Hera.el("select", { id: "page-size", onchange: e => { this.size = Number(e.target.value); this.page = 0; this.draw(); } },
        ...[25, 50, 100, 250].map(s => Hera.el("option", { value: String(s), selected: s === this.size ? "selected" : null }, `${s} per page`)));
      this.pager.replaceChildren(
        Hera.el("button", { type: "button", class: "small", id: "page-prev", disabled: this.page === 0 ? "disabled" : null,
                            onclick: () => { this.page--; this.draw(); } }, "◀ Previous"),
        Hera.el("span", { id: "page-info" }, this.data.length ? `rows ${first + 1}–${first + rows.length} of ${this.data.length} · page ${this.page + 1} of ${pages}` : ""),
        Hera.el("button", { type: "button", class: "small", id: "page-next", disabled: this.page >= pages - 1 ? "disabled" : null,
                            onclick: () => { this.page++; this.draw(); } }, "Next ▶"),
        sizes);
    }
  }

  // ---- the sky plot --------------------------------------------------------------------------
  const RAD = Math.PI / 180, SVG = "http://www.w3.org/2000/svg";
  function svg(tag, attrs, text) {
    const e = document.createElementNS(SVG, tag);
    for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
    if (text !== undefined) e.textContent = text;
    return e;
  }

  class SkyPlot {
    constructor(root, doc, where) {
      this.root = root; this.points = [];
      const names = doc.metadata.map(m => m.name.toLowerCase());
      const ra = names.indexOf("ra"), dec = names.indexOf("dec"), id = names.indexOf("scw_id"), type = names.indexOf("scw_type");
      const caption = document.getElementById("sky-caption");
      if (ra < 0 || dec < 0) { root.style.display = "none"; caption.textContent = "No ra and dec columns: no sky plot."; return; }
      this.centre = where.ra !== undefined ? { ra: Number(where.ra), dec: Number(where.dec), radius: Number(where.radius), name: where.target } : null;
      const project = this.centre ? this.tangent() : this.hammer();
      doc.data.forEach((row, i) => {
        if (row[ra] === null || row[dec] === null) return;
        const p = project(row[ra], row[dec]);
        if (!p) return;
        const c = svg("circle", { cx: p[0].toFixed(1), cy: p[1].toFixed(1), r: 2.6,
                                  class: "pt" + (type >= 0 && row[type] === "slew" ? " slew" : ""), "data-row": i });
        c.append(svg("title", {}, `${id >= 0 ? row[id] : "row " + (i + 1)}  RA ${row[ra].toFixed(3)} Dec ${row[dec].toFixed(3)}`));
        c.addEventListener("click", () => { this.highlight(i); if (this.onSelect) this.onSelect(i); });
        this.root.append(c);
        this.points[i] = c;
      });
      const shown = this.points.filter(Boolean).length;
      caption.textContent = (this.centre
        ? `Pointing directions (spacecraft X axis) within ${this.centre.radius}° of ${this.centre.name || "the position"}, tangent-plane projection, north up, east left.`
        : "Pointing directions (spacecraft X axis), equatorial Hammer–Aitoff projection centred on RA 180°, east left; dashed: the Galactic plane.")
        + ` ${shown} plotted; blue: pointings, orange: slews; click a point to find its row.`;
    }
    mark(marked) {
      this.points.forEach((p, i) => { if (p) p.classList.toggle("marked", marked.has(i)); });
    }
    highlight(i) {
      if (this.current) this.current.classList.remove("sel");
      this.current = this.points[i];
      if (this.current) { this.current.classList.add("sel"); this.root.append(this.current); }
    }
    tangent() {
      const { ra: ra0, dec: dec0, radius } = this.centre;
      const extent = radius * 1.12, cx = 360, cy = 190, scale = 175 / Math.tan(extent * RAD);
      const project = (ra, dec) => {
        const d = (ra - ra0) * RAD, c = Math.sin(dec0 * RAD) * Math.sin(dec * RAD) + Math.cos(dec0 * RAD) * Math.cos(dec * RAD) * Math.cos(d);
        if (c <= 0) return null;
        const xi = Math.cos(dec * RAD) * Math.sin(d) / c;
        const eta = (Math.cos(dec0 * RAD) * Math.sin(dec * RAD) - Math.sin(dec0 * RAD) * Math.cos(dec * RAD) * Math.cos(d)) / c;
        return [cx - scale * xi, cy - scale * eta];
      };
      const r = scale * Math.tan(radius * RAD);
      this.root.append(svg("rect", { x: cx - 185, y: 5, width: 370, height: 370, class: "outline" }));
      const step = niceStep(radius);
      for (let s = step; s < extent; s += step) {
        this.root.append(svg("circle", { cx, cy, r: scale * Math.tan(s * RAD), class: "grid-line" }));
        this.root.append(svg("text", { x: cx + 3, y: cy - scale * Math.tan(s * RAD) - 2 }, `${+s.toFixed(2)}°`));
      }
      this.root.append(svg("line", { x1: cx - 185, y1: cy, x2: cx + 185, y2: cy, class: "grid-line" }));
      this.root.append(svg("line", { x1: cx, y1: 5, x2: cx, y2: 375, class: "grid-line" }));
      this.root.append(svg("circle", { cx, cy, r, class: "cone" }));
      this.root.append(svg("path", { d: `M${cx - 7},${cy}h14M${cx},${cy - 7}v14`, class: "target" }));
      this.root.append(svg("text", { x: cx - 180, y: cy - 4 }, "E"), svg("text", { x: cx + 4, y: 17 }, "N"));
      this.root.append(svg("text", { x: 560, y: 30, style: "font-size:13px;fill:#1d2433" }, this.centre.name || "position"));
      this.root.append(svg("text", { x: 560, y: 48 }, `RA ${ra0.toFixed(4)}°`), svg("text", { x: 560, y: 62 }, `Dec ${dec0.toFixed(4)}°`));
      this.root.append(svg("text", { x: 560, y: 76 }, `radius ${radius}°`));
      return project;
    }
    hammer() {
      const cx = 360, cy = 190, sx = 350 / (2 * Math.SQRT2), sy = 180 / Math.SQRT2;
      const project = (ra, dec) => {
        let l = (ra - 180) * RAD; const b = dec * RAD;
        const z = Math.sqrt(1 + Math.cos(b) * Math.cos(l / 2));
        return [cx - sx * 2 * Math.SQRT2 * Math.cos(b) * Math.sin(l / 2) / z, cy - sy * Math.SQRT2 * Math.sin(b) / z];
      };
      this.root.append(svg("ellipse", { cx, cy, rx: 350, ry: 180, class: "outline" }));
      for (let ra = 0; ra <= 360; ra += 60) this.root.append(svg("path", { d: line(project, d => [Math.min(ra, 359.999), d], -90, 90), class: "grid-line" }));
      for (let dec = -60; dec <= 60; dec += 30) this.root.append(svg("path", { d: line(project, r => [r, dec], 0.001, 359.999), class: "grid-line" }));
      for (let ra = 60; ra < 360; ra += 60) { const p = project(ra, 0); this.root.append(svg("text", { x: p[0] + 2, y: p[1] - 2 }, `${ra}°`)); }
      // the Galactic plane (b = 0), broken where it crosses the edge of the map
      let d = "", last = null;
      for (let l = 0; l <= 360; l += 2) {
        const [ra, dec] = galacticToEquatorial(l, 0), p = project(ra, dec);
        d += `${last === null || Math.abs(p[0] - last) > 200 ? "M" : "L"}${p[0].toFixed(1)},${p[1].toFixed(1)}`;
        last = p[0];
      }
      this.root.append(svg("path", { d, class: "galactic" }));
      const at = project(...galacticToEquatorial(100, 0));
      this.root.append(svg("text", { x: at[0] + 6, y: at[1] - 4, class: "galactic-label" }, "Galactic plane"));
      return project;
    }
  }
  /* ICRS (J2000) position of Galactic longitude l and latitude b, degrees. */
  function galacticToEquatorial(l, b) {
    const raPole = 192.85948 * RAD, decPole = 27.12825 * RAD, lPole = 122.93192 * RAD;
    const dl = lPole - l * RAD, sb = Math.sin(b * RAD), cb = Math.cos(b * RAD);
    const dec = Math.asin(sb * Math.sin(decPole) + cb * Math.cos(decPole) * Math.cos(dl));
    const ra = raPole + Math.atan2(cb * Math.sin(dl), sb * Math.cos(decPole) - cb * Math.sin(decPole) * Math.cos(dl));
    return [((ra / RAD) % 360 + 360) % 360, dec / RAD];
  }
  function line(project, at, from, to) {
    const parts = [];
    for (let i = 0; i <= 60; i++) { const p = project(...at(from + (to - from) * i / 60)); parts.push(`${i ? "L" : "M"}${p[0].toFixed(1)},${p[1].toFixed(1)}`); }
    return parts.join("");
  }
  function niceStep(radius) {
    for (const s of [0.1, 0.25, 0.5, 1, 2, 2.5, 5, 10, 15, 30, 45]) if (radius / s <= 4) return s;
    return 60;
  }

  // ---- save to Hera and SAMP -----------------------------------------------------------------
  /* The query the buttons act on: the marked rows, if any are marked, else all. */
  function queryOf(section, table) {
    return table.marked.size ? table.markedQuery(section.dataset.adql) : section.dataset.adql;
  }

  function showMarks(table) {
    const info = document.getElementById("marked-info");
    const n = table.marked.size;
    if (table.idColumn < 0) { info.textContent = ""; return; }
    info.replaceChildren(n === 0 ? "Tick rows to download or save only those."
      : `${n} row${n === 1 ? "" : "s"} marked: the downloads and Save to Hera take only ${n === 1 ? "it" : "these"} · `);
    if (n) info.append(Hera.el("a", { href: "#", id: "clear-marks", onclick: e => { e.preventDefault(); table.marked.clear(); table.draw(); table.onMark(); } }, "clear the marks"));
    document.getElementById("save-button").textContent = n ? `Save ${n} marked row${n === 1 ? "" : "s"} to Hera` : "Save to Hera";
  }

  /* Downloads of marked rows: their query is too long for a link, so it is POSTed. */
  function setUpDownloads(section, table) {
    for (const link of document.querySelectorAll("a[id^=download-]")) {
      link.addEventListener("click", async event => {
        if (!table.marked.size && link.href.length <= LONGEST_URL) return;  // the plain link
        event.preventDefault();
        const format = new URL(link.href, location.href).searchParams.get("RESPONSEFORMAT");
        const response = await Hera.request(section.dataset.sync, { method: "POST", body: new URLSearchParams({
          REQUEST: "doQuery", LANG: "ADQL", QUERY: queryOf(section, table), RESPONSEFORMAT: format, MAXREC: section.dataset.maxrec }) });
        if (!response.ok) { Hera.show(document.getElementById("status-line"), "Download failed: " + await Hera.errorText(response), "error"); return; }
        const url = URL.createObjectURL(await response.blob());
        const a = Hera.el("a", { href: url, download: link.getAttribute("download").replace(".", "_marked.") });
        document.body.append(a); a.click(); a.remove();
        setTimeout(() => URL.revokeObjectURL(url), 60000);
      });
    }
  }

  function setUpSave(section, table) {
    const form = document.getElementById("save-form"), name = document.getElementById("save-name");
    const format = document.getElementById("save-format"), out = document.getElementById("save-status");
    const extension = { fits: ".fits", votable: ".xml", csv: ".csv" };
    format.addEventListener("change", () => {
      name.value = name.value.replace(/\.(fits|fit|xml|vot|votable|csv)$/i, "") + extension[format.value];
    });
    form.addEventListener("submit", async event => {
      event.preventDefault();
      if (!Hera.signedIn()) return;
      const dest = name.value.trim().replace(/^\/+/, "");
      if (!dest) { Hera.show(out, "Give the file a name, for instance selections/crab.fits.", "error"); return; }
      try {
        const entry = await saveQuery(queryOf(section, table), section, format.value, dest, text => Hera.show(out, text, "info"));
        const path = entry.path || dest, folder = path.includes("/") ? path.slice(0, path.lastIndexOf("/") + 1) : "";
        out.className = "notice ok"; out.hidden = false;
        out.replaceChildren("Saved to Hera: ", Hera.el("a", { href: `/ui/workspace/${folder}`, id: "saved-link" }, path),
          entry.size !== undefined ? ` (${Hera.bytes(entry.size)})` : "",
          " · ", Hera.el("a", { href: coverageLink(section, path), id: "coverage-link" }, "compute its coverage with scw_coverage"));
      } catch (e) { Hera.show(out, "Not saved: " + e, "error"); }
    });
  }

  /* The scw_coverage form, filled in for the saved table (and the target, if any). */
  function coverageLink(section, path) {
    const stem = path.replace(/\.[^./]*$/, "");
    const params = new URLSearchParams({ scw_table: path, outfile: `${stem}_coverage.fits`, plotfile: `${stem}_coverage.png` });
    if (section.dataset.ra !== undefined) { params.set("ra", section.dataset.ra); params.set("dec", section.dataset.dec); }
    return `/ui/tools/scw_coverage?${params}`;
  }

  /* Save the query's result into the workspace, on the service: the query runs as a TAP
     asynchronous job (so a large selection does not hold the page), then the workspace
     copies the job's result (action=save). Resolves to the new file's entry. */
  async function saveQuery(adqlText, section, format, dest, progress) {
    const UWS = "http://www.ivoa.net/xml/UWS/v1.0";
    progress(`Running the query as an asynchronous TAP job …`);
    const created = await Hera.request("/tap/async", { method: "POST", body: new URLSearchParams({
      REQUEST: "doQuery", LANG: "ADQL", QUERY: adqlText, RESPONSEFORMAT: format,
      MAXREC: section.dataset.maxrec, RUNID: `save to ${dest}`, PHASE: "RUN" }) });
    if (!created.ok) throw new Error(await Hera.errorText(created));
    const jobUrl = created.url;
    let doc = new DOMParser().parseFromString(await created.text(), "application/xml");
    let phase = doc.getElementsByTagNameNS(UWS, "phase")[0].textContent.trim();
    while (!["COMPLETED", "ERROR", "ABORTED"].includes(phase)) {
      progress(`TAP job ${phase.toLowerCase()} …`);
      const r = await Hera.request(`${jobUrl}?WAIT=30&PHASE=${phase}`);
      if (!r.ok) throw new Error(await Hera.errorText(r));
      doc = new DOMParser().parseFromString(await r.text(), "application/xml");
      phase = doc.getElementsByTagNameNS(UWS, "phase")[0].textContent.trim();
    }
    if (phase !== "COMPLETED") {
      const r = await Hera.request(`${jobUrl}/error`);
      throw new Error(`the TAP job ended in ${phase}` + (r.ok ? ": " + await Hera.errorText(r) : ""));
    }
    progress(`Copying the result into your workspace as ${dest} …`);
    const path = dest.split("/").map(encodeURIComponent).join("/");
    const saved = await Hera.request(`/workspace/${path}`, { method: "POST",
      body: new URLSearchParams({ action: "save", job: jobUrl }) });
    if (!saved.ok) throw new Error(await Hera.errorText(saved));
    return saved.json();
  }

  async function setUpSamp(section, table) {
    const button = document.getElementById("samp-button"), note = document.getElementById("samp-note");
    if (!(await Samp.hubRunning())) {
      button.title = "No SAMP hub answers on this computer";
      note.textContent = "Open in TOPCAT: no SAMP hub answers on this computer. Start TOPCAT (it runs a hub), then reload this page — or download the VOTable.";
      return;
    }
    button.disabled = false; button.title = "Send the table to TOPCAT and other SAMP clients";
    note.textContent = "A SAMP hub is running: the button sends the VOTable URL (public rows) to TOPCAT; the hub asks you to accept Hera first.";
    button.addEventListener("click", async () => {
      const url = new URL(section.dataset.votableUrl);  // the marked rows only, when rows are marked
      url.searchParams.set("QUERY", queryOf(section, table));
      if (url.href.length > LONGEST_URL) { note.textContent = "SAMP: too many rows are marked to send their query as a URL; mark fewer, or save or download them."; return; }
      try { await Samp.sendTable(url.href, table.marked.size ? "Hera science windows (marked)" : "Hera science windows"); note.textContent = "Sent to the SAMP hub."; }
      catch (e) { note.textContent = "SAMP: " + e.message; }
    });
  }
})();
