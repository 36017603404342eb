// eval.js — the procedure's forms (Evaluación, Informe, Mis evaluaciones).
//
// On the Evaluación page the draft saves itself as it is typed: every
// change schedules a PUT of the whole form's answers to the form's
// data-draft-url (/api/v1/months/{m}/evaluations/{id}/draft) about 800 ms
// after the last keystroke, and at once when a field loses the focus;
// #save-state says "Sin guardar", "Guardando…", "Guardado hh:mm:ss" or the
// error, with data-state dirty / saving / saved / error. Without this
// script the form still works: its "Guardar borrador" button posts it.
//
// Also: "Marcar momento" buttons (button.mark[data-for]) copy the player's
// current time into their point's moment field; buttons with data-seek
// move the player there; buttons and forms with data-confirm ask first.
"use strict";

(function () {
  var player = document.getElementById("player");
  marks();
  seeks();
  confirms();
  var form = document.getElementById("eval-form");
  if (form && form.getAttribute("data-draft-url")) {
    autosave(form);
  }

  // marks wires the "Marcar momento" buttons: hidden without a player.
  function marks() {
    var buttons = document.querySelectorAll("button.mark[data-for]");
    Array.prototype.forEach.call(buttons, function (b) {
      var input = document.getElementById(b.getAttribute("data-for"));
      if (!player || !input) {
        return;
      }
      b.hidden = false;
      b.addEventListener("click", function () {
        input.value = decimal(player.currentTime);
        input.dispatchEvent(new Event("input", { bubbles: true }));
        input.dispatchEvent(new Event("change", { bubbles: true }));
      });
    });
  }

  // seeks wires the moments shown with an evaluation's answers.
  function seeks() {
    var buttons = document.querySelectorAll("button[data-seek]");
    Array.prototype.forEach.call(buttons, function (b) {
      if (!player) {
        b.disabled = true;
        return;
      }
      b.addEventListener("click", function () {
        var t = parseFloat(b.getAttribute("data-seek"));
        if (isFinite(t) && t >= 0) {
          player.currentTime = t;
          player.focus();
        }
      });
    });
  }

  // confirms asks before the steps that cannot be undone. The message is
  // the button's data-confirm (the button that submitted the form).
  function confirms() {
    var buttons = document.querySelectorAll("button[data-confirm]");
    Array.prototype.forEach.call(buttons, function (b) {
      b.addEventListener("click", function (e) {
        if (!window.confirm(b.getAttribute("data-confirm"))) {
          e.preventDefault();
        }
      });
    });
  }

  // decimal writes seconds with one decimal and a decimal comma, as the
  // server writes them.
  function decimal(sec) {
    return (Math.round(sec * 10) / 10).toFixed(1).replace(".", ",");
  }

  function pad(n) {
    return (n < 10 ? "0" : "") + n;
  }

  function autosave(form) {
    var url = form.getAttribute("data-draft-url");
    var state = document.getElementById("save-state");
    var delay = parseInt(form.getAttribute("data-debounce"), 10) || 800;
    var timer = 0;
    var dirty = false;
    var saving = false;
    var submitted = false;

    function show(code, text) {
      if (!state) {
        return;
      }
      state.setAttribute("data-state", code);
      state.textContent = text;
      state.className = "save-state" + (code === "error" ? " state-bad" : code === "saved" ? " state-ok" : "");
    }

    // answers reads the form: every point, its verdict (the measured one
    // for inmediatez, which the server keeps whatever is sent), its
    // observation and its moment. A moment that is not a number is an
    // error shown on the field, and nothing is sent until it is fixed.
    function answers() {
      var out = [];
      var bad = null;
      var points = form.querySelectorAll("fieldset.point[data-point]");
      Array.prototype.forEach.call(points, function (fs) {
        var a = { point: fs.getAttribute("data-point"), verdict: "", observation: "" };
        var checked = fs.querySelector("input[type=radio]:checked");
        var measured = fs.querySelector("[data-verdict]");
        if (checked) {
          a.verdict = checked.value;
        } else if (measured) {
          a.verdict = measured.getAttribute("data-verdict");
        }
        var obs = fs.querySelector("textarea");
        if (obs) {
          a.observation = obs.value;
        }
        var at = fs.querySelector("input[data-moment]");
        if (at) {
          var raw = at.value.trim();
          if (raw !== "") {
            var v = Number(raw.replace(",", "."));
            if (!isFinite(v) || v < 0) {
              at.setAttribute("aria-invalid", "true");
              bad = bad || at;
            } else {
              at.removeAttribute("aria-invalid");
              a.at_seconds = v;
            }
          } else {
            at.removeAttribute("aria-invalid");
          }
        }
        out.push(a);
      });
      return { answers: out, bad: bad };
    }

    function changed() {
      if (submitted) {
        return;
      }
      dirty = true;
      show("dirty", "Sin guardar");
      clearTimeout(timer);
      timer = setTimeout(save, delay);
    }

    function save() {
      clearTimeout(timer);
      timer = 0;
      if (!dirty || saving || submitted) {
        return;
      }
      var a = answers();
      if (a.bad) {
        var legend = a.bad.closest("fieldset").querySelector("legend");
        show("error", "Sin guardar: el momento de «" + (legend ? legend.textContent : "") + "» debe ser un número de segundos (por ejemplo 12,5).");
        return;
      }
      dirty = false;
      saving = true;
      show("saving", "Guardando…");
      fetch(url, {
        method: "PUT",
        credentials: "same-origin",
        headers: { "Content-Type": "application/json", Accept: "application/json" },
        body: JSON.stringify({ answers: a.answers })
      })
        .then(function (r) {
          if (!r.ok) {
            return r.json().catch(function () { return {}; }).then(function (b) {
              throw new Error(b.error || "HTTP " + r.status);
            });
          }
          return r.json();
        })
        .then(function () {
          saving = false;
          if (dirty) {
            show("dirty", "Sin guardar");
            save();
            return;
          }
          var d = new Date();
          show("saved", "Guardado " + pad(d.getHours()) + ":" + pad(d.getMinutes()) + ":" + pad(d.getSeconds()));
        })
        .catch(function (err) {
          saving = false;
          dirty = true;
          show("error", "No se pudo guardar: " + String(err && err.message ? err.message : err) + ". Use «Guardar borrador».");
        });
    }

    form.addEventListener("input", changed);
    form.addEventListener("change", changed);
    form.addEventListener("focusout", function () {
      if (dirty) {
        save();
      }
    });
    form.addEventListener("submit", function () {
      // The posted form carries every answer: the server saves them
      // before it submits.
      submitted = true;
      clearTimeout(timer);
    });
    // Leaving with unsaved changes: one last save that outlives the page.
    window.addEventListener("pagehide", function () {
      if (!dirty || submitted) {
        return;
      }
      var a = answers();
      if (a.bad) {
        return;
      }
      fetch(url, {
        method: "PUT",
        credentials: "same-origin",
        keepalive: true,
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ answers: a.answers })
      });
    });
    if (state && state.getAttribute("data-state") === "") {
      show("idle", "Los cambios se guardan solos mientras escribe.");
    }
  }
})();
