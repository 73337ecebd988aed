/**
 * The report's only script: toggles (diagram evidence, rule views), the severity filter and the JSON
 * download. Static text, so the Content-Security-Policy can name it by hash; it reads data only from the
 * DOM and from the `application/json` block, and writes text with `textContent`, never `innerHTML`.
 */
export const REPORT_SCRIPT = `(function () {
  "use strict";
  function setOpen(id, open) {
    var el = document.getElementById(id);
    if (!el) return;
    el.hidden = !open;
    document.querySelectorAll("[aria-controls]").forEach(function (b) {
      if (b.getAttribute("aria-controls") === id) b.setAttribute("aria-expanded", String(open));
    });
    if (open && el.classList.contains("panel")) el.scrollIntoView({ block: "nearest" });
  }
  function toggle(control) {
    var id = control.getAttribute("aria-controls");
    if (id) setOpen(id, control.getAttribute("aria-expanded") !== "true");
  }
  function filter(button) {
    var pressed = button.getAttribute("aria-pressed") !== "true";
    button.setAttribute("aria-pressed", String(pressed));
    var sev = button.getAttribute("data-filter");
    document.querySelectorAll("#findings .finding.f-" + sev).forEach(function (f) { f.hidden = !pressed; });
  }
  function download() {
    var data = document.getElementById("nd-diagnosis");
    if (!data) return;
    var blob = new Blob([data.textContent || ""], { type: "application/json" });
    var a = document.createElement("a");
    a.href = URL.createObjectURL(blob);
    a.download = "netdoctor-diagnosis.json";
    document.body.appendChild(a);
    a.click();
    a.remove();
  }
  document.addEventListener("click", function (ev) {
    var t = ev.target;
    if (!(t instanceof Element)) return;
    var f = t.closest("[data-filter]");
    if (f) return filter(f);
    if (t.closest("[data-download]")) return download();
    var c = t.closest("[aria-controls]");
    if (c) toggle(c);
  });
  document.addEventListener("keydown", function (ev) {
    var t = ev.target;
    if (!(t instanceof Element) || !(t instanceof SVGElement) || t.getAttribute("role") !== "button") return;
    if (ev.key === "Enter" || ev.key === " ") {
      ev.preventDefault();
      toggle(t);
    }
  });
  var broken = document.querySelector("#path-diagram [data-broken=true][aria-controls]");
  if (broken && location.hash === "#broken") setOpen(broken.getAttribute("aria-controls"), true);
  document.documentElement.setAttribute("data-ready", "true");
})();
`;
