// selfdata: progressive enhancement only; every page works without this script.
// Loaded from our own origin (the Content-Security-Policy allows no inline script).
(function () {
  "use strict";

  // Import progress: follow the job's event stream and update the page in place.
  function followImports() {
    var jobs = document.querySelectorAll("[data-import-job]");
    if (!jobs.length || !window.EventSource) { return; }
    Array.prototype.forEach.call(jobs, function (job) {
      var id = job.getAttribute("data-import-job");
      var state = job.querySelector("[data-state]");
      var bar = job.querySelector("progress");
      var source = new EventSource("/api/v1/imports/" + encodeURIComponent(id) + "/events");
      source.addEventListener("progress", function (message) {
        var data;
        try { data = JSON.parse(message.data); } catch (e) { return; }
        var label = job.getAttribute("data-l-" + data.state);
        if (state && label) { state.textContent = label; }
        if (bar && typeof data.progress === "number") { bar.value = Math.round(data.progress * 100); }
      });
      source.addEventListener("end", function () {
        source.close();
        window.location.reload();
      });
      source.onerror = function () { source.close(); };
    });
  }

  // Erasure: the button stays disabled until the typed name matches.
  function guardErasure() {
    var form = document.querySelector("form[data-confirm-name]");
    if (!form) { return; }
    var expected = form.getAttribute("data-confirm-name").toLowerCase();
    var input = form.querySelector("input[name=confirm]");
    var button = form.querySelector("button[type=submit]");
    function check() { button.disabled = input.value.trim().toLowerCase() !== expected; }
    input.addEventListener("input", check);
    check();
  }

  // Export: say something while the archive is being prepared.
  function exportStatus() {
    var form = document.querySelector("form[data-export]");
    if (!form) { return; }
    form.addEventListener("submit", function () {
      var status = document.getElementById("export-status");
      if (status) { status.textContent = status.getAttribute("data-working"); }
    });
  }

  // Selected files: list their names and sizes before sending.
  function listFiles() {
    var input = document.querySelector("input[type=file][data-list]");
    var out = input && document.getElementById(input.getAttribute("data-list"));
    if (!out) { return; }
    input.addEventListener("change", function () {
      out.textContent = "";
      Array.prototype.forEach.call(input.files, function (file) {
        var li = document.createElement("li");
        li.textContent = file.name + " (" + Math.ceil(file.size / 1024) + " KiB)";
        out.appendChild(li);
      });
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    followImports();
    guardErasure();
    exportStatus();
    listFiles();
  });
}());
