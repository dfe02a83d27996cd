#!/usr/bin/env python3
"""make realworld: real programs nobody here wrote, each traced by `mapblame run --verify`.

For every case it checks what a user would check by hand:
  - the traced program exits as the untraced one does, and prints the same (where it is deterministic);
  - mapblame itself did not crash (no signal status, no Swift fatal error);
  - every process has a final snapshot, 0 mismatched pages, 100% of its anonymous bytes attributed;
  - 0 label disagreements (words against evidence, where --verify reports them);
  - no allocator-internal function among the top sites by RSS (the site is the caller, not malloc's
    insides, not the Go runtime's sysMmap, not jemalloc's extent hooks...).

Prints a markdown table (stdout) and exits 1 if any case fails. Cases whose program is not
installed are listed as skipped with the reason (make realworld installs them first).
Python 3 standard library only.
"""
import argparse
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))

# Functions that are the allocator's insides, never the answer to "who made this mapping".
ALLOCATOR_INTERNAL = re.compile(
    r"^(runtime\.(sysMmap|sysAlloc|sysAllocOS|sysReserve|sysReserveOS|sysMap|sysMapOS|sysUsed|persistentalloc|"
    r"persistentalloc1|\(\*mheap\)\.(grow|sysAlloc)|\(\*linearAlloc\)\.alloc|mmap|newArena|stackalloc|malg)|"
    r"_?_?(libc_)?(malloc|calloc|realloc|sysmalloc|_int_malloc|new_heap|alloc_new_heap|_int_new_arena|arena_get2)|"
    r"__minimal_(malloc|calloc|realloc)|"
    r"(je_|_rjem_)?(extent_alloc_mmap|pages_map|os_pages_map|ehooks_default_alloc_impl|base_map|base_block_alloc|"
    r"extent_alloc_wrapper|arena_extent_alloc_large|mallocx|je_malloc_default|imalloc_body)|"
    r"_PyObject_ArenaMmap|_PyObject_Malloc|pymalloc_alloc|new_arena|"
    r"partition_alloc::.*|base::allocator::.*|"
    r"os::(pd_)?reserve_memory.*|os::(pd_)?commit_memory.*|"
    r"v8::internal::(VirtualMemory|OS::Allocate|PageAllocator).*|"
    r"mi_(os|segment|page)_.*|tcmalloc::.*)$")


def log(msg):
    print(msg, file=sys.stderr, flush=True)


def have(*programs):
    missing = [p for p in programs if shutil.which(p) is None and not os.path.exists(p)]
    return None if not missing else "not installed: " + ", ".join(missing)


def wait_port(port, timeout=30):
    end = time.time() + timeout
    while time.time() < end:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return True
        except OSError:
            time.sleep(0.1)
    return False


def child_of(pid, timeout=10):
    """The traced program: mapblame's first child (mapblame forks it)."""
    end = time.time() + timeout
    while time.time() < end:
        try:
            with open(f"/proc/{pid}/task/{pid}/children") as f:
                kids = f.read().split()
            if kids:
                return int(kids[0])
        except OSError:
            return None
        time.sleep(0.05)
    return None


class Case:
    """A program to run untraced and traced. `command(work)` gives argv; `drive(proc, work)` runs
    the client side of a server and stops it (returns client output that must match)."""

    def __init__(self, name, command, needs=(), compare_output=True, drive=None, prepare=None, timeout=300,
                 env=None, user=None):
        self.name, self.command, self.needs = name, command, needs
        self.compare_output, self.drive, self.prepare = compare_output, drive, prepare
        self.timeout, self.env, self.user = timeout, env, user


