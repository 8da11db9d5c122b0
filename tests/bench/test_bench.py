#!/usr/bin/env python3
"""vmslim bench --quick end to end: every row is produced, the numbers are sane, and the
three renderings (markdown on stdout and in a file, JSON, SVG) agree with each other.
Values are never asserted (no wall-clock assertions), only presence and sanity.

usage: test_bench.py VMSLIM HEADER OUT_DIR
"""
import json
import os
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET

SVG = "{http://www.w3.org/2000/svg}"

# the rows a user chooses between, in table order: the default set
ROWS = [
    "extract",
    "check.clang_full", "check.clang_slim", "check.tcc_full",
    "check.snapshot_full", "check.snapshot_slim", "check.exact_full", "check.exact_slim",
    "check.daemon_miss",
    "build.clang_full", "build.clang_slim", "build.pch_full",
    "build.vmslim_cmd_full", "build.vmslim_cmd_slim",
    "build.daemon_miss", "build.daemon_hit",
]
# the project's internal variants: only with --all-rows (tests/bench/bench.cmake)
INTERNAL = [
    "check.tcc_slim", "check.libtcc_libc_full", "check.libtcc_arena_full",
    "check.libtcc_libc_slim", "check.libtcc_arena_slim",
    "build.pch_slim", "build.gmodules_full", "build.gmodules_slim",
    "build.vmslim_full", "build.vmslim_slim",
]
BASELINES = {"extract": "extract", "check": "check.clang_full", "build": "build.clang_full"}
MAY_CRASH = {"build.gmodules_full", "build.gmodules_slim"}

failures = []


def check(cond, msg):
    if not cond:
        failures.append(msg)
    return cond


