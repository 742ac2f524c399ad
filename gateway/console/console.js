// The alerts page kept live from the alert stream (GET /ui/watch: GET /alerts/watch with the
// console's login), and the silence form's preview of the alerts its matchers would silence, asked
// of GET /ui/silences/preview as the matchers are typed. Everything built here is built with
// textContent only (label values and annotations never become markup); a grouped list is the
// server's own rendering, escaped there, fetched again.
"use strict";
// How long ago, as the server writes it ("45s", "12m", "3h5m", "2d4h").
function age(ms) {
  let s = Math.max(0, Math.floor((Date.now() - ms) / 1000));
  if (s < 60) return s + "s";
  let m = Math.floor(s / 60);
  if (m < 60) return m + "m";
  const h = Math.floor(m / 60);
  m = m % 60;
  if (h < 24) return h + "h" + (m ? m + "m" : "");
  return Math.floor(h / 24) + "d" + (h % 24 ? (h % 24) + "h" : "");
}

// The alert stream for the listed filter; `changed(type, alert)` for every change of an alert.
function watch(filter, status, changed) {
  const EVENTS = ["snapshot", "created", "state_changed", "value_changed", "resolved",
    "acknowledged", "unacknowledged", "updated", "removed"];
  const params = new URLSearchParams();
  if (filter) params.set("filter", filter);
  const source = new EventSource("/ui/watch" + (filter ? "?" + params.toString() : ""));
  EVENTS.forEach((type) => source.addEventListener(type, (e) => changed(type, JSON.parse(e.data).alert)));
  source.addEventListener("open", () => { status.textContent = "Live"; });
  source.addEventListener("error", (e) => {
    if (e.data) {
      status.textContent = "Stream refused: " + JSON.parse(e.data).error.message;
      source.close();
    } else {
      status.textContent = "Reconnecting…";
    }
  });
  setInterval(() => {
    document.querySelectorAll("tr[data-fingerprint]").forEach((r) => {
      const since = Number(r.dataset.since);
      const c = r.querySelector(".age");
      if (since && c) c.textContent = age(since);
    });
  }, 5000);
}

// Ungrouped: each row kept live from the stream.
(function () {
  const body = document.getElementById("alerts-body");
  const status = document.getElementById("live-status");
  if (!body || !status) return;
  const STATE_RANK = { firing: 0, pending: 1, resolved: 2 };

  function cell(label, text) {
    const td = document.createElement("td");
    td.dataset.label = label;
    if (text !== undefined) td.textContent = text;
    return td;
  }

  function mark(parent, kind, text) {
    const span = document.createElement("span");
    span.className = "mark mark-" + kind;
    span.textContent = text;
    parent.appendChild(span);
  }

  function row(alert) {
    const labels = alert.labels || {};
    const tr = document.createElement("tr");
    tr.dataset.fingerprint = alert.fingerprint;
    tr.dataset.state = alert.state;
    tr.dataset.since = String(alert.started_at || 0);
    const name = cell("Alert");
    const link = document.createElement("a");
    link.href = "/ui/alerts/" + encodeURIComponent(alert.fingerprint);
    const strong = document.createElement("strong");
    strong.textContent = labels.alertname || alert.fingerprint;
    link.appendChild(strong);
    name.appendChild(link);
    const rest = Object.keys(labels).filter((k) => k !== "alertname").sort()
      .map((k) => k + '="' + labels[k] + '"').join(", ");
    if (rest) {
      const small = document.createElement("div");
      small.className = "status";
      small.textContent = rest;
      name.appendChild(small);
    }
    tr.appendChild(name);
    const state = cell("State", alert.state);
    state.className = "state-" + alert.state;
    tr.appendChild(state);
    tr.appendChild(cell("Severity", labels.severity || ""));
    const ageCell = cell("Age", alert.started_at ? age(alert.started_at) : "");
    ageCell.className = "age";
    tr.appendChild(ageCell);
    tr.appendChild(cell("Value", alert.value === undefined ? "" : String(alert.value)));
    const marks = cell("Markers");
    if ((alert.silenced_by || []).length) mark(marks, "silenced", "silenced");
    if ((alert.inhibited_by || []).length) mark(marks, "inhibited", "inhibited");
    if ((alert.muted_by || []).length) mark(marks, "muted", "muted");
    if (alert.acknowledged) {
      mark(marks, "acknowledged", "acknowledged by " + ((alert.ack && alert.ack.by) || "?"));
      if (alert.ack && alert.ack.at) {
        const when = document.createElement("span");
        when.className = "status ack-when";
        when.textContent = age(alert.ack.at) + " ago";
        marks.appendChild(when);
      }
    }
    if (alert.escalation_level) mark(marks, "escalation", "escalation level " + alert.escalation_level);
    tr.appendChild(marks);
    return tr;
  }

  function order() {
    const rows = Array.from(body.querySelectorAll("tr[data-fingerprint]"));
    rows.sort((a, b) => (STATE_RANK[a.dataset.state] ?? 3) - (STATE_RANK[b.dataset.state] ?? 3)
      || Number(b.dataset.since) - Number(a.dataset.since));
    rows.forEach((r) => body.appendChild(r));
    const empty = document.getElementById("alerts-empty");
    if (empty) empty.hidden = rows.length > 0;
  }

  function find(fingerprint) {
    return Array.from(body.querySelectorAll("tr[data-fingerprint]"))
      .find((r) => r.dataset.fingerprint === fingerprint);
  }

  watch(body.dataset.filter, status, (type, alert) => {
    const old = find(alert.fingerprint);
    if (type === "removed") {
      if (old) old.remove();
    } else {
      const fresh = row(alert);
      if (old) old.replaceWith(fresh); else body.appendChild(fresh);
    }
    order();
  });
})();

