#!/usr/bin/env bash
# Replays the careless- and hostile-user drills of issue 18 through scripts/pipeline.sh on a tiny simulated store,
# checking for each the exit code, the one line the user sees, and that no row was lost.
#   scripts/drills.sh [WORK_DIR]      (default out/drills; about 5 minutes on 2 cores)
# Prints one line per drill and a Markdown table at the end; exits 1 when a drill does not behave as documented.
set -uo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
WORK="$(mkdir -p "${1:-out/drills}" && cd "${1:-out/drills}" && pwd)"
rm -rf "${WORK:?}"/*
STORE="$WORK/store"
CONF="$WORK/drills.conf"
cat > "$CONF" <<EOF
include "reference"
convcg {
  storage.root = "$STORE"
  spark { master = "local[2]", shuffle-partitions = 2 }
  simulate { days = 6, users = 300, pins = 400, advertisers = 20, categories = 8, topic-dim = 8,
             impressions-per-user-day = 10, partitions = 2 }
}
EOF
RESULTS=()
FAILED=0
t0=$(date +%s)

# drill ID "what the user did" EXPECTED_EXIT "extended regex the output must match" -- command...
drill() {
  local id="$1" what="$2" want="$3" pattern="$4"; shift 5
  local log="$WORK/$id.log"
  "$@" > "$log" 2>&1
  local got=$?
  local line; line=$(grep -E "^error: |status=(INVALID|FAILED|INPUTS_MISSING)" "$log" | head -1 | cut -c1-220)
  local ok=PASS
  if [[ "$got" != "$want" ]] || ! grep -qE "$pattern" "$log"; then ok=FAIL; FAILED=1; fi
  printf '[%4ss] %-4s %-5s exit %s (want %s) %s\n' "$(( $(date +%s) - t0 ))" "$id" "$ok" "$got" "$want" "${line:-}"
  RESULTS+=("| $id | $what | $want | $got | $ok |")
}

# check ID "what must hold" SQL EXPECTED_OUTPUT_REGEX
check() {
  local id="$1" what="$2" sql="$3" pattern="$4"
  local out; out=$(scripts/sql.sh --config "$CONF" "$sql" 2>/dev/null)
  local ok=PASS
  if ! grep -qE "$pattern" <<<"$out"; then ok=FAIL; FAILED=1; echo "$out"; fi
  printf '[%4ss] %-4s %-5s %s\n' "$(( $(date +%s) - t0 ))" "$id" "$ok" "$what"
  RESULTS+=("| $id | $what | | | $ok |")
}

P=(scripts/pipeline.sh)
C=(--config "$CONF")
DAY5=$(date -ud '2026-10-05 12:00' +%s)
csv() { local f="$WORK/$1"; shift; printf '%s\n' "$@" > "$f"; echo "$f"; }
# import_file FILE [--set ...]: import-events of FILE under run date 2026-10-06
import_file() { local f="$1"; shift; "${P[@]}" import-events "${C[@]}" --set "import-events.input=\"$f\"" --set run-date=2026-10-06 "$@"; }

drill sim "simulate the tiny store" 0 "status=OK" -- "${P[@]}" simulate "${C[@]}"
check sim0 "6 simulated days" "SELECT count(DISTINCT ds) AS days FROM impressions" "^ *6 *$"

F=$(csv q01.csv "1,100,7,pv,$DAY5" "2,101,7,buy,$((DAY5 + 60))" "3,102,7,pv,4102444800" "4,103,7,pv,-86400")
drill q01 "file of one day plus rows dated 2100 and 1969 into a simulated store" 0 "status=OK" -- \
  import_file "$F"
check q01a "the other five days untouched, the day replaced, 2 rows quarantined" \
  "SELECT (SELECT count(DISTINCT ds) FROM impressions WHERE ds <> '2026-10-05') AS other_days, (SELECT count(*) FROM impressions WHERE ds = '2026-10-05') AS day_rows, (SELECT count(*) FROM quarantine WHERE reason = 'TIMESTAMP_OUT_OF_RANGE') AS q" \
  "^ *5 +1 +2 *$"

F2=$(csv q02.csv "5,104,7,zzz,$DAY5" "6,105,7,pv,$DAY5")
drill q02 "a second file under the same run date" 0 "status=OK" -- \
  import_file "$F2" \
  --set import-events.mode=append
check q02a "the first file's rejects are still there beside the second's" \
  "SELECT count(*) AS q, count(DISTINCT input_hash) AS inputs FROM quarantine WHERE stage = 'import-events'" "^ *3 +2 *$"

F3=$(csv i04b.csv "7,106,7,zzz,$DAY5" "8,107,7,yyy,$DAY5")
drill i04b "no row of the file maps" 2 "^error: .*no row could be mapped" -- \
  import_file "$F3"
check i04c "its rejected rows are in the quarantine anyway" \
  "SELECT count(*) FROM quarantine WHERE input_path LIKE '%i04b.csv'" "^ *2 *$"

F4=$(csv i16.csv "1,100,7,pv,$DAY5" "2,101,7,pv,$((DAY5 + 5))")
drill i16 "timestamp-unit = millis on a file of seconds" 2 "^error: .*(seconds|unit)" -- \
  import_file "$F4" \
  --set import-events.timestamp-unit=millis

F5=$(csv i01.csv "1,100,7,pv,$DAY5,9" "2,101,7,pv,$DAY5" "3,102,7,pv" "4,103,7,pv,99999999999999")
drill i01 "rows with six and four fields, and a timestamp that overflows" 0 "status=OK" -- \
  import_file "$F5"
check i01a "two WRONG_FIELD_COUNT and one TIMESTAMP_OUT_OF_RANGE, one row imported" \
  "SELECT reason, count(*) FROM quarantine WHERE input_path LIKE '%i01.csv' GROUP BY reason ORDER BY reason" \
  "TIMESTAMP_OUT_OF_RANGE +1"

drill i11c "--set import-events.event-values replaces the preset's map" 2 "^error: .*no row could be mapped" -- \
  import_file "$F4" \
  --set 'import-events.event-values={click=[IMPRESSION,CLICK]}'

drill i11 "a mapped column the file lacks" 2 "^error: convcg.import-events.pin-id = \"nope\"" -- \
  import_file "$F4" \
  --set import-events.pin-id=nope

E=$(csv empty.csv); : > "$E"
drill empty "an empty file" 2 "^error: .* is empty" -- \
  import_file "$E"

head -c 60 /dev/urandom | gzip -c | head -c 20 > "$WORK/trunc.csv.gz"
drill gz "a truncated gzip file" 2 "^error: .*trunc.csv.gz" -- \
  import_file "$WORK/trunc.csv.gz"

drill pq "a CSV file read as Parquet" 2 "^error: .*i16.csv" -- \
  import_file "$F4" \
  --set import-events.format=parquet

printf 'convcg { storage.root = "%s"\n  spark { master = "local[2]" \n' "$STORE" > "$WORK/broken.conf"
drill c04 "a HOCON syntax error" 2 "^error: .*broken.conf" -- "${P[@]}" check-inputs --config "$WORK/broken.conf"

drill p10b "nightly with --set skip-complete=false" 0 "skip-complete=false" -- \
  "${P[@]}" --dry-run nightly "${C[@]}" --set skip-complete=false

# q05: kill -9 of import-events right after its impressions commit
BIG=()
for u in $(seq 1 3000); do BIG+=("$u,$((5000 + u)),7,pv,$((DAY5 + u))" "$u,$((5000 + u)),7,buy,$((DAY5 + u + 1))"); done
F6=$(csv q05.csv "${BIG[@]}")
v=$(ls "$STORE/tables/impressions/_delta_log/" | grep -c '\.json$')
next=$(printf '%s/tables/impressions/_delta_log/%020d.json' "$STORE" "$v")
# launched directly (not through import_file), so that $! is the JVM itself: pipeline.sh execs java
"${P[@]}" import-events "${C[@]}" --set "import-events.input=\"$F6\"" --set run-date=2026-10-06 > "$WORK/q05-kill.log" 2>&1 &
pid=$!
for _ in $(seq 1 3000); do [[ -f "$next" ]] && break; kill -0 "$pid" 2>/dev/null || break; sleep 0.05; done
pkill -9 -P "$pid" 2>/dev/null; kill -9 "$pid" 2>/dev/null; wait "$pid" 2>/dev/null
drill q05 "check-inputs after import-events was killed -9 after its impressions" 3 \
  "was interrupted: impressions at the new state" -- "${P[@]}" check-inputs "${C[@]}" --set run-date=2026-10-05
drill q05b "rerun the killed import" 0 "rolling back" -- \
  import_file "$F6"
drill q05c "check-inputs after the rerun" 0 "status=OK" -- "${P[@]}" check-inputs "${C[@]}" --set run-date=2026-10-05

drill p11 "forget-users 5" 0 "status=OK" -- "${P[@]}" forget-users "${C[@]}" --set 'forget-users.user-ids=[5]'
check p11a "user 5's rejected row left the quarantine" \
  "SELECT count(*) FROM quarantine WHERE user_id = 5 OR get_json_object(row_json, '\$._c0') = '5'" "^ *0 *$"

scripts/sql.sh --config "$CONF" "CREATE OR REPLACE TABLE delta.\`$STORE/tables/engagements\` USING delta \
  PARTITIONED BY (ds) AS SELECT impression_id, user_id, pin_id AS item_id, type, ts, click_duration_ms, ds \
  FROM engagements" > "$WORK/p12-setup.log" 2>&1
drill p12 "a renamed column in a raw table" 2 "^error: raw table 'engagements' .*column 'pin_id' \(bigint\) is missing" -- \
  "${P[@]}" nightly "${C[@]}" --set run-date=2026-10-05

echo
echo "| drill | what the user did / what must hold | exit wanted | exit got | result |"
echo "|---|---|---|---|---|"
printf '%s\n' "${RESULTS[@]}"
echo
echo "drills finished in $(( $(date +%s) - t0 ))s; logs in $WORK"
exit $FAILED
