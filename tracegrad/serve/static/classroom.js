// tracegrad serve: the classroom pages' behaviour (the student's page, the teacher's sign-in and page).
// The answer boxes are in the page as served; this script only checks what is typed, sends it as JSON,
// and writes the verdicts the server allows beside each box, as text (never as HTML).
"use strict";

(function () {
  const main = document.getElementById("main");
  const words = main && main.dataset.words ? JSON.parse(main.dataset.words) : {};
  const lang = (main && main.dataset.lang) || document.body.dataset.lang || "en";

  function element(tag, className, text) {
    const el = document.createElement(tag);
    if (className) el.className = className;
    if (text !== undefined && text !== null) el.textContent = text;
    return el;
  }

  function tex(latex) {
    return element("span", "tex", latex);
  }

  function typeset(root) {
    if (window.tracegradTypeset && typeof katex !== "undefined") window.tracegradTypeset(root);
  }

  function fill(template, values) {
    return template.replace(/\{(\w+)\}/g, function (whole, name) { return name in values ? values[name] : whole; });
  }

  async function postJSON(url, payload) {
    const response = await fetch(url, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(payload),
      credentials: "same-origin",
    });
    let data = null;
    try { data = await response.json(); } catch (e) { data = null; }
    return { ok: response.ok, status: response.status, data: data };
  }

  function showError(el, message) {
    if (!el) return;
    el.textContent = message || "";
    el.hidden = !message;
  }

  // --- numbers as typed: the server's rule (a decimal comma, a minus sign, full-width digits) ---------
  function normalised(text) {
    return text.normalize("NFKC").trim().replace(/[\u2212\uff0d]/g, "-");
  }

  function isNumber(text) {
    let t = normalised(text);
    if (t === "") return true;
    if (t.indexOf(",") >= 0 && t.indexOf(".") < 0 && t.split(",").length === 2) t = t.replace(",", ".");
    return t.length <= 40 && /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(t);
  }

  // --- the student's page ---------------------------------------------------------------------------
  function studentPage() {
    const identity = document.getElementById("identity");
    const nameBox = document.getElementById("student");
    const nameError = document.getElementById("student-error");
    const sheet = document.getElementById("sheet");
    const assignment = main.dataset.assignment;

    if (identity && identity.dataset.open) {
      identity.addEventListener("submit", function (event) {
        event.preventDefault();
        const name = nameBox.value.trim();
        if (!name) { showError(nameError, words.name_first); nameBox.focus(); return; }
        const query = new URLSearchParams({ student: name, lang: lang });
        window.location.search = "?" + query.toString();
      });
    } else if (identity) {
      identity.addEventListener("submit", function (event) { event.preventDefault(); });
    }
    if (!sheet) return;

    const inputs = Array.from(sheet.querySelectorAll(".box input"));
    const status = document.getElementById("status");
    const formError = sheet.querySelector(".form-error");
    const saved = sheet.querySelector(".saved");

    function storageKey() {
      return "tracegrad:a:" + assignment + ":" + nameBox.value.trim().toLowerCase().replace(/\s+/g, " ");
    }

    function typed() {
      const answers = {};
      inputs.forEach(function (input) { if (input.value.trim() !== "") answers[input.name] = input.value.trim(); });
      return answers;
    }

    function keep() {
      try { localStorage.setItem(storageKey(), JSON.stringify(typed())); } catch (e) { /* storage off */ }
      try { localStorage.setItem("tracegrad:student", nameBox.value); } catch (e) { /* storage off */ }
    }

    function fillEmpty(answers) {
      // what was kept fills the boxes still empty: nothing typed meanwhile is overwritten
      inputs.forEach(function (input) {
        if (answers && input.name in answers && input.value.trim() === "") input.value = answers[input.name];
      });
    }

    function same(a, b) {
      const keys = Object.keys(a);
      return keys.length === Object.keys(b).length && keys.every(function (k) { return a[k] === b[k]; });
    }

    function kept() {
      try { return JSON.parse(localStorage.getItem(storageKey()) || "null"); } catch (e) { return null; }
    }

    function boxOf(input) { return input.closest(".box"); }

    function verdictArea(input) { return boxOf(input).querySelector(".box-verdict"); }

    function clearVerdict(input) {
      const box = boxOf(input);
      box.className = "box";
      input.removeAttribute("aria-invalid");
      verdictArea(input).textContent = "";
    }

    function validate(input) {
      if (isNumber(input.value)) {
        if (boxOf(input).classList.contains("not-number")) clearVerdict(input);
        return true;
      }
      const box = boxOf(input);
      box.className = "box not-number";
      input.setAttribute("aria-invalid", "true");
      const area = verdictArea(input);
      area.textContent = "";
      area.appendChild(element("p", "field-error", words.not_number));
      return false;
    }

    function showBox(data) {
      const input = inputs.find(function (i) { return i.name === data.key; });
      if (!input) return;
      const box = boxOf(input);
      box.className = "box verdict-" + data.verdict;
      if (data.verdict === "wrong") input.setAttribute("aria-invalid", "true");
      else input.removeAttribute("aria-invalid");
      const area = verdictArea(input);
      area.textContent = "";
      const head = element("p", "verdict-line");
      head.appendChild(element("span", "badge", data.text));
      data.notes.forEach(function (note) { head.appendChild(document.createTextNode(" " + note)); });
      area.appendChild(head);
      data.mistakes.forEach(function (mistake) {
        const p = element("p", "mistake");
        p.appendChild(element("strong", "", words.likely + ": "));
        p.appendChild(document.createTextNode(mistake));
        area.appendChild(p);
      });
      if (data.also.length) {
        const details = element("details", "also");
        details.appendChild(element("summary", "", words.also));
        const list = element("ul");
        data.also.forEach(function (text) { list.appendChild(element("li", "", text)); });
        details.appendChild(list);
        area.appendChild(details);
      }
      if (data.formula) {
        const p = element("p", "hint-formula", words.formula + ": ");
        p.appendChild(tex(data.formula.latex));
        area.appendChild(p);
      }
      if (data.correct !== undefined) {
        area.appendChild(element("p", "correct", words.correct + ": " + data.correct));
      }
      if (data.worked) {
        const p = element("p", "worked", words.worked + ": ");
        p.appendChild(tex(data.worked.latex));
        area.appendChild(p);
      }
    }

    function showStatus(reply) {
      status.textContent = "";
      const counts = element("p", "counts");
      Object.keys(reply.counts).forEach(function (kind) {
        if (!reply.counts[kind] && kind === "imprecise") return;
        const item = element("span", "verdict-" + kind);
        item.appendChild(element("span", "badge", words.verdicts[kind]));
        item.appendChild(document.createTextNode(" " + reply.counts[kind]));
        counts.appendChild(item);
      });
      status.appendChild(counts);
      status.appendChild(element("p", "summary " + (reply.first ? "failed" : "passed"), reply.summary));
      const facts = [];
      if (reply.attempt) facts.push(fill(words.attempt, { n: reply.attempt }));
      if (reply.counted) facts.push(fill(words.counted, { given: reply.counted.given, maximum: reply.counted.maximum }));
      if (reply.attempts_left !== null && reply.attempts_left !== undefined) facts.push(fill(words.left, { n: reply.attempts_left }));
      if (facts.length) status.appendChild(element("p", "facts", facts.join(" ")));
      if (reply.first) {
        const index = inputs.findIndex(function (i) { return i.name === reply.first; });
        if (index >= 0) {
          const link = element("a", "first", words.go_first);
          link.href = "#" + boxOf(inputs[index]).id;
          link.addEventListener("click", function (event) {
            event.preventDefault();
            inputs[index].focus();
            boxOf(inputs[index]).scrollIntoView({ block: "center" });
          });
          const p = element("p");
          p.appendChild(link);
          status.appendChild(p);
        }
      }
      if (reply.revealed) {
        const link = element("a", "solution", words.solution);
        link.href = sheet.dataset.solution + "?" + new URLSearchParams({ student: nameBox.value.trim(), lang: lang });
        const p = element("p");
        p.appendChild(link);
        status.appendChild(p);
      }
      status.hidden = false;
    }

    function showReply(reply) {
      reply.boxes.forEach(showBox);
      showStatus(reply);
      typeset(sheet);
      scrollable();
    }

    function checkName() {
      if (nameBox.value.trim()) { showError(nameError, ""); return true; }
      showError(nameError, words.name_first);
      nameBox.focus();
      nameBox.scrollIntoView({ block: "center" });
      return false;
    }

    function showRefusal(result) {
      const message = (result.data && result.data.error) || words.network;
      const match = /^answers\.(.+?): (.*)$/.exec(message);
      const input = match && inputs.find(function (i) { return i.name === match[1]; });
      if (input) {
        const area = verdictArea(input);
        area.textContent = "";
        area.appendChild(element("p", "field-error", match[2]));
        input.setAttribute("aria-invalid", "true");
        input.focus();
      } else if (/^student: /.test(message)) {
        showError(nameError, message.replace(/^student: /, ""));
        nameBox.focus();
      } else {
        showError(formError, message);
      }
    }

    async function check(event) {
      event.preventDefault();
      showError(formError, "");
      if (!checkName()) return;
      const bad = inputs.filter(function (input) { return !validate(input); });
      if (bad.length) { showError(formError, words.fix_boxes); bad[0].focus(); return; }
      keep();
      document.body.classList.add("working");
      try {
        const result = await postJSON(sheet.dataset.check, { student: nameBox.value.trim(), answers: typed(), lang: lang });
        if (result.ok) {
          inputs.forEach(clearVerdict);
          showReply(result.data);
          status.focus();
        } else {
          showRefusal(result);
        }
      } catch (e) {
        showError(formError, words.network);
      } finally {
        document.body.classList.remove("working");
      }
    }

    async function save() {
      showError(formError, "");
      if (!checkName()) return;
      keep();
      try {
        const result = await postJSON(sheet.dataset.save, { student: nameBox.value.trim(), answers: typed() });
        if (result.ok) saved.textContent = fill(words.saved, { time: new Date().toLocaleTimeString(lang) });
        else showRefusal(result);
      } catch (e) {
        showError(formError, words.network);
      }
    }

    async function resume() {
      const local = kept();
      if (local && Object.keys(local).length) fillEmpty(local);
      if (!nameBox.value.trim()) return;
      try {
        const result = await postJSON(sheet.dataset.resume, { student: nameBox.value.trim(), lang: lang });
        if (!result.ok || !result.data) return;
        fillEmpty(result.data.answers);
        if (result.data.check) {
          const reply = Object.assign({}, result.data.check, { attempts_left: result.data.attempts_left });
          if (same(typed(), result.data.answers)) showReply(reply);
        }
      } catch (e) { /* offline: what this browser kept is shown */ }
    }

    sheet.addEventListener("submit", check);
    sheet.querySelector("button.save").addEventListener("click", save);
    let timer = null;
    sheet.addEventListener("input", function (event) {
      if (!event.target.matches(".box input")) return;
      if (boxOf(event.target).classList.contains("not-number")) validate(event.target);
      clearTimeout(timer);
      timer = setTimeout(keep, 300);
    });
    sheet.addEventListener("focusout", function (event) {
      if (event.target.matches(".box input")) validate(event.target);
    });
    sheet.addEventListener("keydown", function (event) {
      // Enter (the phone keyboard's "next") moves to the next box in derivation order
      if (event.key !== "Enter" || !event.target.matches(".box input")) return;
      event.preventDefault();
      const next = inputs[inputs.indexOf(event.target) + 1];
      if (next) next.focus();
      else sheet.querySelector("button.primary").focus();
    });
    let current = nameBox.value.trim();
    nameBox.addEventListener("change", function () {
      showError(nameError, "");
      const name = nameBox.value.trim();
      if (current && name.toLowerCase() !== current.toLowerCase()) {
        // another student at this browser: their own answers, not the last one's
        inputs.forEach(function (input) { clearVerdict(input); input.value = ""; });
        status.hidden = true;
      }
      current = name;
      resume();
    });
    if (!nameBox.value) {
      try { nameBox.value = localStorage.getItem("tracegrad:student") || ""; } catch (e) { /* storage off */ }
      current = nameBox.value.trim();
    }
    resume();
  }

  // --- the teacher's pages ------------------------------------------------------------------------
  function teacherPages() {
    const signIn = document.getElementById("sign-in");
    if (signIn) {
      signIn.addEventListener("submit", async function (event) {
        event.preventDefault();
        const error = document.getElementById("token-error");
        try {
          const result = await postJSON(signIn.dataset.action, { token: signIn.querySelector("input").value });
          if (result.ok) window.location.reload();
          else showError(error, (result.data && result.data.error) || String(result.status));
        } catch (e) {
          showError(error, String(e));
        }
      });
    }
    document.querySelectorAll("form.sign-out").forEach(function (form) {
      form.addEventListener("submit", async function (event) {
        event.preventDefault();
        await postJSON(form.dataset.action, {});
        window.location.reload();
      });
    });
    document.querySelectorAll("form.settings-form").forEach(function (form) {
      form.addEventListener("submit", async function (event) {
        event.preventDefault();
        const payload = {};
        form.querySelectorAll("[name]").forEach(function (control) {
          const value = control.value.trim();
          payload[control.name] = value === "" ? null : control.type === "number" ? Number(value) : value;
        });
        const result = await postJSON(form.dataset.action, payload);
        if (result.ok) window.location.reload();
        else showError(form.querySelector(".field-error"), (result.data && result.data.error) || String(result.status));
      });
    });
  }

  // --- a box that scrolls on its own (a wide formula or table, the problem kept in view beside the
  // boxes) can be scrolled from the keyboard: it takes the focus while it scrolls -----------------------
  function scrollable() {
    main.querySelectorAll(".formula, .table-scroll, .split > .problem").forEach(function (box) {
      const scrolls = box.scrollWidth > box.clientWidth + 1 ||
        (box.scrollHeight > box.clientHeight + 1 && ["auto", "scroll"].includes(getComputedStyle(box).overflowY));
      if (scrolls) box.setAttribute("tabindex", "0");
      else if (box.getAttribute("tabindex") === "0") box.removeAttribute("tabindex");
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    if (!main) return;
    window.addEventListener("load", scrollable);
    window.addEventListener("resize", scrollable);
    if (document.fonts) document.fonts.ready.then(scrollable);
    if (main.classList.contains("homework")) studentPage();
    if (main.classList.contains("teacher")) teacherPages();
  });
})();
