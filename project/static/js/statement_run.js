// The statement-run page: several sales files uploaded at once through the JSON API (with the
// session and its CSRF token), a progress bar per file, straight to S3 where the upload-url says
// so; then a reload shows their statuses. While files are processing, the page follows them.
"use strict";

(function () {
  const form = document.getElementById("upload-form");
  const run = document.getElementById("run");
  if (!form || !run) return;
  const csrf = form.querySelector("[name=csrfmiddlewaretoken]").value;
  const input = form.querySelector("input[type=file]");
  const list = document.getElementById("uploads");
  const text = form.dataset;
  let uploading = 0;
  let dirty = false;
  document.querySelectorAll("#rates form").forEach((f) => f.addEventListener("input", () => { dirty = true; }));

  async function api(path, body) {
    const response = await fetch(path, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrf },
      body: JSON.stringify(body || {}),
    });
    const data = await response.json().catch(() => ({}));
    if (!response.ok) {
      const error = data.error || {};
      throw new Error(error.message || (typeof error === "string" ? error : "HTTP " + response.status));
    }
    return data;
  }

  // The upload-url answer decides where the body goes: a presigned POST to S3 (form fields then the
  // file), a presigned PUT, or our own content endpoint (multipart, with the CSRF header).
  function send(target, file, onProgress) {
    return new Promise((resolve, reject) => {
      const xhr = new XMLHttpRequest();
      let body = file;
      if (target.method === "PUT") {
        xhr.open("PUT", target.url);
      } else {
        body = new FormData();
        Object.entries(target.fields || {}).forEach(([name, value]) => body.append(name, value));
        body.append(target.field || "file", file);
        xhr.open("POST", target.url);
        if (!target.fields) xhr.setRequestHeader("X-CSRFToken", csrf);
      }
      xhr.upload.onprogress = (event) => { if (event.lengthComputable) onProgress(event.loaded, event.total); };
      xhr.onload = () => (xhr.status < 300 ? resolve() : reject(new Error("HTTP " + xhr.status + " " + xhr.responseText.slice(0, 200))));
      xhr.onerror = () => reject(new Error("network error"));
      xhr.send(body);
    });
  }

  async function upload(file, choices, row) {
    const state = row.querySelector(".state");
    const bar = row.querySelector("progress");
    try {
      const created = await api(text.apiFiles, { name: file.name, ...choices });
      await api(text.apiRun + "add-salesfile/", { file_id: created.id });
      const target = await api(text.apiFiles + created.id + "/upload-url/");
      state.textContent = text.textUploading;
      await send(target, file, (loaded, total) => { bar.max = total; bar.value = loaded; });
      bar.value = bar.max;
      await api(text.apiFiles + created.id + "/process/");
      state.textContent = text.textProcessing;
      return true;
    } catch (error) {
      row.classList.add("failed");
      state.textContent = text.textFailed + ": " + error.message;
      return false;
    }
  }

  form.addEventListener("submit", async (event) => {
    if (!input.files.length) return;
    event.preventDefault();
    const choice = (name) => (form.elements["upload-" + name] ? form.elements["upload-" + name].value : "");
    const choices = { profile: choice("profile"), revenue_basis: choice("revenue_basis") };
    const files = Array.from(input.files);
    list.replaceChildren();
    const rows = files.map((file) => {
      const row = document.createElement("li");
      const name = document.createElement("span");
      name.textContent = file.name;
      const bar = document.createElement("progress");
      bar.max = file.size || 1;
      bar.value = 0;
      const state = document.createElement("span");
      state.className = "state";
      state.textContent = text.textWaiting;
      row.append(name, bar, state);
      list.append(row);
      return row;
    });
    uploading += 1;
    const results = await Promise.all(files.map((file, i) => upload(file, choices, rows[i])));
    uploading -= 1;
    input.value = "";
    if (results.every(Boolean) && !dirty) window.location.reload();
  });

  // Follow processing files: reload when a status changes, unless the user is busy in the page.
  if (run.dataset.runStatus === "PROCESSING") {
    const shown = {};
    document.querySelectorAll("tr[data-file]").forEach((row) => {
      shown[row.dataset.file] = row.querySelector("[data-file-status]").dataset.fileStatus;
    });
    const poll = async () => {
      if (!uploading && !dirty) {
        const response = await fetch(run.dataset.apiRun, { credentials: "same-origin" });
        if (response.ok) {
          const data = await response.json();
          if (data.files.some((f) => shown[String(f.id)] !== f.status)) return window.location.reload();
        }
      }
      window.setTimeout(poll, 3000);
    };
    window.setTimeout(poll, 3000);
  }
})();

// While the statements zip is being built, the page follows its progress.
(function () {
  const status = document.getElementById("archive-status");
  if (status && status.dataset.building) window.setTimeout(() => window.location.reload(), 5000);
})();
