// The "Map columns" page: a live preview. Each change of the mapping posts the form as its
// Preview button does and puts the preview the page answers in place (the latest answer wins);
// without JavaScript the Preview button does the same with a reload.
"use strict";

(function () {
  const form = document.getElementById("mapping");
  const target = document.getElementById("mapping-preview");
  if (!form || !target) return;
  let asked = 0;
  let timer = null;

  async function refresh() {
    const number = ++asked;
    const body = new FormData(form);
    body.set("action", "preview");
    target.setAttribute("aria-busy", "true");
    try {
      const response = await fetch(window.location.href, { method: "POST", body, credentials: "same-origin" });
      const page = new DOMParser().parseFromString(await response.text(), "text/html");
      const preview = page.getElementById("mapping-preview");
      if (number === asked && preview) target.innerHTML = preview.innerHTML;
    } finally {
      if (number === asked) target.removeAttribute("aria-busy");
    }
  }

  form.addEventListener("change", (event) => {
    if (event.target.name === "name" || event.target.name === "save") return;
    window.clearTimeout(timer);
    timer = window.setTimeout(refresh, 300);
  });
})();
