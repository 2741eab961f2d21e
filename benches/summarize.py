#!/usr/bin/env python3
"""Summarizes benches/run.sh results: medians per cell and framework, ratios against `raw`.

usage: summarize.py RESULTS.jsonl

Ratios are paired: within each repetition (the `rep` field, or the label repN) a framework's
number is divided by raw's in the same cell, and the median of those ratios is shown. Works on the
JSON lines of benches/run.sh and of any harness with the same fields.
"""
import json
import statistics
import sys
from collections import defaultdict


def main(path):
    runs = []
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
                continue
            runs.append(r)
    cells = defaultdict(lambda: defaultdict(list))
    by_rep = {}
    for r in runs:
        cell = (r["payload"], r["conns"], r["concurrency"])
        cells[cell][r["framework"]].append(r)
        by_rep[(cell, r["framework"], (r.get("rep"), r.get("label")))] = r
    frameworks = sorted({r["framework"] for r in runs}, key=lambda f: (f != "raw", f))

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

    def cpu_per_call(r):
        try:
            return float(r["server_cpu"]) / r["qps"] * 1e6
        except (TypeError, ValueError, ZeroDivisionError):
            return None

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
    print("\nserver CPU per call µs / server peak RSS KiB, medians\n")
    print(header)
    print(rule)
    for cell in sorted(cells):
        row = []
        for fw in frameworks:
            c = med([cpu_per_call(r) for r in cells[cell][fw]])
            m = med([r.get("server_rss_kb") for r in cells[cell][fw]])
            row.append(("-" if c is None else f"{c:.1f}") + " / " + ("-" if m is None else f"{m:,.0f}"))
        print(f"| {cell[0]} | {cell[1]} | {cell[2]} | " + " | ".join(row) + " |")
    foreign = [float(r["foreign_cpu"]) for r in runs if r.get("foreign_cpu") not in (None, "null")]
    if foreign:
        print(f"\nother processes' CPU during runs: median {statistics.median(foreign):.2f} cores, max {max(foreign):.2f}")


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    main(sys.argv[1])
