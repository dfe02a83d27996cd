#!/usr/bin/env python3
"""Issue 21's goals for `make bench`: short-lived and many-process programs, each goal printed with
the ratio measured in this run.

Workloads: `/bin/true`; `gcc -c -O2 hello.c` (driver, cc1, as); a bash loop of 100 pipelines
(`echo | sort | wc -l`, about 300 processes); Debian's chromium headless with its sandbox (as
nobody, as realworld/run.py runs it). Tools, interleaved in rotating order, medians of the rounds:
untraced, bench/.out/floor_tracer (the stops alone), `mapblame run -o /dev/null`, `mapblame
record`, and on chromium `record --frames 0` too. Then how many times mapblame's tracing thread
opened a /proc/PID/maps file during `record`, with `strace -k -e trace=openat` on mapblame (its first
thread only: the tracer), and how many of those opens were made inside a backtrace (an unwinding
frame on the open's own call stack). The per-call goal comes from slope.py's last results (run it first), memory from
scale.py's. Results: bench/results/goals-latest.{md,json}.

    python3 bench/goals.py                      # 5 rounds (~3-5 minutes with chromium)
    python3 bench/goals.py --rounds 1 --workloads true,gcc_hello --no-save    # smoke run
"""
import argparse, json, os, re, shutil, statistics, subprocess, sys, tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import run as bench  # noqa: E402  (the workloads' build, `measure` and the clean environment)

HELLO = '#include <stdio.h>\nint main(void) { printf("hello\\n"); return 0; }\n'
SHELL_LOOP = "for i in $(seq 100); do echo $i | sort | wc -l; done"
AS_NOBODY = ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups", "--"]


def workloads(work):
    hello = os.path.join(bench.OUT, "hello.c")
    with open(hello, "w") as f:
        f.write(HELLO)
    chromium = shutil.which("chromium")
    return [
        dict(name="true", argv=["/bin/true"]),
        dict(name="gcc_hello", argv=["gcc", "-c", "-O2", hello, "-o", os.path.join(bench.OUT, "hello.o")]),
        dict(name="shell_loop", argv=["bash", "-c", SHELL_LOOP]),
        dict(name="chromium", argv=AS_NOBODY + [chromium or "chromium", "--headless", "--disable-gpu", "--dump-dom",
                                                "file:///etc/hostname"],
             env={"HOME": work, "XDG_CONFIG_HOME": work, "XDG_CACHE_HOME": work}, frames0=True,
             missing=None if chromium and shutil.which("setpriv") else "chromium or setpriv not installed"),
    ]


# Frames of a backtrace in mapblame's own stack, as `strace -k` prints them: the tracer's
# Tracer.backtrace (mangled), the shim's unwinder entry points and libunwind's own functions.
BACKTRACE_FRAME = re.compile(r"9backtrace_4regs|cshims_backtrace|_U(L)?x86_64_|cshims_unwind")


def maps_opens(argv, env, timeout):
    """How many /proc/N/maps files mapblame's tracing thread opened while running argv: in all,
    and from inside a backtrace (strace -k: the open's own call stack names an unwinding frame)."""
    with tempfile.NamedTemporaryFile(suffix=".strace", delete=False) as f:
        path = f.name
    try:
        r = subprocess.run(["strace", "-qq", "-k", "-e", "trace=openat,open", "-o", path] + argv, env=env,
                           timeout=timeout, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL)
        if r.returncode != 0:
            return None
        total = in_backtrace = 0
        current = None  # the stack of the open being read, or None outside a maps open
        for line in list(open(path)) + [""]:  # "": ends the last stack
            if not line.startswith(" > "):
                if current is not None and any(BACKTRACE_FRAME.search(frame) for frame in current):
                    in_backtrace += 1
                current = [] if re.search(r'"/proc/\d+/maps"', line) else None
                total += current is not None
            elif current is not None:
                current.append(line)
        return dict(total=total, backtraces=in_backtrace)
    except (OSError, subprocess.SubprocessError):
        return None
    finally:
        os.unlink(path)


