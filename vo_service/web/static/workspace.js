/* The workspace page: upload (XHR PUTs, each file with its progress bar; a large file in
   pieces that survive a broken connection), create folders, rename and delete, through
   the /workspace/ REST interface. */
"use strict";
(function () {
  const root = document.getElementById("workspace");
  const folder = root.dataset.path;          // "" or "a/b/"
  const status = document.getElementById("ws-status");
  const api = path => "/workspace/" + path.split("/").map(encodeURIComponent).join("/");
  const sleep = ms => new Promise(resolve => setTimeout(resolve, ms));

  /* One PUT; resolves to the XHR once answered, rejects when the connection breaks. */
  function put(url, body, headers, onProgress) {
    return new Promise((resolve, reject) => {
      const xhr = new XMLHttpRequest();
      xhr.open("PUT", url);
      xhr.setRequestHeader("X-CSRF-Token", Hera.csrf());
      xhr.setRequestHeader("Content-Type", "application/octet-stream");
      for (const [k, v] of Object.entries(headers)) xhr.setRequestHeader(k, v);
      xhr.upload.onprogress = e => onProgress(e.loaded);
      xhr.onload = () => resolve(xhr);
      xhr.onerror = () => reject(new Error("the connection broke"));
      xhr.send(body);
    });
  }

  function refusal(xhr) {
    let message = xhr.responseText;
    try { message = JSON.parse(message).error; } catch (e) { /* plain text */ }
    return new Error(`${message} (HTTP ${xhr.status})`);
  }

  /* A large file, piece by piece (Content-Range): after a break, ask the service how much
     it has (Content-Range: bytes *\/size) and go on from there, a few times. */
  async function putInPieces(url, file, piece, progress) {
    let offset = 0, breaks = 0;
    while (true) {
      const end = Math.min(offset + piece, file.size);
      try {
        const xhr = await put(url, file.slice(offset, end), { "Content-Range": `bytes ${offset}-${end - 1}/${file.size}` },
                              loaded => progress(offset + loaded));
        if (xhr.status === 200 || xhr.status === 201) return;
        if (xhr.status !== 202 && xhr.status !== 409) throw refusal(xhr);   // 409: not at the service's offset
        offset = Number(xhr.getResponseHeader("Upload-Offset"));
        breaks = 0;
      } catch (err) {
        if (err.message !== "the connection broke" || ++breaks > 5) throw err;
        await sleep(1000 * 2 ** breaks);
        const asked = await put(url, new Blob([]), { "Content-Range": `bytes */${file.size}` }, () => {}).catch(() => null);
        if (asked && asked.status === 202) offset = Number(asked.getResponseHeader("Upload-Offset"));
      }
      progress(offset);
    }
  }

  async function uploadOne(file, list) {
    const bar = Hera.el("div"), state = Hera.el("span", { class: "small muted" }, "waiting");
    const li = Hera.el("li", { "data-name": file.name }, Hera.el("span", {}, `${file.name} (${Hera.bytes(file.size)})`),
                       Hera.el("div", { class: "progress" }, bar), state);
    list.append(li);
    const progress = sent => { bar.style.width = `${(100 * sent / Math.max(file.size, 1)).toFixed(0)}%`; state.textContent = "uploading"; };
    const piece = Number(root.dataset.piece);
    try {
      if (file.size > piece) await putInPieces(api(folder + file.name), file, piece, progress);
      else {
        const xhr = await put(api(folder + file.name), file, {}, progress);
        if (xhr.status !== 200 && xhr.status !== 201) throw refusal(xhr);
      }
      bar.style.width = "100%"; state.textContent = "done"; li.classList.add("done");
      return true;
    } catch (err) {
      state.textContent = "failed"; li.classList.add("failed");
      Hera.show(status, `${file.name}: ${err.message}`, "error");
      return false;
    }
  }

  async function upload(files) {
    const list = document.getElementById("uploads");
    const done = await Promise.all(files.map(file => uploadOne(file, list)));
    if (done.every(Boolean)) setTimeout(() => location.reload(), 400);
  }

  const input = document.getElementById("upload-input"), drop = document.getElementById("drop");
  input.addEventListener("change", () => upload(Array.from(input.files)));
  drop.addEventListener("dragover", e => { e.preventDefault(); drop.classList.add("over"); });
  drop.addEventListener("dragleave", () => drop.classList.remove("over"));
  drop.addEventListener("drop", e => { e.preventDefault(); drop.classList.remove("over"); upload(Array.from(e.dataTransfer.files)); });

  async function post(path, fields) {
    return Hera.request(api(path), { method: "POST", body: new URLSearchParams(fields) });
  }

  document.getElementById("mkdir-button").addEventListener("click", async () => {
    const name = document.getElementById("folder-name").value.trim().replace(/^\/+|\/+$/g, "");
    if (!name) return;
    const response = await post(folder + name, { action: "mkdir" });
    if (response.ok) location.reload(); else Hera.show(status, "Folder not created: " + await Hera.errorText(response), "error");
  });

  document.getElementById("files").addEventListener("click", async e => {
    const row = e.target.closest("tr[data-path]");
    if (!row) return;
    const path = row.dataset.path, name = path.split("/").pop();
    if (e.target.classList.contains("delete")) {
      const what = row.dataset.type === "folder" ? `the folder ${name} and everything in it` : name;
      if (!confirm(`Delete ${what}? This cannot be undone.`)) return;
      const response = await Hera.request(api(path), { method: "DELETE" });
      if (response.ok) row.remove(); else Hera.show(status, "Not deleted: " + await Hera.errorText(response), "error");
    } else if (e.target.classList.contains("rename")) {
      const to = prompt(`Rename or move ${name} to (a path in your workspace):`, path);
      if (!to || to === path) return;
      const response = await post(path, { action: "move", to: to.replace(/^\/+/, "") });
      if (response.ok) location.reload(); else Hera.show(status, "Not renamed: " + await Hera.errorText(response), "error");
    }
  });
})();
