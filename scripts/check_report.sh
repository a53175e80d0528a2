#!/usr/bin/env bash
# Renders a tradesim HTML report in headless Chromium (network blocked; the page has no script) and saves a PNG screenshot,
# to check by eye that the page draws. Not part of CI.
#
#   scripts/check_report.sh REPORT.html [OUT.png]     (default OUT: REPORT with .png)
#
# Installs Chromium with apt-get if it is missing. Fails if the page has no <svg> or the screenshot is not written.
set -euo pipefail

report=${1:?usage: scripts/check_report.sh REPORT.html [OUT.png]}
out=${2:-${report%.html}.png}
[[ -f $report ]] || { echo "error: $report: no such file" >&2; exit 1; }
grep -q "<svg" "$report" || { echo "error: $report: no <svg> in the page" >&2; exit 1; }

browser=$(command -v chromium || command -v chromium-browser || command -v google-chrome || true)
if [[ -z $browser ]]; then
    echo "installing chromium (apt-get)…" >&2
    if [[ $(id -u) -eq 0 ]]; then apt-get update -qq && apt-get install -y -qq chromium >/dev/null
    else sudo apt-get update -qq && sudo apt-get install -y -qq chromium >/dev/null; fi
    browser=$(command -v chromium || command -v chromium-browser)
fi

# The page is ~1000 px wide; its height grows with the runs, so estimate it from the charts and table rows.
charts=$(grep -o "<svg" "$report" | wc -l)
rows=$(grep -o "<tr" "$report" | wc -l)
height=$(( 600 + charts * 335 + rows * 24 ))
abs=$(cd "$(dirname "$report")" && pwd)/$(basename "$report")
rm -f "$out"
"$browser" --headless --no-sandbox --disable-gpu --disable-javascript --hide-scrollbars --no-first-run \
    --disable-background-networking --host-resolver-rules="MAP * ~NOTFOUND" \
    --window-size=1200,"$height" --screenshot="$out" "file://$abs" 2>/dev/null
[[ -s $out ]] || { echo "error: $out: Chromium wrote no screenshot" >&2; exit 1; }
echo "screenshot: $out (1200×$height, $charts charts)"
