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

# The page is ~1000 px wide; its height is estimated from the charts' own heights (their viewBox), the table rows (a
# `mean ± std` cell takes two lines), the headings and the paragraphs.
count() { grep -o "$1" "$report" | wc -l; }
charts=$(count "<svg")
chart_height=$(grep -o 'viewBox="0 0 [0-9]* [0-9]*"' "$report" | awk '{ h += $4 + 0 } END { print h + 0 }')
height=$(( 250 + chart_height + charts * 20 + $(count "<tr") * 22 + $(count "<small>") * 3 + $(count "<h2") * 70 \
           + $(count "<h3") * 32 + $(count "<p>") * 50 ))
abs=$(cd "$(dirname "$report")" && pwd)/$(basename "$report")
rm -f "$out"
"$browser" --headless --no-sandbox --disable-gpu --disable-javascript --hide-scrollbars --no-first-run \
    --disable-background-networking --host-resolver-rules="MAP * ~NOTFOUND" \
    --window-size=1200,"$height" --screenshot="$out" "file://$abs" 2>/dev/null
[[ -s $out ]] || { echo "error: $out: Chromium wrote no screenshot" >&2; exit 1; }
echo "screenshot: $out (1200×$height, $charts charts)"
