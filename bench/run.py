#!/usr/bin/env python3
"""mapblame benchmark suite (issue 5): wall time, slowdown, cost per traced call and peak RSS of
mapblame against an untraced run, a bare-stop floor tracer, strace -k and valgrind massif.

    python3 bench/run.py              # full suite, 5 interleaved rounds (~5-10 minutes)
    python3 bench/run.py --quick      # smoke run, ~1 minute
    python3 bench/run.py --help

Python 3 standard library only. Results: bench/results/<timestamp>.{md,json} and latest.{md,json}.
See bench/README.md for what the columns mean.
"""

import argparse
import datetime
import json
import os
import platform
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time

BENCH = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(BENCH)
OUT = os.path.join(BENCH, ".out")
RESULTS = os.path.join(BENCH, "results")

# The syscalls mapblame's seccomp filter stops at (CShims/spawn.c); floor_tracer.c uses the same list.
MAPPING_SYSCALLS = ["mmap", "munmap", "mremap", "mprotect", "pkey_mprotect", "brk", "shmat", "shmdt"]
CREATION_SYSCALLS = ["clone", "clone3", "fork", "vfork"]

PYTHON_SCRIPT = """\
import json, collections, re
d = [{"k": i, "v": str(i) * 8, "t": [i, i * 2]} for i in range(30000)]
s = json.dumps(d)
back = json.loads(s)
c = collections.Counter(len(x["v"]) for x in back)
print(len(s), sorted(c.items())[:3], len(re.findall(r"\\d{5}", s)))
"""

# Mapping calls made 50 Python frames deep: N x (mmap.mmap(-1, 64 KiB) + close), each an mmap and a
# munmap with the Python frame chain read at its stop (compare `mb record` with `mb record no-py`).
PYTHON_DEEP_SCRIPT = """\
import mmap, sys
def deep(depth, n):
    if depth == 0:
        for _ in range(n):
            m = mmap.mmap(-1, 65536)
            m.close()
        return n
    return deep(depth - 1, n)
for _ in range(int(sys.argv[1]) // 100):
    deep(int(sys.argv[2]), 100)
"""


def sqlite_script(path):
    lines = ["CREATE TABLE t(id INTEGER PRIMARY KEY, name TEXT, v REAL);", "BEGIN;"]
    lines += [f"INSERT INTO t(name, v) VALUES('name{i % 97}-{i}', {i * 0.5});" for i in range(3000)]
    lines += ["COMMIT;", "CREATE INDEX t_name ON t(name);"]
    lines += [f"SELECT count(*), sum(v) FROM t WHERE name LIKE 'name{i % 97}-%';" for i in range(500)]
    lines += ["SELECT substr(name, 1, 6), count(*) FROM t GROUP BY 1 ORDER BY 2 DESC LIMIT 5;"]
    text = "\n".join(lines) + "\n"
    if not os.path.exists(path) or open(path).read() != text:
        with open(path, "w") as f:
            f.write(text)


# ---------------------------------------------------------------------------------------------
# Workloads. argv(n) builds the command for size n (None: the workload has no size). n_full and
# n_quick are the default sizes; slow_div scales n down for the slow tools (strace -k). exact: the
# number of mapping calls is the same in every run without ASLR (no thread races), so mapblame's
# events_recorded must equal strace's count; for the others the two counts come from
# different runs and may differ a little. Both counting runs disable ASLR (setarch -R, mapblame
# --no-aslr): with ASLR on, brk growth (gcc's cc1) varies by a few calls from run to run.

def python_binary():
    # Debian's interpreter, not a pyenv shim (a bash script that would add a fork+exec of bash).
    for p in ("/usr/bin/python3", sys.executable):
        if p and os.access(p, os.X_OK):
            return os.path.realpath(p)
    return "python3"


