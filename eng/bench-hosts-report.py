#!/usr/bin/env python3
"""Turns eng/bench-hosts.sh's JSON lines into the B1, B3 and B2 markdown tables (stdout) and, given a folder, PNG plots.

usage: bench-hosts-report.py RUNS.json ORIGIN_UP_MBIT PEER_MBIT [PLOT_DIR]

Ideal figures (BENCHMARKS.md): T_direct = max(N*S/C_o, S/d); T_p2p >= max(S/C_o, S/d, N*S/(C_o + sum u)).
"""
import json
import statistics
import sys


def lower_bound(n, size, c_o, u, d):
    return max(size / c_o, size / d, n * size / (c_o + n * u))


def ideal_direct(n, size, c_o, d):
    return max(n * size / c_o, size / d)


def main():
    path, origin_mbit, peer_mbit = sys.argv[1], float(sys.argv[2]), float(sys.argv[3])
    plot_dir = sys.argv[4] if len(sys.argv) > 4 else None
    c_o = origin_mbit * 1e6 / 8
    u = d = peer_mbit * 1e6 / 8
    every = [json.loads(line) for line in open(path) if line.strip()]
    runs = [r for r in every if r.get("scenario", "B1") == "B1"]
    staggered = [r for r in every if r.get("scenario") == "B3"]
    kraken = [r for r in every if r.get("scenario") == "B2"]
    ns = sorted({r["n"] for r in runs})
    size = (runs or staggered or every or [{"size": 0}])[0]["size"]

    def pick(kind, n):
        return [r for r in runs if r["kind"] == kind and r["n"] == n]

    def med(values):
        return statistics.median(values) if values else None

    def fmt(v, digits=2):
        return "" if v is None else f"{v:.{digits}f}"

    if not runs:
        if staggered:
            b3_table(staggered, size, d)
        if kraken:
            b2_table(kraken, c_o)
        return

    print(f"## B1: {size / 1048576:.0f} MiB to N peers on emulated hosts")
    print()
    print(f"Origin uplink {origin_mbit:.0f} Mbit/s, each peer {peer_mbit:.0f} Mbit/s up and down, supernode 1 Gbit/s "
          "(network namespaces on one bridge, tc tbf). Medians over repetitions; times in seconds.")
    print()
    print("| N | P2P makespan | P2P lower bound | makespan ÷ bound | direct makespan | P2P ÷ direct | per-peer p50 / max "
          "| origin egress ÷ S | bytes from peers |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    for n in ns:
        p2p, direct = pick("p2p", n), pick("direct", n)
        mk = med([r["makespan"] for r in p2p])
        dmk = med([r["makespan"] for r in direct])
        bound = lower_bound(n, size, c_o, u, d)
        times = sorted(t for r in p2p for t in r["peer_times"])
        egress = med([r["origin_bytes"] / size for r in p2p])
        peers = med([r.get("from_peers", 0) / (n * size) for r in p2p])
        print(f"| {n} | {fmt(mk)} | {fmt(bound)} | {fmt(mk / bound if mk else None)} "
              f"| {fmt(dmk)} (ideal {fmt(ideal_direct(n, size, c_o, d))}) | {fmt(mk / dmk if mk and dmk else None)} "
              f"| {fmt(med(times))} / {fmt(max(times) if times else None)} | {fmt(egress, 3)} "
              f"| {fmt(100 * peers if peers is not None else None, 0)} % |")
    print()
    if staggered:
        b3_table(staggered, size, d)
    if kraken:
        b2_table(kraken, c_o)

    if not plot_dir:
        return
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("(plots skipped: matplotlib is not installed; apt-get install python3-matplotlib)", file=sys.stderr)
        return

    fig, ax = plt.subplots(figsize=(6, 4))
    ax.plot(ns, [med([r["makespan"] for r in pick("p2p", n)]) for n in ns], "o-", label="P2P (dfget)")
    if any(pick("direct", n) for n in ns):
        ax.plot(ns, [med([r["makespan"] for r in pick("direct", n)]) for n in ns], "s-", label="direct (curl)")
    ax.plot(ns, [lower_bound(n, size, c_o, u, d) for n in ns], "k--", label="P2P lower bound")
    ax.plot(ns, [ideal_direct(n, size, c_o, d) for n in ns], "k:", label="ideal direct")
    ax.set_xlabel("peers N"), ax.set_ylabel("makespan, s"), ax.set_xscale("log", base=2), ax.legend()
    ax.set_title("B1: makespan against N")
    fig.tight_layout(), fig.savefig(f"{plot_dir}/b1-makespan.png", dpi=110)

    fig, ax = plt.subplots(figsize=(6, 4))
    ax.plot(ns, [med([r["origin_bytes"] / size for r in pick("p2p", n)]) for n in ns], "o-", label="P2P")
    if any(pick("direct", n) for n in ns):
        ax.plot(ns, [med([r["origin_bytes"] / size for r in pick("direct", n)]) for n in ns], "s-", label="direct")
    ax.plot(ns, [1 for _ in ns], "k--", label="ideal P2P (S)")
    ax.set_xlabel("peers N"), ax.set_ylabel("origin egress ÷ S"), ax.set_xscale("log", base=2), ax.legend()
    ax.set_title("B1: origin egress against N")
    fig.tight_layout(), fig.savefig(f"{plot_dir}/b1-origin-egress.png", dpi=110)

    fig, ax = plt.subplots(figsize=(6, 4))
    for n in ns:
        times = sorted(t for r in pick("p2p", n) for t in r["peer_times"])
        if times:
            ax.step(times, [(i + 1) / len(times) for i in range(len(times))], where="post", label=f"N={n}")
    ax.set_xlabel("per-peer completion time, s"), ax.set_ylabel("fraction of peers done"), ax.legend()
    ax.set_title("B1: per-peer completion (P2P)")
    fig.tight_layout(), fig.savefig(f"{plot_dir}/b1-completion-cdf.png", dpi=110)


def b3_table(runs, size, d):
    """B3: per-peer download time in order of arrival, P2P against direct (medians over repetitions)."""
    p2p = [r for r in runs if r["kind"] == "p2p"]
    direct = [r for r in runs if r["kind"] == "direct"]
    n, stagger = runs[0]["n"], runs[0].get("stagger", 0)
    print(f"## B3: staggered arrivals, {size / 1048576:.0f} MiB to {n} peers, one starting every {stagger} s")
    print()
    print(f"Same hosts and links as B1. Each peer's own download time (from its start), in order of arrival; S/d = "
          f"{size / d:.2f} s is the fastest a peer's downlink allows. Medians over repetitions.")
    print()
    print("| peer (arrival) | P2P s | direct s |")
    print("| --- | --- | --- |")

    def col(rs, i):
        values = [r["peer_times"][i] for r in rs if len(r["peer_times"]) > i]
        return f"{statistics.median(values):.2f}" if values else ""

    for i in range(n):
        print(f"| {i + 1} | {col(p2p, i)} | {col(direct, i)} |")
    if p2p:
        egress = statistics.median(r["origin_bytes"] / size for r in p2p)
        peers = statistics.median(r.get("from_peers", 0) / (n * size) for r in p2p)
        makespan = statistics.median(r["makespan"] for r in p2p)
        dmk = statistics.median(r["makespan"] for r in direct) if direct else None
        print()
        print(f"P2P makespan {makespan:.2f} s" + (f" (direct {dmk:.2f} s)" if dmk else "")
              + f"; origin egress ÷ S {egress:.3f}; bytes from peers {100 * peers:.0f} %.")
    print()


def nearest_rank(values, q):
    """The q-quantile by nearest rank (with 8 peers, p99 is the slowest)."""
    ordered = sorted(values)
    return ordered[max(0, min(len(ordered) - 1, -(-int(q * 100) * len(ordered) // 100) - 1))]


def b2_table(runs, c_o):
    """B2: every peer pulls several files at once; each peer's time against what its link allows (Kraken's measure)."""
    first = runs[0]
    n, total, files = first["n"], first["size"], first.get("files", [first["size"]])
    link = first.get("link_mbit", 0) * 1e6 / 8
    ideal = total / link if link else None
    bound = lower_bound(n, total, c_o, link, link) if link else None
    names = " + ".join(f"{f / 1048576:.0f}" for f in files)
    print(f"## B2: {n} peers each pull {len(files)} files ({names} MiB) at once")
    print()
    print(f"Every peer's link at {first.get('link_mbit', 0):.0f} Mbit/s up and down, the origin's uplink and the supernode "
          f"as in B1. A peer's time runs until its last file is done; S/d = {fmt2(ideal)} s is the fastest its link "
          f"allows and {fmt2(bound)} s the P2P lower bound for the swarm. Target (BENCHMARKS.md): p99 ÷ (S/d) ≤ 1.5; "
          "Kraken published 1.8. Medians over repetitions.")
    print()
    print("| run | per-peer p50 | p99 (slowest of N) | p99 ÷ (S/d) | makespan | origin egress ÷ S | bytes from peers |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for kind, label in (("p2p", "P2P (dfget)"), ("direct", "direct (curl)")):
        rs = [r for r in runs if r["kind"] == kind]
        if not rs:
            continue
        p50 = statistics.median(statistics.median(r["peer_times"]) for r in rs)
        p99 = statistics.median(nearest_rank(r["peer_times"], 0.99) for r in rs)
        makespan = statistics.median(r["makespan"] for r in rs)
        egress = statistics.median(r["origin_bytes"] / total for r in rs)
        peers = f"{100 * statistics.median(r.get('from_peers', 0) / (n * total) for r in rs):.0f} %" if kind == "p2p" else ""
        print(f"| {label} | {p50:.2f} | {p99:.2f} | {fmt2(p99 / ideal if ideal else None)} | {makespan:.2f} "
              f"| {egress:.3f} | {peers} |")
    print()


def fmt2(v):
    return "" if v is None else f"{v:.2f}"


if __name__ == "__main__":
    main()
