#!/usr/bin/env bash
# Scan a Signpost started here on 127.0.0.1 with Debian's sqlmap and wapiti, as an attacker would.
#
#   security/scan.sh [--quick]
#
# Starts gunicorn (gunicorn.conf.py) on a fresh SQLite database with the fictional demo accounts,
# signs in as each role, and runs sqlmap against every form field (every page each role can
# reach, a referral journey walked first) and every API parameter, and wapiti against the whole
# site as each role. Exits 1 on any injectable parameter or any wapiti finding of medium
# severity or above; 0 when clean. Never sends anything anywhere but 127.0.0.1.
# --quick: sqlmap's --smart (thorough tests only where a heuristic fires) and shorter wapiti runs.
# SCAN_PORT: the port to serve on (default: a free one). Exit status 2: it could not start.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
PY=$ROOT/.venv/bin/python
QUICK=0
[ "${1:-}" = "--quick" ] && QUICK=1

missing=()
command -v sqlmap >/dev/null || missing+=(sqlmap)
command -v wapiti >/dev/null || missing+=(wapiti)
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" -eq 0 ]; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}"
  else
    echo "Install ${missing[*]} first: sudo apt-get install -y ${missing[*]}" >&2
    exit 2
  fi
fi

WORK=$(mktemp -d /tmp/signpost-scan.XXXXXX)
SERVER=""
cleanup() {
  [ -n "$SERVER" ] && kill "$SERVER" 2>/dev/null && wait "$SERVER" 2>/dev/null || true
  [ "${KEEP:-0}" = 1 ] && echo "kept $WORK" || rm -rf "$WORK"
}
trap cleanup EXIT

