#!/usr/bin/env python3
"""Scale run for `make bench`: record N mapping events (mbfixture loop), then report on the trace.

Measures the recorder's peak RSS against the number of events (it must not grow with them: the
trace is streamed), the trace size per event, and how long `report` takes. Results go to
bench/results/scale-latest.md and .json next to run.py's.
"""
import argparse, json, os, platform, subprocess, sys, time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def timed(cmd):
    """Runs cmd; returns (wall seconds, peak RSS KiB of that child)."""
    start = time.monotonic()
    p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(p.pid, 0)
    wall = time.monotonic() - start
    if status != 0:
        sys.exit(f"scale: {' '.join(cmd)} failed with status {status}")
    return wall, usage.ru_maxrss


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--mapblame", default=os.path.join(ROOT, ".build", "release", "mapblame"))
    ap.add_argument("--fixture", default=os.path.join(ROOT, ".build", "release", "mbfixture"))
    ap.add_argument("--events", default="100000,1000000", help="comma-separated event counts")
    ap.add_argument("--cpu", default="1", help="--cpu for mapblame record (tracer and program on one CPU)")
    args = ap.parse_args()
    rows = []
    for events in [int(e) for e in args.events.split(",")]:
        trace = f"/tmp/mapblame-scale-{events}.trace"
        rec_wall, rec_rss = timed([args.mapblame, "record", "-q", "--cpu", args.cpu, "-o", trace, "--",
                                   args.fixture, "loop", str(events // 2)])
        size = os.path.getsize(trace)
        rep_wall, rep_rss = timed([args.mapblame, "report", "-o", "/dev/null", trace])
        os.unlink(trace)
        rows.append({"events": events, "record_s": round(rec_wall, 2), "record_peak_rss_kib": rec_rss,
                     "trace_bytes": size, "bytes_per_event": round(size / events, 1),
                     "us_per_event": round(rec_wall / events * 1e6, 1),
                     "report_s": round(rep_wall, 2), "report_peak_rss_kib": rep_rss})
        print(rows[-1], flush=True)
    lines = [f"# mapblame scale run ({platform.node()}, {os.cpu_count()} CPUs, {platform.release()})", "",
             "| events | record s | µs/event | recorder peak RSS | trace bytes | bytes/event | report s | report peak RSS |",
             "|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for r in rows:
        lines.append(f"| {r['events']:,} | {r['record_s']} | {r['us_per_event']} | {r['record_peak_rss_kib'] // 1024} MiB "
                     f"| {r['trace_bytes']:,} | {r['bytes_per_event']} | {r['report_s']} | {r['report_peak_rss_kib'] // 1024} MiB |")
    out = os.path.join(ROOT, "bench", "results")
    os.makedirs(out, exist_ok=True)
    with open(os.path.join(out, "scale-latest.md"), "w") as f:
        f.write("\n".join(lines) + "\n")
    with open(os.path.join(out, "scale-latest.json"), "w") as f:
        json.dump(rows, f, indent=2)
    print("\n".join(lines))


if __name__ == "__main__":
    main()
