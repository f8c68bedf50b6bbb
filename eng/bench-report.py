#!/usr/bin/env python3
"""Turns the raw samples of eng/bench.sh into docs/benchmarks.md and docs/benchmarks/loopback.json."""
import json, os, statistics, subprocess, sys, datetime, platform

raw, docs, size_mib, big_mib, sched = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
samples = [json.loads(l) for l in open(raw) if l.strip()]
os.makedirs(os.path.join(docs, "benchmarks"), exist_ok=True)

def pick(scenario, kind, key):
    return [s[key] for s in samples if s["scenario"] == scenario and s["kind"] == kind and key in s]

def med(xs, fmt="{:.2f}"):
    if not xs:
        return "n/a"
    return f"{fmt.format(statistics.median(xs))} ({fmt.format(min(xs))}–{fmt.format(max(xs))})"

def mb(kbs):
    return [k / 1024 for k in kbs]

size_gib = size_mib / 1024
commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
load = open("/proc/loadavg").read().split()[:3]
lines = [
    "# Benchmarks",
    "",
    f"Loopback scenarios of BENCHMARKS.md, written by `./build.sh bench` on {datetime.date.today()} at commit `{commit}`,",
    f"{os.cpu_count()} cores, {platform.machine()}, load average at the end {' '.join(load)}. Medians of the repetitions, (min–max).",
    "B1, B3 and B2 on emulated hosts (network namespaces, tc) follow the loopback scenarios, B1 with its plots.",
    "",
    f"## L1: one peer, {size_mib} MiB",
    "",
    "| run | wall s | client CPU s | client peak RSS MB | uploader CPU s |",
    "| --- | --- | --- | --- | --- |",
    f"| curl from the origin | {med(pick('L1','curl','wall'))} | | | |",
]
for kind, label in (("dfget-cold", "dfget, cold supernode"), ("dfget-warm", "dfget, warm supernode cache")):
    lines.append(f"| {label} | {med(pick('L1',kind,'wall'))} | {med(pick('L1',kind,'client_cpu'))} | {med(mb(pick('L1',kind,'client_rss_kb')), '{:.0f}')} | {med(pick('L1',kind,'uploader_cpu'))} |")
ob = pick('L1', 'supernode', 'origin_bytes')
lines += ["", f"Supernode CPU for cold + warm: {med(pick('L1','supernode','supernode_cpu'))} s; origin egress ÷ S: {med([b / (size_mib*1048576) for b in ob], '{:.3f}')}.", ""]

wall4 = pick('L4', 'dfget', 'wall')
cpu4 = [s["client_cpu"] + s["uploader_cpu"] + s["supernode_cpu"] for s in samples if s["scenario"] == "L4" and s["kind"] == "dfget"]
gib4 = pick('L4', 'dfget', 'gib')
lines += [
    f"## L4: four peers together, {size_mib} MiB",
    "",
    "| run | makespan s | CPU s per GiB delivered (all processes) | origin egress ÷ S | client peak RSS MB | supernode peak RSS MB |",
    "| --- | --- | --- | --- | --- | --- |",
    f"| 4 × curl | {med(pick('L4','curl','wall'))} | | 4.000 | | |",
    f"| 4 × dfget | {med(wall4)} | {med([c / g for c, g in zip(cpu4, gib4)])} | {med([b / (size_mib*1048576) for b in pick('L4','dfget','origin_bytes')], '{:.3f}')} | {med(mb(pick('L4','dfget','client_rss_kb')), '{:.0f}')} | {med(mb(pick('L4','dfget','supernode_rss_kb')), '{:.0f}')} |",
    "",
    "## S1: 1 KiB, warm uploader",
    "",
    f"dfget wall time {med(pick('S1','dfget','wall'), '{:.3f}')} s, peak RSS {med(mb(pick('S1','dfget','client_rss_kb')), '{:.0f}')} MB.",
    "",
]
big = [s for s in samples if s["scenario"] == "BIG"]
if big:
    lines += [
        f"## BIG: {big_mib} MiB, two peers one after the other",
        "",
        "| peer | wall s | client peak RSS MB | uploader peak RSS MB | supernode peak RSS MB |",
        "| --- | --- | --- | --- | --- |",
    ] + [f"| {s['rep']} | {s['wall']:.1f} | {s['client_rss_kb']/1024:.0f} | {s['uploader_rss_kb']/1024:.0f} | {s['supernode_rss_kb']/1024:.0f} |" for s in big] + [""]
lines += ["## Scheduler", "", sched, "", "Raw samples: [benchmarks/loopback.json](benchmarks/loopback.json). Where the time goes: [design/performance.md](design/performance.md).", ""]
open(os.path.join(docs, "benchmarks.md"), "w").write("\n".join(lines))
json.dump(samples, open(os.path.join(docs, "benchmarks", "loopback.json"), "w"), indent=1)
print("\n".join(lines))