// Grouped (by a label, or as the routing tree groups them): the list asked of the server again
// after changes, a burst of them at once.
(function () {
  const list = document.getElementById("alerts-list");
  const status = document.getElementById("live-status");
  if (!list || !status || !list.dataset.group) return;
  const query = new URLSearchParams({ group: list.dataset.group, part: "list" });
  if (list.dataset.filter) query.set("filter", list.dataset.filter);
  let timer = 0;

  async function refresh() {
    timer = 0;
    const response = await fetch("/ui/?" + query.toString(), { credentials: "same-origin" });
    if (!response.ok) {
      status.textContent = "Refresh refused (" + response.status + ")";
      return;
    }
    const template = document.createElement("template");
    template.innerHTML = await response.text();
    const fresh = template.content.firstElementChild;
    const current = document.getElementById("alerts-list");
    if (fresh && current) current.replaceWith(fresh);
    const empty = document.getElementById("alerts-empty");
    if (empty) empty.hidden = document.querySelectorAll("tr[data-fingerprint]").length > 0;
  }

  watch(list.dataset.filter, status, () => {
    if (!timer) timer = setTimeout(refresh, 100);
  });
})();

(function () {
  const matchers = document.getElementById("matchers");
  const status = document.getElementById("preview-status");
  const list = document.getElementById("preview-list");
  const more = document.getElementById("preview-more");
  if (!matchers || !status || !list || !more || !matchers.dataset.preview) return;
  let timer = 0;
  let asked = 0;

  function item(alert) {
    const labels = alert.labels || {};
    const li = document.createElement("li");
    li.dataset.fingerprint = alert.fingerprint;
    const link = document.createElement("a");
    link.href = "/ui/alerts/" + encodeURIComponent(alert.fingerprint);
    const strong = document.createElement("strong");
    strong.textContent = labels.alertname || alert.fingerprint;
    link.appendChild(strong);
    li.appendChild(link);
    li.appendChild(document.createTextNode(" "));
    const state = document.createElement("span");
    state.className = "state-" + alert.state;
    state.textContent = alert.state;
    li.appendChild(state);
    const small = document.createElement("div");
    small.className = "status";
    small.textContent = Object.keys(labels).sort().map((k) => k + '="' + labels[k] + '"').join(", ");
    li.appendChild(small);
    return li;
  }

  async function update() {
    const lines = matchers.value.split("\n").map((l) => l.trim()).filter((l) => l);
    const mine = ++asked;
    if (!lines.length) {
      list.replaceChildren();
      more.hidden = true;
      status.textContent = "Type a matcher to see the alerts it would silence.";
      return;
    }
    const params = new URLSearchParams();
    lines.forEach((l) => params.append("matchers", l));
    let answer;
    try {
      const response = await fetch(matchers.dataset.preview + "?" + params.toString(),
        { headers: { accept: "application/json" } });
      answer = await response.json();
    } catch (e) {
      if (mine === asked) status.textContent = "Preview unavailable.";
      return;
    }
    if (mine !== asked) return; // a later edit's answer is on its way
    if (answer.error) {
      list.replaceChildren();
      more.hidden = true;
      status.textContent = "Preview refused: " + answer.error.message;
      return;
    }
    list.replaceChildren(...answer.alerts.map(item));
    if (answer.errors.length) {
      status.textContent = "Not a valid matcher: " + answer.errors.join("; ");
    } else {
      status.textContent = answer.total + (answer.total === 1 ? " alert" : " alerts") + " would be silenced now.";
    }
    more.hidden = answer.total <= answer.alerts.length;
    more.textContent = more.hidden ? "" : "and " + (answer.total - answer.alerts.length) + " more";
  }

  matchers.addEventListener("input", () => {
    clearTimeout(timer);
    timer = setTimeout(update, 250);
  });
})();
