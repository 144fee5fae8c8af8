// tracegrad serve: the pages' behaviour. No inline script anywhere: this file and KaTeX are all.
// A page's form is "live": each edit (debounced) posts the form as JSON to the page's fragment
// endpoint and puts the returned HTML in the output; math in <span class="tex"> is typeset by KaTeX.
"use strict";

(function () {
  const DEBOUNCE_MS = 300;
  const page = document.body.dataset.page;
  const storageKey = "tracegrad:" + page;

  // --- math -------------------------------------------------------------------------------
  function typeset(root) {
    root.querySelectorAll("span.tex").forEach(function (el) {
      if (el.dataset.typeset) return;
      const source = el.textContent;
      el.dataset.typeset = "1";
      katex.render(source, el, {
        displayMode: el.classList.contains("display"),
        throwOnError: false,
        strict: "ignore",
        trust: false,
      });
    });
  }

  window.tracegradTypeset = typeset; // for the classroom pages' script (classroom.js)

  // --- the request body of a form -----------------------------------------------------------
  // Control names are the body's keys: problem, answers, expression, at, or options.NAME.
  // Disabled controls are not sent (as in an HTML form). The precision pair becomes
  // options.decimals or options.sig_figs.
  function body(form) {
    const out = { options: {} };
    let digits = null;
    let kind = "decimals";
    form.querySelectorAll("[name]").forEach(function (control) {
      if (control.matches(":disabled") || control.type === "file") return; // also inside a disabled fieldset
      const name = control.name;
      let value = control.type === "checkbox" ? control.checked : control.value;
      if (name === "precision.digits") { digits = value; return; }
      if (name === "precision.kind") { kind = value; return; }
      if (control.type === "number") {
        if (value === "") return;
        value = Number(value);
      }
      if (name.startsWith("options.")) out.options[name.slice(8)] = value;
      else out[name] = value;
    });
    if (digits !== null && digits !== "") out.options[kind] = Number(digits);
    return out;
  }

  // --- saving what was typed, across language switches and reloads ----------------------------
  function save(form) {
    const values = {};
    form.querySelectorAll("[name], select.source").forEach(function (control) {
      if (control.type !== "file" && control.type !== "hidden") values[control.name || "source"] = control.value;
    });
    try { sessionStorage.setItem(storageKey, JSON.stringify(values)); } catch (e) { /* storage off */ }
  }

  function restore(form) {
    let values = null;
    try { values = JSON.parse(sessionStorage.getItem(storageKey) || "null"); } catch (e) { values = null; }
    if (!values) return false;
    form.querySelectorAll("[name], select.source").forEach(function (control) {
      const key = control.name || "source";
      if (control.type !== "file" && control.type !== "hidden" && key in values) control.value = values[key];
    });
    return true;
  }

  // --- posting --------------------------------------------------------------------------------
  async function post(endpoint, payload) {
    const response = await fetch(endpoint, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(payload),
    });
    return response;
  }

  async function errorText(response) {
    try {
      const data = await response.json();
      return data.error || response.statusText;
    } catch (e) {
      return response.status + " " + response.statusText;
    }
  }

  function showError(form, message) {
    const box = form.querySelector(".error");
    box.textContent = message || "";
    box.hidden = !message;
    document.querySelector(form.dataset.target).classList.toggle("stale", Boolean(message));
  }

  function live(form) {
    const target = document.querySelector(form.dataset.target);
    let timer = null;
    let sent = 0;
    let shown = 0;

    async function refresh() {
      const number = ++sent;
      document.body.classList.add("working");
      try {
        const response = await post(form.dataset.fragment, body(form));
        if (number < shown) return; // a later request already answered
        shown = number;
        const refused = (response.headers.get("Content-Type") || "").startsWith("application/json");
        if (response.ok && !refused) {
          const open = Array.from(target.querySelectorAll("details[open]"), function (d) { return d.className; });
          target.innerHTML = await response.text(); // HTML rendered and escaped by the server
          target.querySelectorAll("details").forEach(function (d) { if (open.includes(d.className)) d.open = true; });
          typeset(target);
          showError(form, "");
        } else {
          showError(form, await errorText(response));
        }
      } catch (e) {
        showError(form, String(e));
      } finally {
        if (number === sent) document.body.classList.remove("working");
      }
    }

    function changed() {
      save(form);
      clearTimeout(timer);
      timer = setTimeout(refresh, DEBOUNCE_MS);
    }

    form.addEventListener("input", changed);
    form.addEventListener("change", changed);
    form.addEventListener("submit", function (event) { event.preventDefault(); });
    form.refresh = refresh;
    if (restore(form)) {
      showSource(form);
      refresh();
    }
  }

  // --- downloads ------------------------------------------------------------------------------
  async function download(button) {
    const form = button.closest("form");
    const payload = body(form);
    if (button.dataset.format) payload.options.format = button.dataset.format;
    if (button.dataset.endpoint === "/api/variants") delete payload.options.lang;
    const response = await post(button.dataset.endpoint, payload);
    if (!response.ok) {
      showError(form, await errorText(response));
      return;
    }
    const url = URL.createObjectURL(await response.blob());
    const link = document.createElement("a");
    link.href = url;
    link.download = button.dataset.filename;
    document.body.appendChild(link);
    link.click();
    link.remove();
    setTimeout(function () { URL.revokeObjectURL(url); }, 1000);
  }

  // --- filling an editor: an example, an uploaded file, a quantity's name ----------------------
  function fill(name, text) {
    const area = document.querySelector("form.live [name='" + name + "']");
    area.value = text;
    area.dispatchEvent(new Event("input", { bubbles: true }));
  }

  function insertName(button) {
    const area = document.querySelector("form.live [name='answers']");
    const name = button.dataset.name;
    const key = /^[A-Za-z0-9_-]+$/.test(name) ? name : JSON.stringify(name);
    let text = area.value;
    if (!/\[answers\]/.test(text)) text = (text ? text.replace(/\s*$/, "\n") : "") + "[answers]\n";
    area.value = text.replace(/\s*$/, "\n") + key + " = ";
    area.focus();
    area.setSelectionRange(area.value.length, area.value.length);
    area.dispatchEvent(new Event("input", { bubbles: true }));
  }

  // --- the Graph page: problem or expression ---------------------------------------------------
  function showSource(form) {
    const choice = form.querySelector("select.source");
    if (!choice) return;
    form.querySelectorAll("fieldset[data-source]").forEach(function (set) {
      const on = set.dataset.source === choice.value;
      set.disabled = !on;
      set.hidden = !on;
    });
  }

  // --- tooltips (Graph page) -------------------------------------------------------------------
  const tooltip = document.getElementById("tooltip");

  function showTip(el, event) {
    tooltip.textContent = el.dataset.tip;
    tooltip.hidden = false;
    moveTip(event);
    el.classList.add("hover");
  }

  function moveTip(event) {
    tooltip.style.left = Math.min(event.pageX + 14, window.scrollX + window.innerWidth - tooltip.offsetWidth - 8) + "px";
    tooltip.style.top = event.pageY + 14 + "px";
  }

  document.addEventListener("mouseover", function (event) {
    const el = event.target.closest("[data-tip]");
    if (el) showTip(el, event);
  });
  document.addEventListener("mousemove", function (event) {
    if (!tooltip.hidden) moveTip(event);
  });
  document.addEventListener("mouseout", function (event) {
    const el = event.target.closest("[data-tip]");
    if (el && !el.contains(event.relatedTarget)) {
      tooltip.hidden = true;
      el.classList.remove("hover");
    }
  });

  // --- wiring -----------------------------------------------------------------------------------
  document.addEventListener("click", function (event) {
    const button = event.target.closest("button.download");
    if (button) { download(button); return; }
    const name = event.target.closest("button.insert-name");
    if (name) insertName(name);
  });

  document.addEventListener("change", function (event) {
    const el = event.target;
    if (el.matches("select.example") && el.value) {
      fill(el.dataset.fill, el.selectedOptions[0].dataset.text);
      el.value = "";
    } else if (el.matches("input.upload") && el.files.length) {
      el.files[0].text().then(function (text) { fill(el.dataset.fill, text); el.value = ""; });
    } else if (el.matches("select.source")) {
      showSource(el.closest("form"));
    }
  });

  document.addEventListener("DOMContentLoaded", function () {
    typeset(document.body);
    document.querySelectorAll("form.live").forEach(live);
  });
})();
