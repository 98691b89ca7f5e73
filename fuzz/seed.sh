#!/usr/bin/env bash
# Seeds the fuzz corpora (fuzz/corpus/<target>/, not committed) from the project's own
# fixtures and, when present, ../shared/corpora.
set -euo pipefail
cd "$(dirname "$0")"
shared=../../shared/corpora
mkdir -p corpus/{rewrite,bust_url,srcset,css,manifest,stylesheet}
n=0
for dir in ../tests/fixtures/*/; do
  name=$(basename "$dir")
  cp "$dir/input.html" "corpus/rewrite/fixture-$name"
  cp "$dir/manifest.json" "corpus/manifest/fixture-$name"
  n=$((n + 1))
done
if [ -d "$shared" ]; then
  for page in "$shared"/real-pages/*.html; do
    head -c 65536 "$page" > "corpus/rewrite/real-$(basename "$page")"
  done
  python3 - "$shared" <<'PY'
import json, sys, os, hashlib
shared = sys.argv[1]
cases = json.load(open(os.path.join(shared, "wpt/srcset-parse.json")))["cases"]
for case in cases:
    data = case["srcset"].encode()
    open("corpus/srcset/wpt-" + hashlib.sha1(data).hexdigest()[:12], "wb").write(data)
tok = os.path.join(shared, "html5lib/tokenizer/test1.test")
for test in json.load(open(tok))["tests"][:200]:
    data = test["input"].encode()
    open("corpus/rewrite/h5-" + hashlib.sha1(data).hexdigest()[:12], "wb").write(data)
PY
fi
printf '%s' 'a { background: url("/a.png") } @import "s.css"; b { c: image-set("x.png" 1x) }' > corpus/css/seed-1
printf '%s' '@charset "gbk"; a { background: url("/a.png") } @import url(s.css); /* url(/a.png) */' > corpus/stylesheet/seed-1
cp ../tests/stylesheets.rs corpus/stylesheet/seed-2
printf '%s' 'https://doc.cloudimg.io/v7/sample.li/a.jpg?w=1&vh=x#f' > corpus/bust_url/seed-1
printf '%s' 'https://k.i.optimole.com/cb:1/w:1/https://example.com/a.png' > corpus/bust_url/seed-2
printf '%s' '../a.png?x=1&amp;y=2#top' > corpus/bust_url/seed-3
echo "seeded from $n fixtures"
