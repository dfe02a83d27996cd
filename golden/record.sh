#!/usr/bin/env bash
# golden/record.sh MAPBLAME FIXTURES OUT: records the golden corpus's traces into OUT/traces:
# the demo, gcc -c, sqlite3, python3, node, and an attach session to a running daemon (mbfixture serve).
# FIXTURES is the folder holding mapblame-demo and mbfixture (the build's bin path).
set -euo pipefail
mapblame=$1 fixtures=$2 out=$3
mkdir -p "$out/traces" "$out/work"
work=$out/work
rec() { local name=$1; shift; "$mapblame" record -q -o "$out/traces/$name.trace" -- "$@" >/dev/null 2>"$work/$name.err" || true; }

rec demo "$fixtures/mapblame-demo"
printf '#include <stdio.h>\nint main(void) { puts("hi"); return 0; }\n' > "$work/hello.c"
rec gcc gcc -c -O2 -o "$work/hello.o" "$work/hello.c"
rec sqlite3 sqlite3 "$work/db.sqlite" "create table t(a, b); insert into t select value, randomblob(100) from generate_series(1, 2000); select count(*) from t;"
rec python3 /usr/bin/python3 -c "import json, threading; t = threading.Thread(target=lambda: [dict(i=i) for i in range(50000)]); t.start(); t.join(); print(len(json.dumps(list(range(10000)))))"
rec node node -e "const a = []; for (let i = 0; i < 100000; i++) a.push({i}); console.log(a.length)"

# attach: a daemon that keeps mapping, watched for one second.
"$fixtures/mbfixture" serve "$work/serve.log" > "$work/serve.out" &
daemon=$!
for _ in $(seq 500); do grep -q "ready=1" "$work/serve.out" 2>/dev/null && break; sleep 0.01; done
"$mapblame" attach "$daemon" -q --duration 1 --trace "$out/traces/attach.trace" -o /dev/null 2>"$work/attach.err" || true
kill -USR1 "$daemon"; wait "$daemon" || true
ls -l "$out/traces"
