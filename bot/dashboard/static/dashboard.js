// The dashboard page: fetches its numbers as JSON (data.json) and redraws in place every 30 s.
// Charts are SVG drawn on the server (bot.charts); one is fetched again only when it changed.
"use strict";
(function () {
  const REFRESH_MS = 30000;
  const token = new URLSearchParams(location.search).get("k") || "";
  const form = document.getElementById("filters");
  const drawn = {};
  let filled = false;

  function el(tag, text, cls) {
    const node = document.createElement(tag);
    if (text !== undefined && text !== null) node.textContent = String(text);
    if (cls) node.className = cls;
    return node;
  }
  function duration(seconds) {
    if (seconds === null || seconds === undefined) return "—";
    const m = Math.round(seconds / 60);
    if (m < 60) return m + "m";
    const h = m / 60;
    return h < 48 ? h.toFixed(h < 10 ? 1 : 0) + "h" : (h / 24).toFixed(1) + "d";
  }
  function setTile(name, value) {
    const tile = document.querySelector('[data-tile="' + name + '"] .value');
    if (tile) tile.textContent = value;
  }
  function url(path, extra) {
    const params = new URLSearchParams(extra || {});
    params.set("k", token);
    return path + "?" + params.toString();
  }
  function keyCell(row) {
    const td = el("td");
    if (row.permalink) {
      const a = el("a", row.key); a.href = row.permalink; a.rel = "noopener noreferrer"; a.target = "_blank"; a.title = "Slack thread";
      td.appendChild(a);
    } else td.appendChild(el("span", row.key));
    if (row.tracker_url) {
      const t = el("a", "issue"); t.href = row.tracker_url; t.rel = "noopener noreferrer"; t.target = "_blank"; t.className = "tracker";
      td.appendChild(document.createTextNode(" ")); td.appendChild(t);
    }
    return td;
  }
  function fillChoices(choices) {
    if (filled) return;
    for (const [name, values] of Object.entries(choices)) {
      const select = form.elements[name];
      if (!select) continue;
      for (const value of values) select.appendChild(new Option(String(value).replace(/_/g, " "), value));
    }
    filled = true;
  }
  function render(data) {
    const t = data.tiles;
    for (const s of ["critical", "high", "medium", "low"]) setTile("open-" + s, t.open_by_severity[s]);
    setTile("new-today", t.new_today);
    setTile("resolved-today", t.resolved_today);
    setTile("first-response", duration(t.median_first_response));
    setTile("resolution", duration(t.median_resolution));
    setTile("satisfaction", t.satisfaction === null ? "—" : t.satisfaction + "%");
    setTile("sla-breaches", t.sla_breaches);
    setTile("waiting", t.waiting);
    fillChoices(data.choices);
    const exit = document.getElementById("exit");
    document.getElementById("exit-section").hidden = !data.exit.length;
    exit.replaceChildren(...data.exit.map(function (c) {
      const li = el("li", c.text + " — " + c.now, c.met ? "met" : "unmet");
      li.dataset.met = String(c.met);
      return li;
    }));
    const problems = document.getElementById("problems");
    problems.replaceChildren(...data.problems.map(function (p) {
      const li = el("li");
      li.appendChild(el("strong", p.key)); li.appendChild(document.createTextNode(" " + p.title + " — "));
      li.appendChild(el("span", p.affected + " affected · " + p.status.replace(/_/g, " ")));
      return li;
    }));
    if (!data.problems.length) problems.replaceChildren(el("li", "Nobody affected yet."));
    const body = document.querySelector("#tickets tbody");
    body.replaceChildren(...data.tickets.rows.map(function (r) {
      const tr = el("tr");
      tr.appendChild(keyCell(r));
      tr.appendChild(el("td", r.title, "title"));
      const sev = el("td"); sev.appendChild(el("span", r.severity, "pill " + r.severity)); tr.appendChild(sev);
      tr.appendChild(el("td", r.status.replace(/_/g, " ")));
      tr.appendChild(el("td", r.category.replace(/_/g, " ")));
      tr.appendChild(el("td", r.assignee || "—"));
      tr.appendChild(el("td", r.affected));
      tr.appendChild(el("td", r.created_at.slice(0, 16).replace("T", " ")));
      return tr;
    }));
    const shown = data.tickets.rows.length;
    document.getElementById("ticket-count").textContent = "(" + (shown < data.tickets.total ? shown + " of " : "") + data.tickets.total + ")";
    for (const [name, print] of Object.entries(data.charts)) {
      if (drawn[name] === print) continue;
      fetch(url("/dashboard/chart/" + name + ".svg"), { credentials: "omit" }).then(function (r) {
        if (!r.ok) throw new Error("chart " + name + ": HTTP " + r.status);
        return r.text();
      }).then(function (svg) {
        const figure = document.querySelector('[data-chart="' + name + '"]');
        const doc = new DOMParser().parseFromString(svg, "image/svg+xml");
        figure.replaceChildren(document.importNode(doc.documentElement, true));
        drawn[name] = print;
      }).catch(function (e) { document.getElementById("status").textContent = String(e.message); });
    }
    document.getElementById("status").textContent = "Updated " + new Date(data.as_of).toLocaleTimeString() + " · " + t.open + " open · refreshes every 30 s";
    document.body.dataset.loaded = String(Date.now());
  }
  function load() {
    const filters = {};
    for (const [k, v] of new FormData(form).entries()) if (v) filters[k] = v;
    return fetch(url("/dashboard/data.json", filters), { credentials: "omit" }).then(function (r) {
      if (!r.ok) throw new Error(r.status === 403 ? "This link has expired or was revoked." : "HTTP " + r.status);
      return r.json();
    }).then(render).catch(function (e) { document.getElementById("status").textContent = String(e.message); });
  }
  let typing = null;
  form.addEventListener("change", load);
  form.addEventListener("input", function (e) {
    if (e.target.name !== "words") return;
    clearTimeout(typing); typing = setTimeout(load, 300);
  });
  form.addEventListener("submit", function (e) { e.preventDefault(); load(); });
  load();
  setInterval(load, REFRESH_MS);
})();