WORKLOADS = [
    dict(name="mmap_loop", n_full=20000, n_quick=4000, slow_div=50, exact=True, what="N x (mmap+munmap), mprotect every 4th, 11 frames deep",
         argv=lambda n: [os.path.join(OUT, "mmap_loop"), str(n)]),
    dict(name="malloc_mix", n_full=20000, n_quick=4000, slow_div=10, what="4 threads x N malloc/free, 1/16 above the 128 KiB mmap threshold",
         argv=lambda n: [os.path.join(OUT, "malloc_mix"), "4", str(n)]),
    dict(name="syscall_heavy", n_full=200000, n_quick=50000, slow_div=1, exact=True, what="N x (getppid + 1-byte read of /dev/zero), no mapping calls",
         argv=lambda n: [os.path.join(OUT, "syscall_heavy"), str(n)]),
    dict(name="cpu_bound", n_full=120, n_quick=120, slow_div=1, exact=True, what="N million xorshift steps (~0.3 s), no syscalls",
         argv=lambda n: [os.path.join(OUT, "cpu_bound"), str(n)]),
    dict(name="python3", n_full=None, n_quick=None, slow_div=1, exact=True, what="python3 -c: json dump/load of 30k dicts, Counter, regex",
         env={"PYTHONHASHSEED": "0"},
         argv=lambda n: [python_binary(), "-c", PYTHON_SCRIPT]),
    dict(name="python_deep", n_full=4000, n_quick=1000, slow_div=10, exact=True,
         what="python3: N x (mmap.mmap 64 KiB + close) 50 Python frames deep",
         argv=lambda n: [python_binary(), "-c", PYTHON_DEEP_SCRIPT, str(n), "50"]),
    dict(name="sqlite3", n_full=None, n_quick=None, slow_div=1, exact=True, what="sqlite3 :memory: with 3.5k statements (inserts, index, selects)",
         argv=lambda n: ["sqlite3", ":memory:", ".read " + os.path.join(OUT, "sqlite_script.sql")]),
    dict(name="gcc_c", n_full=None, n_quick=None, slow_div=1, exact=True, what="gcc -O2 -c of malloc_mix.c (driver + cc1 + as: vfork/exec)",
         argv=lambda n: ["gcc", "-O2", "-c", os.path.join(BENCH, "workloads", "malloc_mix.c"), "-o", os.path.join(OUT, "gcc_c.o")]),
]

# ---------------------------------------------------------------------------------------------
# Tools. prefix(args) is put before the workload's argv. slow: runs with n // slow_div.

TOOLS = [
    dict(name="untraced", prefix=lambda a: [], slow=False, needs=None),
    dict(name="floor", prefix=lambda a: [os.path.join(OUT, "floor_tracer")], slow=False, needs=None),
    dict(name="mapblame", prefix=lambda a: [a.mapblame, "run", "-o", "/dev/null", "--"], slow=False, needs="mapblame"),
    # The recording half of `run` alone (no replay, symbolization or report): separates the tracing
    # cost from the report's fixed cost.
    dict(name="mb record", prefix=lambda a: [a.mapblame, "record", "-q", "-o", os.path.join(OUT, "bench.trace"), "--"],
         slow=False, needs="mapblame"),
    # The same without reading CPython's frames: the difference on python_deep is their cost per stop.
    dict(name="mb record no-py", prefix=lambda a: [a.mapblame, "record", "-q", "--no-python-frames", "-o",
                                                   os.path.join(OUT, "bench.trace"), "--"],
         slow=False, needs="mapblame"),
    dict(name="strace -k", prefix=lambda a: ["strace", "-f", "--seccomp-bpf", "-k", "-e", "trace=%memory", "-o", "/dev/null"],
         slow=True, needs="strace"),
    dict(name="massif", prefix=lambda a: ["valgrind", "--tool=massif", "--pages-as-heap=yes", "--massif-out-file=/dev/null"],
         slow=False, needs="valgrind"),
]


def log(msg):
    print(msg, file=sys.stderr, flush=True)


def sh(cmd):
    try:
        return subprocess.run(cmd, capture_output=True, text=True, timeout=30).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return ""


