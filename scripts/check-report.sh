#!/usr/bin/env bash
# Checks an Atoll report as a person would see it: renders it in headless Chromium (installed from
# Debian if missing) to a PNG, and fails if the page logged a script error or any console message
# (a resource it tried to fetch counts: every host name resolves to nothing), or if the PNG is
# blank. Needs no display. Before that, it checks itself: a page with a script error and a blank
# page must both fail.
#   usage: scripts/check-report.sh [REPORT.html | RUN_DIR] [OUT.png]
#   Without an argument it makes a small latent run (configs/tiny-latent.yaml, 2 local ranks) with
#   $ATOLL (default .build/debug/atoll) in a temporary folder and checks its report.html. OUT.png
#   defaults to report.png beside the report (.build/check-report.png for that temporary run).
#   CHROMIUM overrides the browser command. Takes about 20 s here, plus about 50 s to install Chromium.
set -euo pipefail
cd "$(dirname "$0")/.."
atoll=${ATOLL:-.build/debug/atoll}
start=$(date +%s)

if ! command -v "${CHROMIUM:-chromium}" >/dev/null 2>&1; then
  echo "check-report: installing chromium from Debian"
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y chromium >/dev/null 2>&1 || { apt-get update >/dev/null && apt-get install -y chromium >/dev/null; }
fi
browser=${CHROMIUM:-chromium}

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

target=${1:-}
if [ -z "$target" ]; then
  "$atoll" run configs/tiny-latent.yaml --out "$work/run" --local-ranks 2 >/dev/null
  target=$work/run
fi
if [ -d "$target" ]; then
  [ -f "$target/report.html" ] || "$atoll" report "$target" >/dev/null
  target=$target/report.html
fi
[ -f "$target" ] || { echo "check-report: $target does not exist" >&2; exit 2; }
png=${2:-$(dirname "$target")/report.png}
if [ -z "${1:-}" ]; then png=${2:-.build/check-report.png}; fi

render() {  # render PAGE PNG HEIGHT: screenshot; prints the console lines Chromium logged
  local page=$1 out=$2 height=$3 log=$work/chromium.log
  rm -f "$out"
  timeout 120 "$browser" --headless --no-sandbox --disable-gpu --hide-scrollbars --no-first-run \
    --enable-logging=stderr --v=0 --host-resolver-rules="MAP * ~NOTFOUND" \
    --window-size=1200,"$height" --screenshot="$out" "file://$(realpath "$page")" >/dev/null 2>"$log" || true
  [ -s "$out" ] || { echo "check-report: chromium wrote no screenshot of $page:" >&2; tail -n 20 "$log" >&2; return 2; }
  grep ':CONSOLE' "$log" || true
}

check() {  # check PAGE PNG HEIGHT: 0 if the page renders without console messages and not blank
  local console
  console=$(render "$1" "$2" "$3") || return 2
  if [ -n "$console" ]; then echo "check-report: $1 logged in the console:"; echo "$console" | sed 's/^/  /'; return 1; fi
  python3 scripts/png_stats.py "$2" || return 1
}

# The checks themselves must catch a script error and a blank page.
printf '<!DOCTYPE html><html><body><h1>x</h1><p>%s</p><script>notDefined();</script></body></html>' "$(printf 'text %.0s' {1..400})" > "$work/script-error.html"
printf '<!DOCTYPE html><html><body></body></html>' > "$work/blank.html"
for page in script-error blank; do
  if check "$work/$page.html" "$work/$page.png" 600 >/dev/null 2>&1; then
    echo "check-report: FAIL  the check passed a page that should fail ($page)"; exit 1
  fi
done
echo "check-report: ok    a page with a script error and a blank page are both refused"

# The report: a window as tall as the page, estimated from its charts, table rows and lines of text.
height=$(python3 -c '
import re, sys
page = open(sys.argv[1], encoding="utf-8").read()
charts = sum(int(h) for h in re.findall(r"<svg[^>]* height=\"(\d+)\"", page))
pre = sum(block.count("\n") for block in re.findall(r"<pre>(.*?)</pre>", page, re.S))
print(min(16000, 300 + charts + 24 * page.count("<tr>") + 16 * pre + 60 * page.count("<h2>") + 40 * page.count("<p")))
' "$target")
if check "$target" "$png" "$height"; then
  echo "check-report: ok    $target renders without console messages; screenshot $png ($(stat -c %s "$png") bytes)"
else
  echo "check-report: FAIL  $target (screenshot $png)"; exit 1
fi
echo "check-report: done in $(( $(date +%s) - start )) s"
