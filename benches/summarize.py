#!/usr/bin/env python3
"""Summarizes benches/run.sh results: medians per cell and framework, ratios against `raw` and
against `raw-pipe` (the pipelined raw client: the wire and system-call limit).

usage: summarize.py RESULTS.jsonl

Ratios are paired: within each repetition (the `rep` field, or the label repN) a framework's
number is divided by raw's (or raw-pipe's) in the same cell, and the median of those ratios is
shown. CPU per call is a side's CPU (cores) x the window / the calls done in it. Works on the
JSON lines of benches/run.sh and of any harness with the same fields.
"""
import json
import statistics
import sys
from collections import defaultdict


def main(path):
    runs = []
    failed = 0
    with open(path) as f:
        for line in f:
            line = line.strip()
            if not line:
                continue
            try:
                r = json.loads(line)
            except json.JSONDecodeError:
                continue
            if r.get("failed") or "qps" not in r:
                failed += 1
                continue
            runs.append(r)
    cells = defaultdict(lambda: defaultdict(list))
    by_rep = {}
    for r in runs:
        cell = (r["payload"], r["conns"], r["concurrency"])
        cells[cell][r["framework"]].append(r)
        by_rep[(cell, r["framework"], (r.get("rep"), r.get("label")))] = r
    first = {"raw-pipe": 0, "raw": 1}
    frameworks = sorted({r["framework"] for r in runs}, key=lambda f: (first.get(f, 2), f))

    def med(values):
        values = [v for v in values if v is not None]
        return statistics.median(values) if values else None

    def ratio(cell, fw, key, against="raw"):
        pairs = []
        for (c, f, rep), r in by_rep.items():
            if c == cell and f == fw:
                base = by_rep.get((cell, against, rep))
                if base and base.get(key) and r.get(key) is not None:
                    pairs.append(r[key] / base[key])
        return med(pairs)

    def cpu_per_call(r, side):
        try:
            cores = float(r[side + "_cpu"])
            if r.get("window_s") is not None and r.get("ok") is not None:
                return cores * r["window_s"] / r["ok"] * 1e6
            return cores / r["qps"] * 1e6
        except (KeyError, TypeError, ValueError, ZeroDivisionError):
            return None

    def fmt(value, spec):
        return "-" if value is None else format(value, spec)

    header = "| payload | conns | in flight | " + " | ".join(frameworks) + " |"
    rule = "|---:|---:|---:|" + "---:|" * len(frameworks)
    print("QPS, median (ratio to raw, median of paired runs)\n")
    print(header)
    print(rule)
    for cell in sorted(cells):
        row = []
        for fw in frameworks:
            q = med([r["qps"] for r in cells[cell][fw]])
            rt = ratio(cell, fw, "qps")
            row.append("-" if q is None else f"{q:,.0f}" + ("" if fw == "raw" or rt is None else f" ({rt:.2f})"))
        print(f"| {cell[0]} | {cell[1]} | {cell[2]} | " + " | ".join(row) + " |")
    others = [fw for fw in frameworks if fw != "raw-pipe"]
    if "raw-pipe" in frameworks and others:
        print("\nQPS / raw-pipe QPS (median of paired runs)\n")
        print("| payload | conns | in flight | " + " | ".join(f"{fw} / raw-pipe" for fw in others) + " |")
        print("|---:|---:|---:|" + "---:|" * len(others))
        for cell in sorted(cells):
            row = [fmt(ratio(cell, fw, "qps", against="raw-pipe"), ".3f") for fw in others]
            print(f"| {cell[0]} | {cell[1]} | {cell[2]} | " + " | ".join(row) + " |")
    if "sofa" in frameworks and "tarpc" in frameworks:
        print("\nsofa QPS / tarpc QPS (median of paired runs)\n")
        print("| payload | conns | in flight | sofa / tarpc |")
        print("|---:|---:|---:|---:|")
        for cell in sorted(cells):
            rt = ratio(cell, "sofa", "qps", against="tarpc")
            print(f"| {cell[0]} | {cell[1]} | {cell[2]} | " + ("-" if rt is None else f"{rt:.2f}") + " |")
    print("\np99 latency µs, median (ratio to raw, median of paired runs)\n")
    print(header)
    print(rule)
    for cell in sorted(cells):
        row = []
        for fw in frameworks:
            p = med([r["p99_us"] for r in cells[cell][fw]])
            rt = ratio(cell, fw, "p99_us")
            row.append("-" if p is None else f"{p:,.0f}" + ("" if fw == "raw" or rt is None else f" ({rt:.2f})"))
        print(f"| {cell[0]} | {cell[1]} | {cell[2]} | " + " | ".join(row) + " |")
    print("\nCPU per call µs, server / client, and server peak RSS KiB, medians\n")
    print(header)
    print(rule)
    for cell in sorted(cells):
        row = []
        for fw in frameworks:
            c = med([cpu_per_call(r, "server") for r in cells[cell][fw]])
            k = med([cpu_per_call(r, "client") for r in cells[cell][fw]])
            m = med([r.get("server_rss_kb") for r in cells[cell][fw]])
            row.append(f"{fmt(c, '.2f')} / {fmt(k, '.2f')}, {fmt(m, ',.0f')}")
        print(f"| {cell[0]} | {cell[1]} | {cell[2]} | " + " | ".join(row) + " |")
    errors = sum(r.get("errors") or 0 for r in runs)
    print(f"\nruns: {len(runs)} reported, {failed} failed to report; errors in all: {errors}")
    foreign = [float(r["foreign_cpu"]) for r in runs if r.get("foreign_cpu") not in (None, "null")]
    if foreign:
        print(f"\nother processes' CPU during runs: median {statistics.median(foreign):.2f} cores, max {max(foreign):.2f}")


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    main(sys.argv[1])
