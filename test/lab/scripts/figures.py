#!/usr/bin/env python3
"""The month's figures (issue 10 §1), computed from stored call records.

An independent check of package report: written from the definitions of
issue 10 §1 and the doc comments of report/figures.go, sharing no code with
it. TestLabFigures (test/lab/figures_test.go) runs it over the records that
`switchtap calls --json` prints after the lab's SIPp calls, and compares
its output key by key with `switchtap report figures --json`.

    figures.py --config switchtap.yaml --records calls.jsonl --month 2026-03

The configuration is the daemon's own file, written as JSON (JSON is YAML,
and the standard library reads no YAML): time_zone (default
America/El_Salvador), receptionists[].name and report.short_abandon
(default 5s) are read from it. Times are converted with zoneinfo, never by
a fixed offset.

Exit status: 0 done; 2 bad input; 3 the time zone is not in this Python's
zoneinfo database (the test then skips, or fails in CI).
"""

import argparse
import calendar
import datetime
import decimal
import json
import re
import sys

try:
    import zoneinfo
except ImportError:  # Python < 3.9
    sys.stderr.write("figures.py: Python 3.9 or later is needed (zoneinfo)\n")
    sys.exit(3)

DEFAULT_ZONE = "America/El_Salvador"
DEFAULT_SHORT_ABANDON_NS = 5 * 10**9

# RFC 3339 as Go's time.Time marshals it (RFC3339Nano): nanoseconds kept.
RFC3339 = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?"
    r"(?:([Zz])|([+-])(\d{2}):(\d{2}))$"
)

# Go's time.ParseDuration units, in nanoseconds.
UNITS = {"ns": 1, "us": 10**3, "µs": 10**3, "μs": 10**3, "ms": 10**6,
         "s": 10**9, "m": 60 * 10**9, "h": 3600 * 10**9}
DURATION = re.compile(r"(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h)")


def fail(msg):
    sys.stderr.write("figures.py: " + msg + "\n")
    sys.exit(2)


def epoch_ns(s):
    """Nanoseconds since the Unix epoch of an RFC 3339 time."""
    m = RFC3339.match(s)
    if not m:
        fail("not an RFC 3339 time: %r" % s)
    y, mo, d, h, mi, sec = (int(m.group(i)) for i in range(1, 7))
    frac = (m.group(7) or "").ljust(9, "0")
    off = 0
    if not m.group(8):
        off = (int(m.group(10)) * 60 + int(m.group(11))) * 60
        if m.group(9) == "-":
            off = -off
    secs = calendar.timegm((y, mo, d, h, mi, sec, 0, 0, 0)) - off
    return secs * 10**9 + int(frac)


def duration_ns(s):
    """Nanoseconds of a Go duration string ("5s", "1m30s", "1500ms")."""
    if isinstance(s, (int, float)):
        return int(s)  # yaml.v3 reads a bare number as nanoseconds
    s = s.strip()
    if s in ("0", ""):
        return 0
    sign = 1
    if s[0] in "+-":
        sign = -1 if s[0] == "-" else 1
        s = s[1:]
    pos, total = 0, decimal.Decimal(0)
    while pos < len(s):
        m = DURATION.match(s, pos)
        if not m:
            fail("not a duration: %r" % s)
        total += decimal.Decimal(m.group(1)) * UNITS[m.group(2)]
        pos = m.end()
    return sign * int(total)


def round_half_away(x, scale):
    """x rounded to 1/scale, ties away from zero, computed exactly on the
    binary value of x·scale (the float the definition rounds)."""
    v = decimal.Decimal(x * scale).quantize(decimal.Decimal(1), rounding=decimal.ROUND_HALF_UP)
    return float(v) / scale