def run_once(case, work, prefix):
    """Runs the case (with mapblame `prefix`, or untraced); returns (status, stdout, client output, seconds)."""
    argv = prefix + case.command(work)
    env = dict(os.environ, **(case.env(work) if case.env else {}))
    start = time.time()
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, cwd=work,
                            start_new_session=True)
    client = ""
    try:
        if case.drive:
            target = child_of(proc.pid) if prefix else proc.pid
            client = case.drive(proc, target, work)
        out, err = proc.communicate(timeout=case.timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        out, err = proc.communicate()
        return None, out.decode(errors="replace"), client, time.time() - start, err.decode(errors="replace")
    except Exception:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()
        raise
    return proc.returncode, out.decode(errors="replace"), client, time.time() - start, err.decode(errors="replace")


def top_sites(process, count=10):
    by_site = {}
    for region in process.get("regions", []):
        for origin in region.get("origins", []):
            site = origin.get("site") or {}
            name = site.get("function")
            if not name:
                continue
            size = int(origin["end"], 16) - int(origin["start"], 16)
            rss = region.get("rss_bytes", 0) * size // max(1, int(region["end"], 16) - int(region["start"], 16))
            by_site[name] = by_site.get(name, 0) + rss
    return sorted(by_site, key=lambda n: -by_site[n])[:count]


def check(case, work, mapblame):
    reason = case.needs and have(*case.needs)
    if reason:
        return {"case": case.name, "result": "skipped", "why": reason}
    if case.prepare:
        case.prepare(work)
    base = run_once(case, work, [])
    json_path = os.path.join(work, "report.json")
    traced = run_once(case, work, [mapblame, "run", "--verify", "-q", "--json", json_path, "-o",
                                   os.path.join(work, "report.txt"), "--"])
    row = {"case": case.name, "untraced_status": base[0], "traced_status": traced[0],
           "untraced_s": round(base[3], 2), "traced_s": round(traced[3], 2), "problems": []}
    problems = row["problems"]
    if traced[0] is None:
        problems.append("timed out")
    elif traced[0] != base[0] and traced[0] != 3:
        problems.append(f"exit status {traced[0]}, untraced {base[0]}")
    # Popen gives -N for a process killed by signal N; mapblame itself exits 128+N for a program
    # killed by N, so a negative status is mapblame's own death.
    if traced[0] is not None and (traced[0] < 0 or "Fatal error" in traced[4]):
        last = traced[4].strip().splitlines()[-1][:200] if traced[4].strip() else f"signal {-traced[0]}"
        problems.append(f"mapblame crashed ({last})")
    # A server's own output holds its log (times, pids): what must match is what its clients got.
    same = traced[2] == base[2] if case.drive else traced[1] == base[1]
    if case.compare_output and not same:
        problems.append("output differs from the untraced run")
    try:
        with open(json_path) as f:
            report = json.load(f)
    except (OSError, ValueError) as e:
        problems.append(f"no JSON report ({e.__class__.__name__})")
        report = {"processes": []}
    processes = report.get("processes", [])
    row["processes"] = len(processes)
    mismatched = sum((p.get("verify") or {}).get("mismatched_pages", 0) for p in processes)
    anonymous = sum((p.get("verify") or {}).get("anonymous_bytes", 0) for p in processes)
    attributed = sum((p.get("verify") or {}).get("attributed_anonymous_bytes", 0) for p in processes)
    disagreements = sum(len((p.get("verify") or {}).get("label_disagreements", [])) for p in processes)
    no_snapshot = [p["pid"] for p in processes if not p.get("snapshot")]
    row.update(mismatched_pages=mismatched, coverage=round(100.0 * attributed / anonymous, 2) if anonymous else 100.0,
               label_disagreements=disagreements, no_snapshot=len(no_snapshot))
    internal = sorted({s for p in processes for s in top_sites(p) if ALLOCATOR_INTERNAL.match(s)})
    row["allocator_sites"] = internal
    if mismatched:
        problems.append(f"{mismatched} mismatched pages")
    if anonymous and attributed != anonymous:
        problems.append(f"coverage {row['coverage']}%")
    if disagreements:
        problems.append(f"{disagreements} label disagreements")
    if no_snapshot:
        problems.append(f"{len(no_snapshot)} processes without a final snapshot")
    if internal:
        problems.append("allocator-internal top sites: " + ", ".join(internal[:4]))
    row["result"] = "FAIL" if problems else "ok"
    return row


# MARK: the cases

def sh(script):
    return lambda work: ["/bin/bash", "-c", script]


def write(work, name, text):
    path = os.path.join(work, name)
    with open(path, "w") as f:
        f.write(text)
    return path


def compile_go(work):
    write(work, "main.go", GO_SOURCE)
    env = dict(os.environ, GOCACHE=os.path.join(work, "gocache"), GOPATH=os.path.join(work, "gopath"), GO111MODULE="off")
    subprocess.run(["go", "build", "-o", os.path.join(work, "goalloc"), os.path.join(work, "main.go")], check=True, env=env,
                   cwd=work)


GO_SOURCE = """package main

import (
	"fmt"
	"sync"
)

func churn(id int, wg *sync.WaitGroup, out []int) {
	defer wg.Done()
	keep := make([][]byte, 0, 64)
	for i := 0; i < 2000; i++ {
		b := make([]byte, 1024*(1+i%64))
		b[0] = byte(i)
		if i%32 == 0 {
			keep = append(keep, b)
		}
	}
	out[id] = len(keep)
}

func main() {
	var wg sync.WaitGroup
	out := make([]int, 50)
	for g := 0; g < 50; g++ {
		wg.Add(1)
		go churn(g, &wg, out)
	}
	wg.Wait()
	total := 0
	for _, n := range out {
		total += n
	}
	fmt.Println("kept", total)
}
"""

JAVA_SOURCE = """import java.util.*;
public class Threads {
    public static void main(String[] args) throws Exception {
        List<Thread> threads = new ArrayList<>();
        final long[] sums = new long[8];
        for (int t = 0; t < 8; t++) {
            final int id = t;
            Thread th = new Thread(() -> {
                List<byte[]> keep = new ArrayList<>();
                for (int i = 0; i < 20000; i++) { byte[] b = new byte[512 + i % 4096]; b[0] = (byte) i; if (i % 100 == 0) keep.add(b); }
                sums[id] = keep.size();
            });
            threads.add(th);
            th.start();
        }
        long total = 0;
        for (int t = 0; t < 8; t++) { threads.get(t).join(); total += sums[t]; }
        System.out.println("kept " + total);
    }
}
"""

MONO_SOURCE = """using System; using System.Collections.Generic; using System.Threading;
class P { static void Main() {
  var keep = new List<byte[]>(); var ts = new List<Thread>();
  for (int t = 0; t < 4; t++) { var th = new Thread(() => { var l = new List<byte[]>(); for (int i = 0; i < 20000; i++) l.Add(new byte[64]); lock (keep) keep.Add(new byte[l.Count]); }); ts.Add(th); th.Start(); }
  foreach (var th in ts) th.Join(); Console.WriteLine("kept " + keep.Count); } }
"""

PYTHON_SCRIPT = """
import threading
def objects():
    return [dict(i=i) for i in range(200000)]
def big():
    return b"x" * (64 << 20)
t = threading.Thread(target=objects); t.start(); t.join()
print(len(objects()), len(big()))
"""


def drive_nginx(proc, target, work):
    if not wait_port(18080):
        return "no port"
    out = []
    for i in range(50):
        out.append(subprocess.run(["curl", "-s", "http://127.0.0.1:18080/"], capture_output=True, text=True).stdout)
    os.kill(target, signal.SIGQUIT)
    return str(len(set(out))) + out[0]


def nginx_config(work):
    os.makedirs(os.path.join(work, "html"), exist_ok=True)
    write(work, "html/index.html", "hello from nginx\n")
    write(work, "nginx.conf", f"""worker_processes 2;
daemon off;
pid {work}/nginx.pid;
error_log {work}/error.log;
events {{ worker_connections 64; }}
http {{
    access_log off;
    client_body_temp_path {work}/tmp; proxy_temp_path {work}/tmp; fastcgi_temp_path {work}/tmp;
    uwsgi_temp_path {work}/tmp; scgi_temp_path {work}/tmp;
    server {{ listen 127.0.0.1:18080; root {work}/html; }}
}}
""")
    os.makedirs(os.path.join(work, "tmp"), exist_ok=True)


def drive_redis(proc, target, work):
    if not wait_port(16379):
        return "no port"
    r = subprocess.run(["redis-benchmark", "-p", "16379", "-n", "5000", "-q", "-t", "set,get,lpush"], capture_output=True,
                       text=True)
    subprocess.run(["redis-cli", "-p", "16379", "shutdown", "nosave"], capture_output=True)
    return "benchmark " + ("ok" if r.returncode == 0 else "failed")


def drive_memcached(proc, target, work):
    if not wait_port(11311):
        return "no port"
    with socket.create_connection(("127.0.0.1", 11311)) as s:
        f = s.makefile("rwb")
        stored = 0
        for i in range(2000):
            value = b"v" * (100 + i % 5000)
            f.write(b"set k%d 0 0 %d\r\n%s\r\n" % (i, len(value), value))
            f.flush()
            stored += f.readline().strip() == b"STORED"
    os.kill(target, signal.SIGTERM)
    return f"stored {stored}"


PG_BIN = "/usr/lib/postgresql/15/bin"


def postgres_prepare(work):
    data = os.path.join(work, "pgdata")
    shutil.chown(work, "postgres")
    subprocess.run(["runuser", "-u", "postgres", "--", f"{PG_BIN}/initdb", "-D", data, "-A", "trust"], check=True,
                   capture_output=True)


def drive_postgres(proc, target, work):
    if not wait_port(15432, 60):
        return "no port"
    ok = True
    for args in (["-i", "-s", "2"], ["-c", "4", "-t", "100"]):
        r = subprocess.run(["runuser", "-u", "postgres", "--", "pgbench", "-h", "127.0.0.1", "-p", "15432", *args, "postgres"],
                           capture_output=True, text=True)
        ok = ok and r.returncode == 0
    os.kill(target, signal.SIGINT)  # fast shutdown
    return "pgbench " + ("ok" if ok else "failed")


def mariadb_prepare(work):
    subprocess.run(["mariadb-install-db", "--no-defaults", f"--datadir={work}/db", "--user=root",
                    "--auth-root-authentication-method=normal"], check=True, capture_output=True)


def drive_mariadb(proc, target, work):
    sock = os.path.join(work, "mysql.sock")
    end = time.time() + 60
    while time.time() < end and not os.path.exists(sock):
        time.sleep(0.2)
    queries = ["CREATE DATABASE IF NOT EXISTS t", "CREATE TABLE IF NOT EXISTS t.k (id INT PRIMARY KEY, v TEXT)"]
    queries += [f"REPLACE INTO t.k VALUES ({i}, REPEAT('x', {i % 500}))" for i in range(300)]
    queries += ["SELECT COUNT(*), SUM(LENGTH(v)) FROM t.k"]
    r = subprocess.run(["mariadb", "--no-defaults", "-S", sock, "-u", "root", "-N", "-e", ";".join(queries)],
                       capture_output=True, text=True)
    subprocess.run(["mariadb-admin", "--no-defaults", "-S", sock, "-u", "root", "shutdown"], capture_output=True)
    return r.stdout


def home_env(work):
    os.makedirs(os.path.join(work, "home"), exist_ok=True)
    os.chmod(os.path.join(work, "home"), 0o777)
    return {"HOME": os.path.join(work, "home"), "XDG_CONFIG_HOME": os.path.join(work, "home"),
            "XDG_CACHE_HOME": os.path.join(work, "home")}


C32_SOURCE = r"""
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>
static void *work(void *arg) {
    for (int i = 0; i < 200; i++) { char *p = malloc(1000 + i * 100); memset(p, 1, 100); if (i % 3) free(p); }
    char *m = mmap(NULL, 1 << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    mprotect(m, 4096, PROT_READ);
    return arg;
}
int main(void) {
    pthread_t t[4];
    for (int i = 0; i < 4; i++) pthread_create(&t[i], NULL, work, NULL);
    for (int i = 0; i < 4; i++) pthread_join(t[i], NULL);
    char *big = malloc(4 << 20); big[0] = 1;
    pid_t child = fork();
    if (child == 0) { work(NULL); _exit(0); }
    waitpid(child, NULL, 0);
    return system("echo from a 64-bit shell") == 0 ? 0 : 1;
}
"""

RUST_SOURCE = r"""
use std::thread;
fn build_table(n: usize) -> Vec<Vec<u8>> { (0..n).map(|i| vec![i as u8; 64 + i % 4096]).collect() }
fn main() {
    let handles: Vec<_> = (0..4).map(|i| thread::spawn(move || build_table(2000 + i).len())).collect();
    let total: usize = handles.into_iter().map(|h| h.join().unwrap()).sum();
    let big = vec![1u8; 8 << 20];
    println!("{} {}", total, big.len());
}
"""


def compile_c(flags, name):
    def prepare(work):
        subprocess.run(["gcc", "-g", "-O1", "-pthread", *flags, "-o", os.path.join(work, name),
                        write(work, name + ".c", C32_SOURCE)], check=True, capture_output=True)
    return prepare


def compile_rust(work):
    subprocess.run(["rustc", "-g", "-O", "-o", os.path.join(work, "rusty"), write(work, "rusty.rs", RUST_SOURCE)],
                   check=True, capture_output=True)


def in_mount_namespace(work):
    """The program runs from /mnt, a bind mount that exists only in its own mount namespace."""
    compile_c([], "layout")(work)
    return ["unshare", "-m", "--propagation", "private", "sh", "-c",
            f"mount --bind {work} /mnt && exec /mnt/layout"]


# setpriv execs the program in place (runuser forks and waits, so a signal to it would not reach
# the program).
AS_POSTGRES = ["setpriv", "--reuid=postgres", "--regid=postgres", "--init-groups", "--"]
AS_NOBODY = ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups", "--"]

CASES = [
    Case("perl", sh("perl -e 'my %h; $h{$_} = $_ x 100 for 1..100000; print scalar(keys %h), \"\\n\"'"), needs=["perl"]),
    Case("ruby", sh("ruby -e 'a = (1..200000).map { |i| i.to_s * 10 }; puts a.size'"), needs=["ruby"]),
    Case("php", sh("php -r '$a = []; for ($i = 0; $i < 200000; $i++) $a[] = str_repeat(\"x\", 50); echo count($a), \"\\n\";'"),
         needs=["php"]),
    Case("python3", lambda w: ["python3", write(w, "script.py", PYTHON_SCRIPT)], needs=["python3"]),
    Case("shell-200-pipelines", sh("for i in $(seq 200); do echo $i | sort | wc -l; done | sort | uniq -c")),
    Case("setuid-passwd", lambda w: ["passwd", "-S", "root"], needs=["passwd"]),
    Case("node-worker", lambda w: ["node", "-e", "const {Worker} = require('worker_threads');"
                                   "const w = new Worker('const a = []; for (let i = 0; i < 1e5; i++) a.push({i});', {eval: true});"
                                   "w.on('exit', c => console.log('worker exited', c));"], needs=["node"]),
    Case("go-50-goroutines", lambda w: [os.path.join(w, "goalloc")], needs=["go"], prepare=compile_go),
    Case("java-threads", lambda w: ["java", "-Xmx256m", "-cp", w, "Threads"], needs=["java", "javac"],
         prepare=lambda w: subprocess.run(["javac", "-d", w, write(w, "Threads.java", JAVA_SOURCE)], check=True)),
    Case("mono", lambda w: ["mono", os.path.join(w, "p.exe")], needs=["mono", "mcs"],
         prepare=lambda w: subprocess.run(["mcs", "-out:" + os.path.join(w, "p.exe"), write(w, "p.cs", MONO_SOURCE)],
                                          check=True, capture_output=True)),
    Case("gcc-m32-threads", lambda w: [os.path.join(w, "prog32")], needs=["gcc"], prepare=compile_c(["-m32"], "prog32")),
    Case("gcc-static", lambda w: [os.path.join(w, "progstatic")], needs=["gcc"], prepare=compile_c(["-static"], "progstatic")),
    Case("gcc-static-pie", lambda w: [os.path.join(w, "progspie")], needs=["gcc"],
         prepare=compile_c(["-static-pie"], "progspie")),
    Case("busybox-static", lambda w: ["busybox", "sh", "-c", "for i in 1 2 3; do echo $i | busybox wc -c; done"],
         needs=["busybox"]),
    Case("rust-threads", lambda w: [os.path.join(w, "rusty")], needs=["rustc"], prepare=compile_rust),
    Case("mount-namespace", in_mount_namespace, needs=["unshare", "gcc"]),
    Case("nginx-2-workers", lambda w: ["nginx", "-c", os.path.join(w, "nginx.conf"), "-p", w], needs=["nginx", "curl"],
         prepare=nginx_config, drive=drive_nginx),
    Case("redis", lambda w: ["redis-server", "--port", "16379", "--save", "", "--appendonly", "no", "--dir", w],
         needs=["redis-server", "redis-benchmark"], drive=drive_redis),
    Case("memcached", lambda w: ["memcached", "-u", "nobody", "-l", "127.0.0.1", "-p", "11311", "-t", "4"],
         needs=["memcached"], drive=drive_memcached),
    Case("postgresql-pgbench", lambda w: AS_POSTGRES + [f"{PG_BIN}/postgres", "-D", os.path.join(w, "pgdata"),
                                          "-p", "15432", "-k", w, "-c", "listen_addresses=127.0.0.1"],
         needs=[f"{PG_BIN}/postgres", "pgbench"], prepare=postgres_prepare, drive=drive_postgres),
    Case("mariadb", lambda w: ["mariadbd", "--no-defaults", f"--datadir={w}/db", f"--socket={w}/mysql.sock",
                               "--skip-networking", "--user=root", f"--pid-file={w}/m.pid"],
         needs=["mariadbd", "mariadb"], prepare=mariadb_prepare, drive=drive_mariadb),
    Case("chromium-no-sandbox", lambda w: ["chromium", "--headless", "--disable-gpu", "--no-sandbox",
                                           "--dump-dom", "file:///etc/hostname"], needs=["chromium"], env=home_env),
    Case("chromium-sandboxed", lambda w: AS_NOBODY + ["chromium", "--headless", "--disable-gpu",
                                          "--dump-dom", "file:///etc/hostname"], needs=["chromium"], env=home_env),
    Case("firefox-esr", lambda w: ["firefox-esr", "--headless", "--screenshot", os.path.join(w, "shot.png"),
                                   "file:///etc/hostname"], needs=["firefox-esr"], env=home_env, compare_output=False),
    Case("libreoffice", lambda w: ["soffice", "--headless", "--convert-to", "pdf", "--outdir", w,
                                   write(w, "doc.txt", "hello\n")], needs=["soffice"], env=home_env, compare_output=False),
]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--mapblame", default=os.path.join(HERE, "..", ".build", "release", "mapblame"))
    parser.add_argument("--cases", help="comma-separated case names (default: all)")
    parser.add_argument("--json", help="also write the rows as JSON to this file")
    args = parser.parse_args()
    wanted = set(args.cases.split(",")) if args.cases else None
    rows = []
    for case in CASES:
        if wanted and case.name not in wanted:
            continue
        work = tempfile.mkdtemp(prefix=f"mapblame-realworld-{case.name}-")
        os.chmod(work, 0o755)
        log(f"realworld: {case.name} ...")
        try:
            row = check(case, work, os.path.abspath(args.mapblame))
        except Exception as e:  # a broken setup is a failed case, with its reason
            row = {"case": case.name, "result": "FAIL", "problems": [f"setup failed: {e}"]}
        finally:
            shutil.rmtree(work, ignore_errors=True)
        log(f"realworld: {case.name}: {row['result']} {'; '.join(row.get('problems', [])) or row.get('why', '')}")
        rows.append(row)
    print("| case | result | exit traced/untraced | processes | mismatched pages | coverage | label disagreements "
          "| allocator-internal top sites | time traced/untraced | problems |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        if r["result"] == "skipped":
            print(f"| {r['case']} | skipped | | | | | | | | {r['why']} |")
            continue
        print(f"| {r['case']} | {r['result']} | {r.get('traced_status')}/{r.get('untraced_status')} | {r.get('processes', '')} "
              f"| {r.get('mismatched_pages', '')} | {r.get('coverage', '')}% | {r.get('label_disagreements', '')} "
              f"| {len(r.get('allocator_sites', []))} | {r.get('traced_s', '')} s / {r.get('untraced_s', '')} s "
              f"| {'; '.join(r.get('problems', []))} |")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(rows, f, indent=2)
    failed = [r["case"] for r in rows if r["result"] == "FAIL"]
    ran = [r for r in rows if r["result"] != "skipped"]
    print(f"\nrealworld: {len(ran) - len(failed)} passed, {len(failed)} failed, {len(rows) - len(ran)} skipped")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
