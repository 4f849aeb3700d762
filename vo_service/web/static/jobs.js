/* The jobs list: the phase filter applies at once; while a job runs, the list is
   refreshed every 5 s. */
"use strict";
(function () {
  const form = document.getElementById("phase-form");
  if (form) for (const box of form.querySelectorAll("input.phase-filter")) box.addEventListener("change", () => form.submit());
  if (document.querySelector("#jobs-table[data-active]")) setTimeout(() => location.reload(), 5000);
})();