def nearest_rank(values, p):
    """The p-th percentile by the nearest-rank method: the value of rank
    ceil(p/100 · n) (1-based) of the values in ascending order."""
    ordered = sorted(values)
    n = len(ordered)
    rank = max(1, -(-p * n // 100))
    return ordered[min(rank, n) - 1]


def new_inbound():
    return {
        "offered": 0, "answered": 0, "within_limit": 0, "late": 0,
        "abandoned": 0, "short_abandoned": 0, "busy": 0, "rejected": 0,
        "failed": 0, "unknown": 0, "service_level_pct": None,
        "asa_seconds": None, "answer_p50_seconds": None, "answer_p90_seconds": None,
        "rings": {"1": 0, "2": 0, "3": 0, "4": 0, "5+": 0},
        "transferred": {"blind": 0, "attended": 0, "redirect": 0, "completed": 0, "failed": 0},
        "talk_seconds_total": 0.0, "recorded": 0,
        "_answers": [], "_talk_ns": 0,
    }


def new_slot():
    return {"offered": 0, "answered": 0, "within_limit": 0, "abandoned": 0}


def ring_bin(rings):
    if rings <= 1:
        return "1"
    if rings >= 5:
        return "5+"
    return str(rings)


class Leg:
    """What the figures need of one record."""

    def __init__(self, r):
        self.call_id = r.get("call_id") or ""
        self.direction = r.get("direction") or ""
        self.operator = r.get("operator") or ""
        self.invite_ns = epoch_ns(r["invite_at"])
        self.answered = r.get("answered_at") is not None
        self.ended = r.get("ended_at") is not None
        self.end_reason = r.get("end_reason") or ""
        self.ring_seconds = float(r.get("ring_seconds") or 0)
        self.rings = int(r.get("rings") or 0)
        self.within = bool(r.get("within_limit"))
        self.talk_ns = 0
        if self.answered and self.ended:
            self.talk_ns = max(0, epoch_ns(r["ended_at"]) - epoch_ns(r["answered_at"]))
        rec = r.get("recording") or {}
        self.recorded = self.answered and bool(rec.get("file"))
        self.transfer = r.get("transfer") or None
        self.transferred_from = r.get("transferred_from") or ""
        self.replaces = r.get("replaces_call_id") or ""

    def kind(self):
        return (self.transfer or {}).get("kind") or ""

    def redirected(self):
        # Deflected by a 3xx before any answer: the redirect is the outcome.
        return not self.answered and self.kind() == "redirect"


def transfer_outcome(leg, legs_from):
    """'completed', 'failed' or None for the transfer requested on leg.

    Blind and attended: the REFER's final status (result) decides when it
    is a final code (2xx completed, >= 300 failed). Otherwise, and always
    for a redirect, the legs the transfer created decide: one answered is
    completed, else one that ended unanswered is failed."""
    t = leg.transfer
    if leg.kind() != "redirect":
        result = str(t.get("result") or "")
        if result.isdigit() and int(result) >= 200:
            return "completed" if int(result) < 300 else "failed"
    outcome = None
    for new in legs_from.get(leg.call_id, []):
        if new.answered:
            return "completed"
        if new.ended:
            outcome = "failed"
    return outcome


def add_inbound(b, leg, short, outcome):
    b["offered"] += 1
    if leg.answered:
        b["answered"] += 1
        b["within_limit" if leg.within else "late"] += 1
        b["_answers"].append(leg.ring_seconds)
        b["_talk_ns"] += leg.talk_ns
        if leg.recorded:
            b["recorded"] += 1
        b["rings"][ring_bin(leg.rings)] += 1
    elif leg.redirected():
        pass  # its outcome is transferred.redirect
    elif leg.end_reason == "abandoned":
        b["abandoned"] += 1
        if short:
            b["short_abandoned"] += 1
    elif leg.end_reason in ("busy", "rejected", "failed"):
        b[leg.end_reason] += 1
    else:
        b["unknown"] += 1
    if leg.transfer is None:
        return
    kind = leg.kind()
    if kind in ("blind", "attended"):
        b["transferred"][kind] += 1
    elif leg.redirected():
        b["transferred"]["redirect"] += 1
    else:
        return  # a redirect on an answered leg: not a transfer of the call
    if outcome:
        b["transferred"][outcome] += 1


def finish_inbound(b):
    d = b["offered"] - b["short_abandoned"]
    if d > 0:
        b["service_level_pct"] = round_half_away(b["within_limit"] / d * 100, 100)
    b["talk_seconds_total"] = round_half_away(b["_talk_ns"] / 1e9, 1000)
    answers = b["_answers"]
    if answers:
        b["asa_seconds"] = round_half_away(sum(answers) / len(answers), 1000)
        b["answer_p50_seconds"] = round_half_away(nearest_rank(answers, 50), 1000)
        b["answer_p90_seconds"] = round_half_away(nearest_rank(answers, 90), 1000)
    del b["_answers"], b["_talk_ns"]


def add_slot(s, leg, short):
    s["offered"] += 1
    if leg.answered:
        s["answered"] += 1
        if leg.within:
            s["within_limit"] += 1
    elif not leg.redirected() and leg.end_reason == "abandoned":
        s["abandoned"] += 1


def figures(records, cfg, month):
    zone_name = cfg.get("time_zone") or DEFAULT_ZONE
    try:
        zone = zoneinfo.ZoneInfo(zone_name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError) as e:
        sys.stderr.write("figures.py: time zone %s: %s\n" % (zone_name, e))
        sys.exit(3)
    short_ns = DEFAULT_SHORT_ABANDON_NS
    rep = cfg.get("report") or {}
    if rep.get("short_abandon") not in (None, ""):
        short_ns = duration_ns(rep["short_abandon"])
        if short_ns <= 0:
            short_ns = DEFAULT_SHORT_ABANDON_NS
    names = [r["name"] for r in cfg.get("receptionists") or []]

    m = re.match(r"^(\d{4})-(\d{2})$", month)
    if not m:
        fail("--month %r: want YYYY-MM" % month)
    year, mon = int(m.group(1)), int(m.group(2))
    ndays = calendar.monthrange(year, mon)[1]

    legs = [Leg(r) for r in records]
    # Legs a transfer created or consulted belong to that transfer: the leg
    # a REFER or a 3xx caused (transferred_from), the INVITE with Replaces
    # (replaces_call_id), the leg a transfer names as its target, and the
    # consultation leg a REFER's Replaces names.
    part_of = set()
    legs_from = {}
    for leg in legs:
        if leg.transfer:
            for key in ("target_call_id", "replaces_call_id"):
                if leg.transfer.get(key):
                    part_of.add(leg.transfer[key])
        if leg.transferred_from:
            legs_from.setdefault(leg.transferred_from, []).append(leg)

    out = {
        "month": month,
        "time_zone": zone_name,
        "calls_total": 0,
        "inbound": new_inbound(),
        "outbound": {"made": 0, "answered": 0, "busy": 0, "rejected": 0, "failed": 0, "no_answer": 0},
        "by_operator": {name: new_inbound() for name in names},
        "by_day": {"%04d-%02d-%02d" % (year, mon, d): new_slot() for d in range(1, ndays + 1)},
        "by_hour": {"%02d" % h: new_slot() for h in range(24)},
    }
    for leg in legs:
        sec, ns = divmod(leg.invite_ns, 10**9)
        local = datetime.datetime.fromtimestamp(sec, zone)
        # Month boundaries are whole seconds: the second decides.
        if (local.year, local.month) != (year, mon):
            continue
        if leg.transferred_from or leg.replaces or leg.call_id in part_of:
            continue
        out["calls_total"] += 1
        if leg.direction == "inbound":
            short = (not leg.answered and not leg.redirected() and leg.end_reason == "abandoned"
                     and decimal.Decimal(leg.ring_seconds) <= decimal.Decimal(short_ns) / 10**9)
            outcome = transfer_outcome(leg, legs_from) if leg.transfer else None
            add_inbound(out["inbound"], leg, short, outcome)
            if leg.operator:
                if leg.operator not in out["by_operator"]:
                    out["by_operator"][leg.operator] = new_inbound()
                add_inbound(out["by_operator"][leg.operator], leg, short, outcome)
            add_slot(out["by_day"][local.strftime("%Y-%m-%d")], leg, short)
            add_slot(out["by_hour"]["%02d" % local.hour], leg, short)
        elif leg.direction == "outbound":
            o = out["outbound"]
            o["made"] += 1
            if leg.answered:
                o["answered"] += 1
            elif leg.end_reason in ("busy", "rejected", "failed"):
                o[leg.end_reason] += 1
            elif leg.end_reason == "abandoned":
                o["no_answer"] += 1
    finish_inbound(out["inbound"])
    for b in out["by_operator"].values():
        finish_inbound(b)
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--config", required=True, help="the daemon's configuration, written as JSON")
    ap.add_argument("--records", required=True, help="JSON Lines of `switchtap calls --json`")
    ap.add_argument("--month", required=True, help="YYYY-MM in the configured zone")
    args = ap.parse_args()
    try:
        with open(args.config, encoding="utf-8") as f:
            cfg = json.load(f)
        with open(args.records, encoding="utf-8") as f:
            records = [json.loads(line) for line in f if line.strip()]
    except (OSError, ValueError) as e:
        fail(str(e))
    json.dump(figures(records, cfg, args.month), sys.stdout, indent=2, sort_keys=True)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