# ---------------------------------------------------------------------------------------------
# Setup

def build_programs():
    os.makedirs(OUT, exist_ok=True)
    sources = [(os.path.join(BENCH, "workloads", w + ".c"), os.path.join(OUT, w))
               for w in ("mmap_loop", "malloc_mix", "syscall_heavy", "cpu_bound")]
    sources.append((os.path.join(BENCH, "floor_tracer.c"), os.path.join(OUT, "floor_tracer")))
    sources.append((os.path.join(BENCH, "measure.c"), os.path.join(OUT, "measure")))
    for src, exe in sources:
        if os.path.exists(exe) and os.path.getmtime(exe) >= os.path.getmtime(src):
            continue
        cmd = ["cc", "-O2", "-g", "-Wall", "-Wextra", "-o", exe, src, "-pthread"]
        log("  " + " ".join(cmd))
        subprocess.run(cmd, check=True)
    sqlite_script(os.path.join(OUT, "sqlite_script.sql"))


def ensure_tools(args):
    """Which tools can run, and why not for the others. strace/valgrind are installed with apt-get
    only when missing and we are root; anything else is skipped with a note."""
    notes = {}
    missing_pkgs = [p for p in ("strace", "valgrind") if not shutil.which(p)]
    if missing_pkgs and args.install and os.geteuid() == 0 and shutil.which("apt-get"):
        log(f"installing {' '.join(missing_pkgs)} with apt-get")
        env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
        subprocess.run(["apt-get", "update", "-qq"], env=env)
        subprocess.run(["apt-get", "install", "-y", "-qq"] + missing_pkgs, env=env, stdout=subprocess.DEVNULL)
    available = set()
    for t in TOOLS:
        need = t["needs"]
        if need is None:
            available.add(t["name"])
        elif need == "mapblame":
            if os.access(args.mapblame, os.X_OK):
                available.add(t["name"])
            else:
                notes[t["name"]] = f"skipped: {args.mapblame} not built (make release)"
        elif shutil.which(need):
            available.add(t["name"])
        else:
            notes[t["name"]] = f"skipped: {need} not installed (apt-get install {need})"
    return available, notes


def machine_info(args):
    cpu = ""
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = ""
    try:
        for line in open("/proc/meminfo"):
            if line.startswith("MemTotal"):
                mem = f"{int(line.split()[1]) // 1024} MiB"
                break
    except OSError:
        pass
    commit = sh(["git", "-C", ROOT, "rev-parse", "--short", "HEAD"])
    dirty = sh(["git", "-C", ROOT, "status", "--porcelain", "--untracked-files=no", "--", "Sources", "CShims", "Package.swift"])
    return {
        "date": datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
        "host": platform.node(),
        "nproc": os.cpu_count(),
        "cpus_allowed": len(os.sched_getaffinity(0)),
        "cpu_model": cpu,
        "memory": mem,
        "kernel": platform.release(),
        "os": sh(["sh", "-c", ". /etc/os-release && echo $PRETTY_NAME"]),
        "loadavg_start": open("/proc/loadavg").read().split()[:3],
        "mapblame": args.mapblame,
        "mapblame_version": sh([args.mapblame, "--version"]),
        "mapblame_built": (datetime.datetime.fromtimestamp(os.path.getmtime(args.mapblame)).astimezone().isoformat(timespec="seconds")
                           if os.path.exists(args.mapblame) else None),
        "repo_head": commit + (" (uncommitted changes in Sources/CShims/Package.swift)" if dirty else ""),
        "cc": sh(["cc", "--version"]).splitlines()[0] if sh(["cc", "--version"]) else "",
        "strace": (sh(["strace", "-V"]).splitlines() or [""])[0],
        "valgrind": sh(["valgrind", "--version"]),
        "pin": args.pin,
    }


# ---------------------------------------------------------------------------------------------
# Running one command: wall time and wait4 rusage, with a timeout.

class _Timeout(Exception):
    pass


