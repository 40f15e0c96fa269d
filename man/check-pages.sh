#!/usr/bin/env bash
# The man pages test (CTest man_pages):
#   man/check-pages.sh LIBCCDMA.so MANDIR INCLUDEDIR
# fails when
#   - a function the library exports (nm -D), or a function-like macro of
#     the public headers (ccdma_map_single, ...), has no page man3/NAME.3;
#   - a link page (.so man3/X.3) names a page that does not exist, or a
#     function's link page leads to a page whose NAME section omits it;
#   - a page lacks NAME, SYNOPSIS, DESCRIPTION or SEE ALSO, or documents a
#     function (a prototype in SYNOPSIS) without RETURN VALUE and ERRORS;
#   - a reference (.BR ccdma_x (3)) names a page that does not exist;
#   - groff -man -ww (all warnings) warns about a page, or lexgrog (the
#     whatis parser) cannot read its NAME line, or a page is not ASCII.
# Exit 0 pass, 1 fail, 77 skip (no groff, outside CI).
set -uo pipefail
lib=$1 mandir=$2 incdir=$3

if ! command -v groff >/dev/null 2>&1; then
  if [ -n "${CI:-}" ]; then
    echo "man_pages: groff is missing (Debian: groff-base)" >&2
    exit 1
  fi
  echo "man_pages: SKIP: no groff (Debian: groff-base)"
  exit 77
fi
cd "$mandir" || exit 1
fail=0
bad() {
  echo "man_pages: $*" >&2
  fail=1
}

# A page's text with .so links followed (one level, as man does).
resolve() {
  local f=$1 first
  first=$(head -n1 "$f")
  if [[ $first == .so\ * ]]; then
    echo "${first#.so }"
  else
    echo "$f"
  fi
}
# The names in a page's NAME section (before "\-").
names_of() {
  awk '/^\.SH NAME/ { on = 1; next } /^\.SH/ { on = 0 } on' "$1" |
    sed 's/\\-.*//' | tr ',' '\n' | tr -d ' ' | grep .
}

# 1. Every exported function and every function-like macro has a page.
mapfile -t syms < <(nm -D --defined-only "$lib" | awk '$2 == "T" && $3 ~ /^ccdma_/ { sub(/@.*/, "", $3); print $3 }' | sort -u)
[ ${#syms[@]} -gt 0 ] || bad "$lib exports no ccdma_ function"
mapfile -t macros < <(grep -ho '^#define ccdma_[a-z0-9_]*(' "$incdir"/ccdma/*.h | sed 's/^#define //; s/($//' | sort -u)
for n in "${syms[@]}" "${macros[@]}"; do
  page=man3/$n.3
  if [ ! -f "$page" ]; then
    bad "$n: no page $page"
    continue
  fi
  target=$(resolve "$page")
  if [ -f "$target" ] && ! names_of "$target" | grep -qx "$n"; then
    bad "$n: $page leads to $target, whose NAME section does not list it"
  fi
done

# 2. Every page: links resolve, sections are there, SEE ALSO resolves.
shopt -s nullglob
pages=(man1/*.1 man3/*.3 man7/*.7)
[ ${#pages[@]} -gt 0 ] || bad "no pages in $mandir"
for f in "${pages[@]}"; do
  if LC_ALL=C grep -q '[^[:print:][:space:]]' "$f"; then
    bad "$f: not ASCII (use groff escapes such as \\(mc)"
  fi
  target=$(resolve "$f")
  if [ "$target" != "$f" ]; then
    [ "$(wc -l < "$f")" = 1 ] || bad "$f: a link page holds only its .so line"
    [ -f "$target" ] || bad "$f: links to $target, which does not exist"
    continue
  fi
  for s in NAME SYNOPSIS DESCRIPTION "SEE ALSO"; do
    grep -qx "\.SH \"*$s\"*" "$f" || bad "$f: no $s section"
  done
  if awk '/^\.SH SYNOPSIS/ { on = 1; next } /^\.SH/ { on = 0 } on' "$f" |
     grep -q '[a-z_0-9]('; then
    for s in "RETURN VALUE" ERRORS; do
      grep -qx "\.SH \"*$s\"*" "$f" || bad "$f: documents a function but has no $s section"
    done
  fi
  # References to our own pages (.BR ccdma_x (3)), SEE ALSO and body.
  while read -r name sec; do
    [ -f "man$sec/$name.$sec" ] || bad "$f: refers to $name($sec), which has no page"
  done < <(sed -n 's/^\.BR \(ccdma[-_a-z0-9]*\) (\([0-9]\)).*/\1 \2/p' "$f" | sort -u)
done

# 3. groff with every warning on, and the whatis parser.
# (Link pages only include their target: checking the target is enough.)
for f in "${pages[@]}"; do
  [ "$(resolve "$f")" = "$f" ] || continue
  out=$(groff -man -ww -z "$f" 2>&1)
  [ -z "$out" ] || bad "$f: groff warns: $out"
  if command -v lexgrog >/dev/null 2>&1 && ! lexgrog "$f" >/dev/null 2>&1; then
    bad "$f: lexgrog cannot parse its NAME section (whatis would miss it)"
  fi
done

if [ $fail = 0 ]; then
  echo "man_pages: ${#syms[@]} exported functions and ${#macros[@]} macros have pages; ${#pages[@]} page files, no groff warnings"
fi
exit $fail
