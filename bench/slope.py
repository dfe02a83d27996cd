#!/usr/bin/env python3
"""Per-call cost for `make bench`: the cost of one traced mapping call, without fixed costs.

`mmap_loop` runs at two sizes under each tool, interleaved, several rounds; the difference of the
median times divided by the difference of the traced calls is the cost per call (start-up, the final
snapshot and the report cancel out), and the same slope of the untraced program is subtracted.
Pinned (every command under `taskset -c CPU`, mapblame with `--cpu CPU`: tracer and program on one
CPU, so no stop waits for an idle vCPU to wake) and unpinned (as users run it). The ratio to the
bare-stop floor tracer of the same kind is issue 5's first goal. Results go to
bench/results/slope-latest.md and .json next to run.py's.

    python3 bench/slope.py                       # sizes 2000,20000, 5 rounds (~2 minutes)
    python3 bench/slope.py --sizes 100,400 --rounds 1 --no-save    # smoke run
"""
import argparse, json, os, re, statistics, sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import run as bench  # noqa: E402  (the workloads' build, `measure` and the clean environment)


def traced_calls(mapblame, loop, n, trace, env):
    """The mapping calls mapblame records for `mmap_loop n` (its own count, from record's last line)."""
    r = bench.run_once([mapblame, "record", "-q", "-o", trace, "--", loop, str(n)], 300, env)
    m = re.search(r"\((\d+) events", r["stderr_tail"])
    if r["status"] != 0 or not m:
        sys.exit(f"slope: mapblame record of mmap_loop {n} failed: {r['stderr_tail'].strip()}")
    return int(m.group(1))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--mapblame", default=os.path.join(bench.ROOT, ".build", "release", "mapblame"))
    ap.add_argument("--sizes", default="2000,20000", help="the two mmap_loop sizes N (default 2000,20000)")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--cpu", default="0", help="the CPU of the pinned rows (default 0)")
    ap.add_argument("--no-save", dest="save", action="store_false", help="print only")
    args = ap.parse_args()
    small, large = (int(x) for x in args.sizes.split(","))
    if not 0 < small < large:
        ap.error("--sizes: two sizes, the first smaller")
    mapblame = os.path.abspath(args.mapblame)
    bench.build_programs()
    env = bench.clean_env()
    loop = os.path.join(bench.OUT, "mmap_loop")
    floor = os.path.join(bench.OUT, "floor_tracer")
    trace = os.path.join(bench.OUT, "slope.trace")
    pin = ["taskset", "-c", args.cpu]
    record = [mapblame, "record", "-q", "-o", trace]
    # (name, kind, command prefix); kind groups a tool with its untraced baseline and its floor.
    tools = [
        ("untraced", "pinned", pin),
        ("floor", "pinned", pin + [floor]),
        ("mapblame record --cpu", "pinned", record + ["--cpu", args.cpu, "--"]),
        ("mapblame record --cpu --frames 0", "pinned", record + ["--cpu", args.cpu, "--frames", "0", "--"]),
        ("untraced", "unpinned", []),
        ("floor", "unpinned", [floor]),
        ("mapblame record", "unpinned", record + ["--"]),
    ]
    calls = {n: traced_calls(mapblame, loop, n, trace, env) for n in (small, large)}
    times = {(name, kind, n): [] for name, kind, _ in tools for n in (small, large)}
    for round_ in range(args.rounds):
        order = tools[round_ % len(tools):] + tools[:round_ % len(tools)]
        for name, kind, prefix in order:
            for n in (small, large):
                r = bench.run_once(prefix + [loop, str(n)], 300, env)
                if r["status"] != 0:
                    sys.exit(f"slope: {name} ({kind}) on mmap_loop {n} failed: {r['stderr_tail'].strip()}")
                times[(name, kind, n)].append(r["seconds"])
        bench.log(f"slope: round {round_ + 1}/{args.rounds} done")
    if os.path.exists(trace):
        os.unlink(trace)

    def slope(name, kind):
        """Seconds per call between the two sizes, from medians."""
        return (statistics.median(times[(name, kind, large)]) - statistics.median(times[(name, kind, small)])) \
            / (calls[large] - calls[small])

    rows = []
    for name, kind, _ in tools:
        if name == "untraced":
            continue
        cost = (slope(name, kind) - slope("untraced", kind)) * 1e6
        floor_cost = (slope("floor", kind) - slope("untraced", kind)) * 1e6
        rows.append({"tool": name, "kind": kind, "us_per_call": round(cost, 1),
                     "x_floor": round(cost / floor_cost, 2) if floor_cost > 0 else None})
    untraced = {kind: round(slope("untraced", kind) * 1e6, 1) for kind in ("pinned", "unpinned")}
    lines = [f"# mapblame per-call cost (mmap_loop N={small} and N={large}: {calls[small]} and {calls[large]} "
             f"traced calls; {args.rounds} interleaved rounds, medians)", "",
             "| tool | CPUs | µs per call, traced minus untraced | × floor of the same CPUs |", "|---|---|---:|---:|"]
    for r in rows:
        lines.append(f"| {r['tool']} | {'one (' + args.cpu + ')' if r['kind'] == 'pinned' else 'any'} "
                     f"| {r['us_per_call']} | {r['x_floor'] if r['x_floor'] is not None else '—'} |")
    lines += ["", f"untraced: {untraced['pinned']} µs per call pinned, {untraced['unpinned']} unpinned. "
              "Issue 5's goal: mapblame with full backtraces at most 1.3× the floor of the same kind."]
    print("\n".join(lines))
    if args.save:
        out = os.path.join(bench.ROOT, "bench", "results")
        os.makedirs(out, exist_ok=True)
        with open(os.path.join(out, "slope-latest.md"), "w") as f:
            f.write("\n".join(lines) + "\n")
        with open(os.path.join(out, "slope-latest.json"), "w") as f:
            json.dump({"sizes": [small, large], "calls": calls, "rounds": args.rounds, "cpu": args.cpu,
                       "untraced_us_per_call": untraced, "rows": rows,
                       "times": {f"{k[0]}|{k[1]}|{k[2]}": v for k, v in times.items()}}, f, indent=2)


if __name__ == "__main__":
    main()
