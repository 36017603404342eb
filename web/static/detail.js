// detail.js — the call detail page: the SIP ladder's arrows open the raw
// message listed under the diagram, and the recording's waveform is drawn
// on the canvas from /api/v1/calls/{id}/peaks (top band: caller, left
// channel; bottom band: receptionist, right channel), with the answer and
// transfer markers placed, the speech segments (server-drawn SVG, in
// seconds) stretched to the player's length, a cursor following playback
// and a click seeking the player. The canvas gets data-drawn="true" once
// drawn, or data-error.
"use strict";

(function () {
  ladder();
  waveform();

  function ladder() {
    var msgs = document.querySelectorAll("svg#ladder g.msg");
    Array.prototype.forEach.call(msgs, function (g) {
      var raw = document.getElementById("raw-" + g.getAttribute("data-index"));
      if (!raw) {
        return;
      }
      function open() {
        raw.open = true;
        raw.scrollIntoView({ block: "nearest" });
      }
      g.addEventListener("click", open);
      g.addEventListener("keydown", function (e) {
        if (e.key === "Enter" || e.key === " ") {
          e.preventDefault();
          open();
        }
      });
      g.addEventListener("mouseenter", function () { raw.classList.add("active"); });
      g.addEventListener("mouseleave", function () { raw.classList.remove("active"); });
      raw.addEventListener("mouseenter", function () { g.classList.add("active"); });
      raw.addEventListener("mouseleave", function () { g.classList.remove("active"); });
    });
  }

  function waveform() {
    var canvas = document.getElementById("waveform");
    var audio = document.getElementById("player");
    if (!canvas || !audio) {
      return;
    }
    var cursor = document.getElementById("waveform-cursor");
    var markers = document.querySelectorAll("#waveform-markers [data-marker]");
    var speech = document.getElementById("speech-segments");
    var peaks = null;
    var duration = parseFloat(canvas.getAttribute("data-duration")) || 0;

    function length() {
      return isFinite(audio.duration) && audio.duration > 0 ? audio.duration : duration;
    }

    function draw() {
      var dpr = window.devicePixelRatio || 1;
      var w = Math.max(100, Math.round(canvas.clientWidth));
      var h = Math.max(40, Math.round(canvas.clientHeight));
      canvas.width = Math.round(w * dpr);
      canvas.height = Math.round(h * dpr);
      var ctx = canvas.getContext("2d");
      ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
      ctx.clearRect(0, 0, w, h);
      var band = h / 2;
      var colours = ["#1f3a5a", "#3d6b45"];
      [0, 1].forEach(function (ch) {
        var mid = band * ch + band / 2;
        ctx.fillStyle = "#c9ced6";
        ctx.fillRect(0, Math.round(mid), w, 1);
        var data = (peaks.channels && peaks.channels[ch]) || [];
        ctx.fillStyle = colours[ch];
        var step = w / Math.max(1, data.length);
        for (var i = 0; i < data.length; i++) {
          var lo = data[i][0] / 32768, hi = data[i][1] / 32768;
          var top = mid - hi * (band / 2 - 2), bottom = mid - lo * (band / 2 - 2);
          ctx.fillRect(i * step, top, Math.max(1, step - 0.2), Math.max(1, bottom - top));
        }
      });
      // Channel names at the right edge: the markers sit at the left.
      ctx.fillStyle = "#4d5661";
      ctx.font = "11px system-ui, sans-serif";
      ctx.textAlign = "right";
      ctx.fillText("Llamante", w - 4, 12);
      ctx.fillText("Recepcionista", w - 4, band + 12);
      place();
      canvas.setAttribute("data-drawn", "true");
    }

    // place positions the markers (seconds after the answer, where the
    // recording starts) and the cursor, as percentages of the width.
    function place() {
      var d = length();
      // The speech segments are in seconds: the SVG spans the player's
      // length, as the markers do.
      if (speech && d > 0) {
        speech.setAttribute("viewBox", "0 0 " + d + " 2");
      }
      Array.prototype.forEach.call(markers, function (m) {
        var t = parseFloat(m.getAttribute("data-offset"));
        m.hidden = !(d > 0) || !(t >= 0) || t > d;
        if (!m.hidden) {
          m.style.left = (100 * t / d) + "%";
        }
      });
      moveCursor();
    }

    function moveCursor() {
      var d = length();
      cursor.style.left = (d > 0 ? Math.min(100, 100 * audio.currentTime / d) : 0) + "%";
    }

    function fail(msg) {
      canvas.setAttribute("data-error", msg);
      var p = document.createElement("p");
      p.className = "error";
      p.textContent = "No se pudo dibujar la forma de onda: " + msg;
      canvas.parentNode.insertAdjacentElement("afterend", p);
    }

    var n = Math.min(4000, Math.max(16, Math.round(canvas.clientWidth) || 800));
    fetch(canvas.getAttribute("data-peaks") + "?n=" + n, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) {
        if (!r.ok) {
          return r.json().catch(function () { return {}; }).then(function (b) {
            throw new Error(b.error || "HTTP " + r.status);
          });
        }
        return r.json();
      })
      .then(function (p) {
        peaks = p;
        if (p.duration_seconds > 0) {
          duration = p.duration_seconds;
        }
        draw();
      })
      .catch(function (err) { fail(String(err && err.message ? err.message : err)); });

    canvas.addEventListener("click", function (e) {
      var d = length();
      var r = canvas.getBoundingClientRect();
      if (d > 0 && r.width > 0) {
        audio.currentTime = Math.max(0, Math.min(d, d * (e.clientX - r.left) / r.width));
        moveCursor();
      }
    });
    audio.addEventListener("timeupdate", moveCursor);
    audio.addEventListener("seeked", moveCursor);
    audio.addEventListener("loadedmetadata", place);
    var frame = 0;
    function follow() {
      moveCursor();
      frame = audio.paused ? 0 : requestAnimationFrame(follow);
    }
    audio.addEventListener("play", function () {
      if (!frame) {
        frame = requestAnimationFrame(follow);
      }
    });
    var resize = 0;
    window.addEventListener("resize", function () {
      clearTimeout(resize);
      resize = setTimeout(function () {
        if (peaks) {
          draw();
        }
      }, 200);
    });
  }
})();