def main():
    vmslim, header, out = sys.argv[1:4]
    shutil.rmtree(out, ignore_errors=True)
    os.makedirs(out)
    js, md, svg = (os.path.join(out, n) for n in ("bench.json", "bench.md", "bench.svg"))

    # usage errors are exit 2, --help is exit 0
    r = subprocess.run([vmslim, "bench", "--runs", "zero"], capture_output=True, text=True)
    check(r.returncode == 2, f"--runs zero: exit {r.returncode}, want 2")
    r = subprocess.run([vmslim, "bench", "--help"], capture_output=True, text=True)
    check(r.returncode == 0 and "--quick" in r.stdout, "--help")

    cmd = [vmslim, "bench", "--quick", "--header", header,
           "--json", js, "--markdown", md, "--plot", svg]
    print("+", " ".join(cmd), flush=True)
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=900)
    sys.stderr.write(r.stderr)
    if not check(r.returncode == 0, f"bench exit {r.returncode}"):
        return
    check("round " in r.stderr, "no progress on stderr")

    with open(md) as f:
        md_text = f.read()
    check(r.stdout == md_text, "stdout differs from --markdown file")

    with open(js) as f:
        rep = json.load(f)
    runs = rep["runs"]
    check(runs >= 1, "runs")
    check(rep["programs"] == ["execsnoop.bpf.c"], f"--quick programs: {rep['programs']}")
    check(rep["header"]["bytes"] == os.path.getsize(header), "header size")
    rows = {(x["program"], x["id"]): x for x in rep["rows"]}
    prog = "execsnoop.bpf.c"
    ids = [x["id"] for x in rep["rows"] if x["program"] == prog]
    check(ids == ROWS, f"default rows {ids}, want {ROWS}")
    for rid in INTERNAL:
        check((prog, rid) not in rows, f"internal row {rid} without --all-rows")
    # "What each row runs": the command a user types, for every row
    for x in rep["rows"]:
        check(bool(x.get("command")), f"{x['id']}: no command")
        check(f"`{x['command']}`" in md_text, f"{x['id']}: command not in the markdown")
    for rid in ROWS:
        row = rows.get((prog, rid))
        if not check(row is not None, f"row {rid} missing"):
            continue
        state = row["state"]
        allowed = ("ok", "crashes") if rid in MAY_CRASH else ("ok",)
        check(state in allowed, f"{rid}: state {state} ({row.get('note')})")
        check(row["label"] in md_text, f"{rid}: label not in the markdown")
        if state == "crashes":
            check(row["note"] and "crash" in row["note"], f"{rid}: crash without a note")
            check(row["median_ms"] is None, f"{rid}: crashed row with a time")
            continue
        if state != "ok":
            continue
        s = row["samples_ms"]
        check(len(s) == runs, f"{rid}: {len(s)} samples, want {runs}")
        check(all(x > 0 for x in s), f"{rid}: non-positive sample")
        check(row["median_ms"] > 0 and row["p90_ms"] >= row["median_ms"] * 0.999,
              f"{rid}: median {row['median_ms']} p90 {row['p90_ms']}")
        check(row["min_ms"] <= row["median_ms"] <= row["max_ms"], f"{rid}: min/median/max")
        check(row["ratio"] is not None and row["ratio"] > 0, f"{rid}: ratio {row['ratio']}")
        if row["stage"] == "build":
            check((row["out_bytes"] or 0) > 0, f"{rid}: no object size")
            # the same code as the plain full-header build: the point of every faster row
            check(row["same_object"] is True, f"{rid}: same_object {row['same_object']} "
                                              f"({row.get('note')})")
    for stage, rid in BASELINES.items():
        row = rows.get((prog, rid))
        if row and check(row["baseline"], f"{rid} is not marked baseline"):
            check(row["ratio"] == 1.0, f"baseline {rid}: ratio {row['ratio']}")
    ex = rows.get((prog, "extract"))
    if ex and ex["state"] == "ok":
        check(0 < ex["out_bytes"] < ex["ref_bytes"], "extract: slim header not smaller")
        check(ex["ref_bytes"] == os.path.getsize(header), "extract: full size")
    check(sum(1 for x in rep["rows"] if x["baseline"]) == 3, "one baseline per stage")

    # the SVG: well-formed, one bar per timed row, a labelled placeholder for the others
    tree = ET.parse(svg)
    root = tree.getroot()
    check(root.tag == SVG + "svg", "svg root")
    bars = {(e.get("data-program"), e.get("data-row"))
            for e in root.iter(SVG + "rect") if e.get("class") == "bar"}
    states = {(e.get("data-program"), e.get("data-row")): e.get("data-state")
              for e in root.iter(SVG + "text") if e.get("class") == "state"}
    for (p, rid), row in rows.items():
        if row["state"] == "ok":
            check((p, rid) in bars, f"svg: no bar for {rid}")
        else:
            check(states.get((p, rid)) == row["state"], f"svg: no '{row['state']}' for {rid}")
    # the default axis: speed-up against the stage's baseline, linear, so that a bar's
    # length is proportional to the speed-up it shows
    check(root.get("data-axis") == "speedup", f"svg axis {root.get('data-axis')}")
    ticks = [e.text for e in root.iter(SVG + "text") if e.get("class") == "tick"]
    check(any(t and t.endswith("×") for t in ticks), "svg: no speed-up ticks")
    widths = {}
    for e in root.iter(SVG + "rect"):
        if e.get("class") == "bar":
            check(float(e.get("width")) > 0, "svg: empty bar")
            widths[e.get("data-row")] = (float(e.get("width")), float(e.get("data-speedup")))
    # within a stage, bar widths are in the ratio of the speed-ups (linear axis)
    for stage in ("check", "build"):
        got = [(w, sp) for rid, (w, sp) in widths.items()
               if rid.startswith(stage + ".") and sp > 0 and w > 2]
        if len(got) >= 2:
            (w1, s1), (w2, s2) = got[0], got[-1]
            check(abs(w1 / w2 - s1 / s2) <= 0.05 * (s1 / s2) + 0.02,
                  f"svg {stage}: widths {w1:.1f}/{w2:.1f} vs speed-ups {s1}/{s2}")


if __name__ == "__main__":
    main()
    for f in failures:
        print("FAIL:", f)
    if failures:
        sys.exit(1)
    print("bench: all rows present and sane")
