// live.js — the En vivo page. It listens to /api/v1/live (Server-Sent
// Events) and keeps the table of ringing calls, the lamp and the alarm up
// to date; when a call is answered or ends it re-reads today's counters and
// the last ended calls from /envivo/resumen, so the figures are always the
// server's (never counted twice here). Text is set with textContent only.
"use strict";

(function () {
  var table = document.getElementById("ringing");
  if (!table || !window.EventSource) {
    return;
  }
  var tbody = table.tBodies[0];
  var empty = document.getElementById("ringing-empty");
  var status = document.getElementById("live-status");
  var maxRings = parseInt(table.getAttribute("data-max-rings"), 10) || 4;
  var clock = timeFormatter(table.getAttribute("data-zone"));
  var directions = { inbound: "Entrante", outbound: "Saliente", internal: "Interna", unknown: "Desconocida" };
  var lamps = { ok: "En servicio", no_sip: "Sin tráfico SIP", fault: "Falla" };
  var alarms = { off: "Sin alarma", warning: "Aviso: llamada cerca del límite", alarm: "Alarma: llamada pasó el límite" };

  // timeFormatter shows HH:MM:SS in the daemon's zone (not the browser's).
  function timeFormatter(zone) {
    var opts = { hour: "2-digit", minute: "2-digit", second: "2-digit", hour12: false };
    try {
      if (zone) {
        return new Intl.DateTimeFormat("es-SV", Object.assign({ timeZone: zone }, opts));
      }
    } catch (e) {
      // An unknown zone name: fall back to the browser's zone.
    }
    return new Intl.DateTimeFormat("es-SV", opts);
  }

  function formatTime(s) {
    var d = new Date(s);
    return isNaN(d.getTime()) ? "" : clock.format(d);
  }

  function findRow(id) {
    for (var i = 0; i < tbody.rows.length; i++) {
      if (tbody.rows[i].getAttribute("data-id") === id) {
        return tbody.rows[i];
      }
    }
    return null;
  }

  function cell(row, cls) {
    var td = document.createElement("td");
    td.className = cls;
    row.appendChild(td);
    return td;
  }

  function updateEmpty() {
    empty.hidden = tbody.rows.length > 0;
  }

  // upsert adds or updates the row of a call event.
  function upsert(ev) {
    if (!ev || !ev.id) {
      return;
    }
    var row = findRow(ev.id);
    if (!row) {
      row = document.createElement("tr");
      row.setAttribute("data-id", ev.id);
      ["at", "from", "to", "operator", "direction", "rings num"].forEach(function (c) { cell(row, c); });
      tbody.appendChild(row);
    }
    var c = row.cells;
    c[0].textContent = formatTime(ev.ringing_at || ev.at);
    c[1].textContent = ev.from || "";
    c[2].textContent = ev.to || "";
    c[3].textContent = ev.operator || "";
    c[4].textContent = directions[ev.direction] || ev.direction || "";
    var rings = parseInt(ev.rings, 10) || 0;
    c[5].textContent = String(rings);
    row.classList.toggle("over", rings > maxRings);
    updateEmpty();
  }

  function remove(ev) {
    var row = ev && ev.id ? findRow(ev.id) : null;
    if (row) {
      row.remove();
    }
    updateEmpty();
  }

  function setState(id, state, labels) {
    var el = document.getElementById(id);
    if (!el || !state) {
      return;
    }
    el.setAttribute("data-state", state);
    var label = el.querySelector("." + id + "-label");
    if (label) {
      label.textContent = labels[state] || state;
    }
  }

  function setLamp(d) {
    if (d) {
      setState("lamp", d.lamp, lamps);
      setState("alarm", d.alarm, alarms);
    }
  }

  function setConnected(on) {
    status.setAttribute("data-connected", on ? "true" : "false");
    status.querySelector(".conn-label").textContent = on ? "Conectado en vivo" : "Sin conexión; reintentando…";
  }

  // refreshSummary re-reads the counters and the recent calls, at most
  // once per half second however many calls end together.
  var pending = null;
  function refreshSummary() {
    if (pending) {
      return;
    }
    pending = setTimeout(function () {
      pending = null;
      fetch("/envivo/resumen", { credentials: "same-origin", headers: { Accept: "application/json" } })
        .then(function (r) {
          if (!r.ok) {
            throw new Error("HTTP " + r.status);
          }
          return r.json();
        })
        .then(applySummary)
        .catch(function () { /* the next event tries again */ });
    }, 500);
  }

  function applySummary(s) {
    var n = s.counters || {};
    document.getElementById("count-offered").textContent = String(n.offered || 0);
    document.getElementById("count-within").textContent = String(n.within_limit || 0);
    document.getElementById("count-abandoned").textContent = String(n.abandoned || 0);
    document.getElementById("count-transferred").textContent = String(n.transferred || 0);
    var recent = document.getElementById("recent").tBodies[0];
    while (recent.rows.length) {
      recent.deleteRow(0);
    }
    (s.recent || []).forEach(function (c) {
      var row = document.createElement("tr");
      row.setAttribute("data-id", c.id);
      if (c.over) {
        row.className = "over";
      }
      [c.at, c.from, c.to, c.operator].forEach(function (v) { cell(row, "").textContent = v || ""; });
      cell(row, "num").textContent = String(c.rings);
      cell(row, "").textContent = c.result || "";
      var a = document.createElement("a");
      a.href = "/llamadas/" + encodeURIComponent(c.id);
      a.textContent = "Ver";
      cell(row, "").appendChild(a);
      recent.appendChild(row);
    });
    document.getElementById("recent-empty").hidden = (s.recent || []).length > 0;
  }

  function parse(e) {
    try {
      return JSON.parse(e.data);
    } catch (err) {
      return null;
    }
  }

  var es = new EventSource("/api/v1/live");
  es.onopen = function () { setConnected(true); };
  // EventSource reconnects by itself; the snapshot then resets the table.
  es.onerror = function () { setConnected(false); };
  es.addEventListener("snapshot", function (e) {
    var d = parse(e) || {};
    while (tbody.rows.length) {
      tbody.deleteRow(0);
    }
    (d.calls || d.ringing || []).forEach(upsert);
    setLamp(d);
    updateEmpty();
    setConnected(true);
    refreshSummary();
  });
  ["offered", "ringing", "rings"].forEach(function (k) {
    es.addEventListener(k, function (e) { upsert(parse(e)); });
  });
  ["answered", "ended"].forEach(function (k) {
    es.addEventListener(k, function (e) {
      remove(parse(e));
      refreshSummary();
    });
  });
  es.addEventListener("lamp", function (e) { setLamp(parse(e)); });
})();