# Its own settings only: a shell with the production environment loaded (for the flask commands)
# would otherwise make the cookies Secure (never sent back over plain HTTP) and refuse the demo seed.
unset $(compgen -e | grep -E '^(SIGNPOST_|GUNICORN_|RATELIMIT_)') DATABASE_URL SECRET_KEY FORWARDED_ALLOW_IPS PORT
PORT=${SCAN_PORT:-$($PY -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')}
URL="http://127.0.0.1:$PORT"
export DATABASE_URL="sqlite:///$WORK/scan.db" SECRET_KEY="scan-$(head -c 24 /dev/urandom | base64 | tr -d '/+=')"
export SIGNPOST_ARGON2_TIME_COST=1 SIGNPOST_ARGON2_MEMORY_KIB=8 SIGNPOST_ARGON2_PARALLELISM=1
export SIGNPOST_SIGN_IN_LIMIT_PER_ADDRESS="1000000 per minute" SIGNPOST_SIGN_IN_LIMIT_PER_ACCOUNT="1000000 per minute"
export SIGNPOST_API_RATELIMIT="1000000 per minute" SIGNPOST_MAX_OPEN_DRAFTS=100000
export GUNICORN_BIND="127.0.0.1:$PORT" GUNICORN_WORKERS=2 GUNICORN_ACCESS_LOG="$WORK/access.log"
# A set-up failure exits 2 with its output, never 1 (which means findings).
"$ROOT/.venv/bin/flask" --app wsgi db upgrade >"$WORK/setup.log" 2>&1 &&
  "$ROOT/.venv/bin/flask" --app wsgi demo seed >>"$WORK/setup.log" 2>&1 ||
  { echo "Could not set up the database to scan:" >&2; cat "$WORK/setup.log" >&2; exit 2; }
"$ROOT/.venv/bin/gunicorn" -c gunicorn.conf.py wsgi:app >"$WORK/gunicorn.log" 2>&1 &
SERVER=$!
for _ in $(seq 100); do curl -fs "$URL/healthz" >/dev/null && break; sleep 0.2; done
curl -fs "$URL/healthz" >/dev/null || { echo "Signpost did not start" >&2; cat "$WORK/gunicorn.log" >&2; exit 2; }

PASSWORD="northmere-demo-2026"   # the fictional demo accounts (README)
export TERM=dumb
SQLMAP=(sqlmap --batch --disable-coloring --level 2 --risk 1 --timeout 10
        --answers "follow=N,skip=Y,other=N" --output-dir "$WORK/sqlmap")
[ $QUICK = 1 ] && SQLMAP+=(--smart)
WAPITI_TIME=600
[ $QUICK = 1 ] && WAPITI_TIME=120

run_sqlmap() {  # a label, then sqlmap arguments; its log says if anything was injectable
  local label=$1; shift
  echo "sqlmap: $label"
  "${SQLMAP[@]}" "$@" >>"$WORK/sqlmap.out" 2>&1 || true
}

# Signed out: the sign-in form.
run_sqlmap "sign-in form" -u "$URL/sign-in" --data "email=a%40example.org&password=x&csrf_token=x" \
  --csrf-token csrf_token --csrf-url "$URL/sign-in"

for role in referrer frontdoor policy admin; do
  dir="$WORK/$role"
  "$PY" security/targets.py "$URL" "$role@northmere.example" "$PASSWORD" "$dir" ||
    { echo "Could not list the forms $role can reach: nothing was scanned as $role" >&2; exit 2; }
  cookie=$(cat "$dir/cookie")
  while IFS= read -r form; do
    page=$("$PY" -c 'import json,sys; print(json.loads(sys.argv[1])["page"])' "$form")
    action=$("$PY" -c 'import json,sys; print(json.loads(sys.argv[1])["action"])' "$form")
    data=$("$PY" -c 'import json,sys,urllib.parse; print(urllib.parse.urlencode(json.loads(sys.argv[1])["data"], doseq=True))' "$form")
    run_sqlmap "$role POST $action" -u "$URL$action" --data "$data" --cookie "$cookie" \
      --csrf-token csrf_token --csrf-url "$URL$page" --param-exclude "^csrf_token$"
  done <"$dir/forms.jsonl"
  if [ $role = referrer ]; then
    run_sqlmap "referrer GET reference in the path" -u "$URL/refer/my-referrals/$(cat "$dir/reference")*" \
      --cookie "$cookie"
  fi
  echo "wapiti: $role"
  # --skip csrf_token: every form keeps its valid token (so attacks reach the views) and the
  # sign-out form has nothing to attack, so the session survives (Debian's wapiti 3.0.4 cannot -x).
  wapiti -u "$URL/" --scope folder -H "Cookie: $cookie" --skip csrf_token -d 4 \
    --max-scan-time "$WAPITI_TIME" --flush-session -f json -o "$WORK/wapiti-$role.json" \
    >>"$WORK/wapiti.out" 2>&1 || true
done

# The JSON API: every parameter of the body, and the version id in the path.
run_sqlmap "API assess body" -u "$URL/api/v1/assess" -H "Content-Type: application/json" \
  --data '{"indicators": ["basic_care_neglect_significant"], "age_months": 60, "consent": "given", "threshold_id": "northmere-2026-04"}'
run_sqlmap "API threshold id" -u "$URL/api/v1/thresholds/northmere-2026-04*"
echo "wapiti: API"
wapiti -u "$URL/api/v1/" --scope folder -s "$URL/api/v1/openapi.json" --max-scan-time "$WAPITI_TIME" \
  --flush-session -f json -o "$WORK/wapiti-api.json" >>"$WORK/wapiti.out" 2>&1 || true

# Findings: sqlmap writes a non-empty log for a target only when it found an injection point.
status=0
injectable=$(find "$WORK/sqlmap" -name log -size +0 2>/dev/null || true)
if [ -n "$injectable" ]; then
  echo "sqlmap found injectable parameters:"; for f in $injectable; do cat "$f"; done
  status=1
fi
grep -h "might be injectable\|is vulnerable\|appears to be .* injectable" "$WORK/sqlmap.out" | sort -u || true
"$PY" - "$WORK" 5 <<'EOF' || status=1
import json, pathlib, sys
findings = 0
reports = sorted(pathlib.Path(sys.argv[1]).glob("wapiti-*.json"))
for report in reports:
    data = json.loads(report.read_text())
    for section in ("vulnerabilities", "anomalies"):
        for name, items in (data.get(section) or {}).items():
            for item in items:
                level = int(item.get("level") or 0)
                line = f"{report.stem}: {section}: {name} (level {level}) {item.get('method')} {item.get('path')} {item.get('info', '')[:160]}"
                print(("FINDING " if level >= 2 else "low     ") + line)
                findings += level >= 2
print(f"wapiti: {len(reports)} of {sys.argv[2]} report(s), {findings} finding(s) of medium severity or above")
sys.exit(1 if findings or len(reports) != int(sys.argv[2]) else 0)
EOF
[ $status = 0 ] && echo "scan: clean" || echo "scan: FINDINGS (see above)"
exit $status