def _on_alarm(signum, frame):
    raise _Timeout()


def clean_env():
    env = dict(os.environ)
    env.pop("DEBUGINFOD_URLS", None)  # elfutils would try to download debug info
    return env


def run_once(argv, timeout, env):
    """Run argv under bench/.out/measure (wall time and wait4 rusage taken in C, see measure.c), with
    a timeout. Returns dict(seconds, maxrss_kib, status, stderr_tail, timeout)."""
    err = tempfile.TemporaryFile()
    res = tempfile.TemporaryFile()
    old = signal.signal(signal.SIGALRM, _on_alarm)
    try:
        p = subprocess.Popen([os.path.join(OUT, "measure")] + argv, stdin=subprocess.DEVNULL, stdout=res, stderr=err,
                             env=env, start_new_session=True)
    except OSError as e:
        signal.signal(signal.SIGALRM, old)
        return dict(seconds=None, maxrss_kib=None, status=None, stderr_tail=str(e), timeout=False)
    timed_out = False
    signal.setitimer(signal.ITIMER_REAL, timeout)
    try:
        os.waitpid(p.pid, 0)
        signal.setitimer(signal.ITIMER_REAL, 0)
    except _Timeout:
        timed_out = True
        try:
            os.killpg(p.pid, signal.SIGKILL)  # the process group created for this run only
        except ProcessLookupError:
            pass
        os.waitpid(p.pid, 0)
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)
    p.returncode = 0  # reaped above; keep Popen from waiting on it again
    err.seek(0)
    tail = err.read()[-2000:].decode("utf-8", "replace")
    err.close()
    res.seek(0)
    line = res.read().decode().split()
    res.close()
    if timed_out or len(line) != 3:
        return dict(seconds=None, maxrss_kib=None, status=None, stderr_tail=tail, timeout=timed_out)
    return dict(seconds=float(line[0]), maxrss_kib=int(line[1]), status=int(line[2]), stderr_tail=tail, timeout=False)


# ---------------------------------------------------------------------------------------------
# Counting traced calls: strace -c (the exact syscall list) and mapblame's events_recorded.

def count_calls(argv, args, env, key):
    counts = {"mapping": None, "creation": None, "by_syscall": {}, "mapblame_events": None, "mapblame_status": None}
    if shutil.which("strace"):
        path = os.path.join(OUT, f"count-{key}.strace")
        cmd = args.pin_prefix + (["setarch", "-R"] if shutil.which("setarch") else []) + ["strace", "-f", "-c", "-e", "trace=" + ",".join(MAPPING_SYSCALLS + CREATION_SYSCALLS),
                                 "-o", path] + argv
        r = run_once(cmd, args.timeout, env)
        if r["status"] == 0 and os.path.exists(path):
            by = {}
            for line in open(path):
                m = re.match(r"\s*[\d.]+\s+[\d.]+\s+\d+\s+(\d+)\s+(?:\d+\s+)?(\w+)\s*$", line)
                if m and m.group(2) != "total":
                    by[m.group(2)] = int(m.group(1))
            counts["by_syscall"] = by
            counts["mapping"] = sum(v for k, v in by.items() if k in MAPPING_SYSCALLS)
            counts["creation"] = sum(v for k, v in by.items() if k in CREATION_SYSCALLS)
    if os.access(args.mapblame, os.X_OK):
        path = os.path.join(OUT, f"count-{key}.json")
        if os.path.exists(path):
            os.unlink(path)
        r = run_once(args.pin_prefix + [args.mapblame, "run", "--no-aslr", "-o", "/dev/null", "--json", path, "--"] + argv, args.timeout, env)
        counts["mapblame_status"] = r["status"]
        if r["status"] != 0:
            counts["mapblame_stderr"] = r["stderr_tail"]
        try:
            report = json.load(open(path))
            procs = report.get("processes", [])
            counts["mapblame_events"] = sum(int(p.get("events_recorded") or 0) for p in procs)
            counts["mapblame_processes"] = len(procs)
        except (OSError, ValueError) as e:
            counts["mapblame_json_error"] = str(e)
    return counts