def processes_of(mapblame, argv, env, timeout):
    """How many processes mapblame traced (from `run --json`)."""
    with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as f:
        path = f.name
    try:
        subprocess.run([mapblame, "run", "-o", "/dev/null", "--json", path, "--"] + argv, env=env, timeout=timeout,
                       stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        return len(json.load(open(path)).get("processes", []))
    except (OSError, ValueError, subprocess.SubprocessError):
        return None
    finally:
        os.unlink(path)


def load(name):
    try:
        return json.load(open(os.path.join(bench.ROOT, "bench", "results", name)))
    except (OSError, ValueError):
        return None


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--mapblame", default=os.path.join(bench.ROOT, ".build", "release", "mapblame"))
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--timeout", type=float, default=120)
    ap.add_argument("--workloads", help="comma-separated subset of: true,gcc_hello,shell_loop,chromium")
    ap.add_argument("--no-save", dest="save", action="store_false", help="print only")
    args = ap.parse_args()
    mapblame = os.path.abspath(args.mapblame)
    bench.build_programs()
    env = bench.clean_env()
    work = tempfile.mkdtemp(prefix="mapblame-goals-")
    os.chmod(work, 0o777)  # chromium runs as nobody
    trace = os.path.join(work, "goals.trace")
    chosen = workloads(work)
    if args.workloads:
        wanted = set(args.workloads.split(","))
        unknown = wanted - {w["name"] for w in chosen}
        if unknown:
            ap.error(f"unknown workload(s): {', '.join(sorted(unknown))}")
        chosen = [w for w in chosen if w["name"] in wanted]
    floor = os.path.join(bench.OUT, "floor_tracer")
    record = [mapblame, "record", "-q", "-o", trace]
    results = {}
    for w in chosen:
        if w.get("missing"):
            bench.log(f"goals: {w['name']}: skipped ({w['missing']})")
            continue
        wenv = dict(env, **w.get("env", {}))
        tools = [("untraced", []), ("floor", [floor]), ("run", [mapblame, "run", "-o", "/dev/null", "--"]),
                 ("record", record + ["--"])]
        if w.get("frames0"):
            tools.append(("record --frames 0", record + ["--frames", "0", "--"]))
        times = {name: [] for name, _ in tools}
        failures = {}
        for rnd in range(args.rounds):
            for name, prefix in tools[rnd % len(tools):] + tools[:rnd % len(tools)]:
                r = bench.run_once(prefix + w["argv"], args.timeout, wenv)
                if r["status"] == 0:
                    times[name].append(r["seconds"])
                else:
                    failures.setdefault(name, r["stderr_tail"].strip()[-200:] or f"status {r['status']}")
            bench.log(f"goals: {w['name']}: round {rnd + 1}/{args.rounds}")
        medians = {k: statistics.median(v) for k, v in times.items() if v}
        # Counted for every workload, timed or not: every maps open of `record`, and those made
        # from inside a backtrace (the goal: none).
        opens = maps_opens(record + ["--"] + w["argv"], wenv, args.timeout * 4) if shutil.which("strace") else None
        results[w["name"]] = dict(medians=medians, times=times, failures=failures, maps_opens=opens,
                                  processes=processes_of(mapblame, w["argv"], wenv, args.timeout))
    shutil.rmtree(work, ignore_errors=True)

    def ratio(w, a, b):
        m = results.get(w, {}).get("medians", {})
        return m[a] / m[b] if a in m and b in m and m[b] > 0 else None

    def over(w, a, b):
        m = results.get(w, {}).get("medians", {})
        return (m[a] - m[b]) * 1e3 if a in m and b in m else None

    def fmt(x, unit="×"):
        return "—" if x is None else (f"{x:.2f}{unit}" if unit == "×" else f"{x:.1f} {unit}")

    goals = []
    for w in ("gcc_hello", "shell_loop"):
        x = ratio(w, "run", "floor")
        goals.append((f"`run` / floor on {w}", "≤ 1.25×", fmt(x), None if x is None else x <= 1.25))
    for w in ("gcc_hello", "shell_loop", "chromium"):
        if w not in results:
            continue
        n = results.get(w, {}).get("processes")
        d = over(w, "run", "floor")
        per = d / n if d is not None and n else None
        goals.append((f"`run` above floor per traced process, {w} ({n} processes)", "≤ 1 ms", fmt(per, "ms"),
                      None if per is None else per <= 1))
    x = ratio("chromium", "run", "untraced")
    goals.append(("`run` / untraced on chromium with its sandbox", "≤ 2×", fmt(x), None if x is None else x <= 2))
    d = over("true", "run", "untraced")
    goals.append(("`run` fixed cost on /bin/true, above untraced", "≤ 10 ms", fmt(d, "ms"), None if d is None else d <= 10))
    for w, r in results.items():
        o = r["maps_opens"]
        if o is not None:
            goals.append((f"/proc/PID/maps opened by backtraces, {w} (strace -k of record: {o['total']} maps opens "
                          f"in all, by exec and snapshots)", "0", str(o["backtraces"]), o["backtraces"] == 0))
    slope = load("slope-latest.json")
    pinned = next((r for r in (slope or {}).get("rows", []) if r["kind"] == "pinned" and r["tool"] == "mapblame record --cpu"), None)
    goals.append(("per mapping call, full backtraces, pinned, × floor (slope.py's last run)", "≤ 1.3×",
                  fmt(pinned and pinned.get("x_floor")), None if pinned is None else (pinned.get("x_floor") or 99) <= 1.3))
    scale = load("scale-latest.json")
    goals.append(("memory: scale.py's last run (record of 1M calls ≤ 20 MiB, run ≤ 100 MiB)", "see scale-latest.md",
                  "present" if scale else "—", None))

    lines = [f"# issue 21 goals ({args.rounds} interleaved rounds, medians; mapblame {mapblame})", "",
             "| workload | " + " | ".join(n for n in ("untraced", "floor", "run", "record", "record --frames 0")) + " |",
             "|---|---:|---:|---:|---:|---:|"]
    for w, r in results.items():
        cells = [f"{r['medians'][n]:.3f} s" if n in r["medians"] else "—"
                 for n in ("untraced", "floor", "run", "record", "record --frames 0")]
        lines.append(f"| {w} | " + " | ".join(cells) + " |")
        for name, why in r["failures"].items():
            lines.append(f"|  | {name} failed: {why} |")
    lines += ["", "| goal | target | measured | met |", "|---|---|---:|---|"]
    for name, target, measured, met in goals:
        lines.append(f"| {name} | {target} | {measured} | {'yes' if met else ('—' if met is None else '**no**')} |")
    lines += ["", "maps opens: `strace -k` prints the call stack of every /proc/N/maps open of mapblame's tracing "
              "thread; an open whose stack holds an unwinding frame (Tracer.backtrace, the shim's unwinder, "
              "libunwind) is a backtrace's. The others are the tracer's reads at each exec and final snapshot, "
              "and once per code file for a process of another mount namespace (ModuleHandles: chromium's "
              "sandboxed processes)."]
    print("\n".join(lines))
    if args.save:
        out = os.path.join(bench.ROOT, "bench", "results")
        os.makedirs(out, exist_ok=True)
        with open(os.path.join(out, "goals-latest.md"), "w") as f:
            f.write("\n".join(lines) + "\n")
        with open(os.path.join(out, "goals-latest.json"), "w") as f:
            json.dump({"results": results, "goals": [dict(goal=g[0], target=g[1], measured=g[2], met=g[3]) for g in goals]},
                      f, indent=1)


if __name__ == "__main__":
    main()
