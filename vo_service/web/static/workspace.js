/* The workspace page: upload (one XHR PUT per file, with its progress bar), create
   folders, rename and delete, through the /workspace/ REST interface. */
"use strict";
(function () {
  const root = document.getElementById("workspace");
  const folder = root.dataset.path;          // "" or "a/b/"
  const status = document.getElementById("ws-status");
  const api = path => "/workspace/" + path.split("/").map(encodeURIComponent).join("/");

  function upload(files) {
    const list = document.getElementById("uploads");
    let pending = files.length;
    for (const file of files) {
      const bar = Hera.el("div"), state = Hera.el("span", { class: "small muted" }, "waiting");
      const li = Hera.el("li", { "data-name": file.name }, Hera.el("span", {}, `${file.name} (${Hera.bytes(file.size)})`),
                         Hera.el("div", { class: "progress" }, bar), state);
      list.append(li);
      const xhr = new XMLHttpRequest();
      xhr.open("PUT", api(folder + file.name));
      xhr.setRequestHeader("X-CSRF-Token", Hera.csrf());
      xhr.setRequestHeader("Content-Type", "application/octet-stream");
      xhr.upload.onprogress = e => { if (e.lengthComputable) bar.style.width = `${(100 * e.loaded / e.total).toFixed(0)}%`; state.textContent = "uploading"; };
      xhr.onload = () => {
        if (xhr.status === 200 || xhr.status === 201) { bar.style.width = "100%"; state.textContent = "done"; li.classList.add("done"); }
        else { state.textContent = "failed"; state.title = xhr.responseText; li.classList.add("failed");
               let msg = xhr.responseText; try { msg = JSON.parse(msg).error; } catch (e) { /* text */ }
               Hera.show(status, `${file.name}: ${msg} (HTTP ${xhr.status})`, "error"); }
        if (--pending === 0 && !list.querySelector(".failed")) setTimeout(() => location.reload(), 400);
      };
      xhr.onerror = () => { state.textContent = "failed"; li.classList.add("failed"); pending--; };
      xhr.send(file);
    }
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