# ---------------------------------------------------------------------------------------------

def fmt_s(x):
    if x is None:
        return "—"
    return f"{x:.3f}" if x < 10 else f"{x:.1f}"


def summarize(times):
    if not times:
        return None, None, None
    return statistics.median(times), min(times), max(times)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rounds", type=int, help="interleaved rounds per workload (default 5; --quick: 2)")
    ap.add_argument("--quick", action="store_true", help="smaller sizes and 2 rounds: a ~1 minute smoke run")
    ap.add_argument("--timeout", type=float, help="seconds per run before it is killed (default 120; --quick: 60)")
    ap.add_argument("--mapblame", default=os.path.join(ROOT, ".build", "release", "mapblame"),
                    help="the mapblame binary (default: .build/release/mapblame)")
    ap.add_argument("--workloads", help="comma-separated subset of: " + ",".join(w["name"] for w in WORKLOADS))
    ap.add_argument("--tools", help="comma-separated subset of: " + ",".join(t["name"] for t in TOOLS) + " (untraced always runs)")
    ap.add_argument("--scale", type=float, default=1.0, help="multiply every workload size N by this")
    ap.add_argument("--pin", metavar="CPU", help="run every command under taskset -c CPU (tracer and program on one CPU)")
    ap.add_argument("--no-install", dest="install", action="store_false", help="never apt-get install strace/valgrind")
    ap.add_argument("--no-save", dest="save", action="store_false", help="print only, write nothing under bench/results/")
    args = ap.parse_args()
    args.rounds = args.rounds or (2 if args.quick else 5)
    args.timeout = args.timeout or (60.0 if args.quick else 120.0)
    args.mapblame = os.path.abspath(args.mapblame)
    args.pin_prefix = ["taskset", "-c", args.pin] if args.pin else []

    started = time.time()
    log("bench: building workloads into bench/.out/")
    build_programs()
    available, tool_notes = ensure_tools(args)
    tools = [t for t in TOOLS if t["name"] in available]
    if args.tools:
        wanted = {x.strip() for x in args.tools.split(",")} | {"untraced"}
        known = {t["name"] for t in TOOLS} | {t["name"].split()[0] for t in TOOLS}  # "strace" for "strace -k"
        unknown = wanted - known
        if unknown:
            ap.error(f"unknown tool(s): {', '.join(sorted(unknown))}")
        tools = [t for t in tools if t["name"] in wanted or t["name"].split()[0] in wanted]
    workloads = WORKLOADS
    if args.workloads:
        wanted = {x.strip() for x in args.workloads.split(",")}
        unknown = wanted - {w["name"] for w in WORKLOADS}
        if unknown:
            ap.error(f"unknown workload(s): {', '.join(sorted(unknown))}")
        workloads = [w for w in WORKLOADS if w["name"] in wanted]
    for name, note in tool_notes.items():
        log(f"bench: {name}: {note}")

    info = machine_info(args)
    env = clean_env()
    results = []
    for w in workloads:
        n = w["n_quick"] if args.quick else w["n_full"]
        if n is not None:
            n = max(1, int(n * args.scale))
        n_slow = max(1, n // w["slow_div"]) if n is not None else None
        tool_n = {t["name"]: (n_slow if t["slow"] else n) for t in tools}
        sizes = sorted({v for v in tool_n.values() if v is not None}, reverse=True) or [None]
        # An untraced baseline for every size any tool runs with.
        runs = [("untraced", s) for s in sizes] + [(t["name"], tool_n[t["name"]]) for t in tools if t["name"] != "untraced"]
        label = w["name"] + (f" N={n}" if n is not None else "")
        wenv = dict(env, **w.get("env", {}))
        log(f"bench: {label}: counting traced calls")
        counts = {s: count_calls(w["argv"](s), args, wenv, f"{w['name']}-{s}") for s in sizes}
        samples = {r: [] for r in runs}
        failures = {r: [] for r in runs}
        timed_out = set()
        for rnd in range(args.rounds):
            # Rotate the order every round so no tool always runs right after the same other one.
            order = runs[rnd % len(runs):] + runs[:rnd % len(runs)]
            for tool_name, size in order:
                if (tool_name, size) in timed_out:
                    continue
                tool = next(t for t in TOOLS if t["name"] == tool_name)
                argv = args.pin_prefix + tool["prefix"](args) + w["argv"](size)
                r = run_once(argv, args.timeout, wenv)
                if r["timeout"]:
                    timed_out.add((tool_name, size))
                    failures[(tool_name, size)].append(f"timeout after {args.timeout:g} s")
                elif r["status"] != 0:
                    failures[(tool_name, size)].append(f"exit {r['status']}: {r['stderr_tail'].strip()[-300:]}")
                else:
                    samples[(tool_name, size)].append(r)
            done = ", ".join(f"{t}{'' if s == n else f'(N={s})'} {fmt_s(statistics.median([x['seconds'] for x in samples[(t, s)]])) if samples[(t, s)] else 'FAIL'}"
                             for t, s in runs)
            log(f"bench: {label}: round {rnd + 1}/{args.rounds}: {done}")

        base = {s: summarize([x["seconds"] for x in samples[("untraced", s)]])[0] for s in sizes}
        rows = []
        for tool_name, size in runs:
            times = [x["seconds"] for x in samples[(tool_name, size)]]
            med, lo, hi = summarize(times)
            c = counts.get(size, {})
            calls = c.get("mapping")
            b = base.get(size)
            row = dict(tool=tool_name, n=size, runs=len(times), median_s=med, min_s=lo, max_s=hi, times_s=times,
                       ratio=(med / b) if med is not None and b else None,
                       extra_ms=(med - b) * 1e3 if med is not None and b is not None else None,
                       calls=calls, creations=c.get("creation"),
                       us_per_call=((med - b) / calls * 1e6) if med is not None and b is not None and calls else None,
                       peak_rss_kib=max((x["maxrss_kib"] for x in samples[(tool_name, size)]), default=None),
                       failures=failures[(tool_name, size)], notes=[])
            if tool_name == "untraced" and size != n:
                row["notes"].append(f"baseline for N={size}")
            if tool_name != "untraced" and size != n:
                row["notes"].append(f"scaled down: N={size} instead of {n}")
            if tool_name == "mapblame":
                ev = c.get("mapblame_events")
                if c.get("mapblame_status") not in (0, None):
                    row["notes"].append(f"counting run exited {c['mapblame_status']}")
                if ev is not None and calls is not None and ev != calls:
                    if w.get("exact") or abs(ev - calls) > max(2, calls // 50):
                        row["notes"].append(f"**count mismatch**: mapblame recorded {ev} events, strace counted {calls}")
                    else:
                        row["notes"].append(f"mapblame recorded {ev} (threads: counts vary run to run)")
            if tool_name == "massif" and w["name"] == "gcc_c":
                row["notes"].append("valgrind does not follow children by default: driver only")
            if tool_name == "strace -k":
                row["notes"].append("traces all of %memory")
            if failures[(tool_name, size)]:
                row["notes"].append(f"{len(failures[(tool_name, size)])} failed run(s): {failures[(tool_name, size)][0][:200]}")
            rows.append(row)
        results.append(dict(workload=w["name"], what=w["what"], n=n, command=w["argv"](n), counts={str(k): v for k, v in counts.items()},
                            rows=rows))

    info["loadavg_end"] = open("/proc/loadavg").read().split()[:3]
    info["elapsed_s"] = round(time.time() - started, 1)
    config = dict(rounds=args.rounds, quick=args.quick, timeout_s=args.timeout, scale=args.scale,
                  tools=[t["name"] for t in tools], skipped_tools=tool_notes)
    md = render_markdown(info, config, results)
    print(md)
    if args.save:
        os.makedirs(RESULTS, exist_ok=True)
        stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S") + ("-quick" if args.quick else "")
        doc = dict(format="mapblame-bench", version=1, machine=info, config=config, results=results)
        for name in (stamp, "latest"):
            with open(os.path.join(RESULTS, name + ".md"), "w") as f:
                f.write(md)
            with open(os.path.join(RESULTS, name + ".json"), "w") as f:
                json.dump(doc, f, indent=1)
                f.write("\n")
        log(f"bench: wrote bench/results/{stamp}.md and .json (and latest.*), {info['elapsed_s']} s in all")


def render_markdown(info, config, results):
    out = []
    out.append(f"# mapblame bench — {info['date']}{' (quick)' if config['quick'] else ''}")
    out.append("")
    out.append(f"- machine: {info['nproc']} CPUs ({info['cpus_allowed']} allowed), {info['cpu_model']}, {info['memory']} RAM; "
               f"kernel {info['kernel']}; {info['os']}")
    out.append(f"- load average at start {' '.join(info['loadavg_start'])}, at end {' '.join(info['loadavg_end'])}"
               f"{'; every command pinned to CPU ' + info['pin'] if info['pin'] else '; unpinned'}")
    out.append(f"- mapblame {info['mapblame_version']} ({os.path.relpath(info['mapblame'], ROOT)}, built {info['mapblame_built']}; "
               f"repo HEAD at run time {info['repo_head']}); {info['strace']}; {info['valgrind']}; {info['cc']}")
    out.append(f"- {config['rounds']} interleaved rounds, timeout {config['timeout_s']:.0f} s per run, {info['elapsed_s']} s in all"
               + (f"; skipped: {'; '.join(f'{k} ({v})' for k, v in config['skipped_tools'].items())}" if config['skipped_tools'] else ""))
    out.append("")
    out.append("| workload | tool | N | runs | median s | min–max s | × untraced | +ms | calls | µs/call | peak RSS MiB | notes |")
    out.append("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|")
    for r in results:
        for row in r["rows"]:
            ratio = f"{row['ratio']:.2f}" if row["ratio"] is not None else "—"
            extra = f"{row['extra_ms']:.0f}" if row["extra_ms"] is not None and row["tool"] != "untraced" else ""
            if row["tool"] == "untraced":
                ratio = "1" if row["median_s"] is not None else "—"
            upc = ""
            if row["us_per_call"] is not None and row["tool"] != "untraced":
                upc = f"{row['us_per_call']:.1f}"
                if row["calls"] < 1000:
                    upc = f"({upc})"
            mm = f"{fmt_s(row['min_s'])}–{fmt_s(row['max_s'])}" if row["min_s"] is not None else "—"
            rss = f"{row['peak_rss_kib'] / 1024:.1f}" if row["peak_rss_kib"] else "—"
            status = "" if row["runs"] else "**FAILED** "
            out.append(f"| {r['workload']} | {row['tool']} | {row['n'] if row['n'] is not None else ''} | {row['runs']} | "
                       f"{status}{fmt_s(row['median_s'])} | {mm} | {ratio} | {extra} | {row['calls'] if row['calls'] is not None else '?'} | "
                       f"{upc} | {rss} | {'; '.join(row['notes'])} |")
    out.append("")
    out.append("calls: mapping syscalls (mmap munmap mremap mprotect pkey_mprotect brk shmat shmdt) counted once with "
               "`setarch -R strace -f -c` at that N; µs/call = (median − untraced median at the same N) / calls; in parentheses "
               "when calls < 1000 (then start-up and report time dominate). peak RSS: wait4 ru_maxrss of the tool's "
               "process (taken by bench/.out/measure), which includes its largest waited-for child (the program); "
               "for untraced it is the program's. See bench/README.md.")
    out.append("")
    return "\n".join(out)


if __name__ == "__main__":
    main()
