#!/usr/bin/env bash
# The man pages test (CTest man_pages):
#   man/check-pages.sh LIBCCDMA.so MANDIR INCLUDEDIR
# fails when
#   - a function the library exports (nm -D), or a function-like macro of
#     the public headers (ccdma_map_single, ...), has no page man3/NAME.3;
#   - a link page (.so man3/X.3) names a page that does not exist, or a
#     function's link page leads to a page whose NAME section omits it, or
#     whose SYNOPSIS has no prototype of it or no #include <ccdma/...>
#     that declares it;
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

# A page's file with .so links followed (one level, as man does).
resolve() {
  local first=
  read -r first < "$1"
  if [[ $first == .so\ * ]]; then
    echo "${first#.so }"
  else
    echo "$1"
  fi
}

# Tables read once (the loops below then fork nothing):
#   name[PAGE NAME]   NAME lists NAME
#   proto[PAGE NAME]  SYNOPSIS has a prototype NAME(
#   incl[PAGE]        the headers SYNOPSIS includes
#   decl[HEADER NAME] the header declares NAME( (or defines the macro)
declare -A name proto incl decl
while read -r kind page what; do
  case $kind in
    N) name["$page $what"]=1 ;;
    P) proto["$page $what"]=1 ;;
    I) incl[$page]+=" $what" ;;
  esac
done < <(awk '
  FNR == 1 { sec = "" }
  /^\.SH / { sec = $2; next }
  sec == "NAME" {
    line = $0; sub(/\\-.*/, "", line); gsub(/ /, "", line)
    n = split(line, a, ","); for (i = 1; i <= n; i++) if (a[i] != "") print "N", FILENAME, a[i]
  }
  sec == "SYNOPSIS" {
    if (match($0, /^\.B #include <ccdma\/[a-z_]*\.h>$/)) print "I", FILENAME, substr($0, 14, length($0) - 14)
    line = $0
    while (match(line, /[ *]ccdma_[a-z0-9_]+\(/)) {
      print "P", FILENAME, substr(line, RSTART + 1, RLENGTH - 2)
      line = substr(line, RSTART + RLENGTH)
    }
  }' man3/*.3)
while read -r h n; do
  decl["$h $n"]=1
done < <(cd "$incdir" && grep -oE '(^|[ *])ccdma_[a-z0-9_]+\(' ccdma/*.h |
         sed -E 's/:[ *]?/ /; s/\($//')

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
  [ -f "$target" ] || continue
  [ -n "${name["$target $n"]:-}" ] ||
    bad "$n: $page leads to $target, whose NAME section does not list it"
  # Its prototype is in SYNOPSIS, under an #include that declares it.
  [ -n "${proto["$target $n"]:-}" ] || bad "$n: no prototype in the SYNOPSIS of $target"
  declared=0
  for h in ${incl[$target]:-}; do
    [ -n "${decl["$h $n"]:-}" ] && declared=1
  done
  [ $declared = 1 ] || bad "$n: none of the headers $target's SYNOPSIS includes declares it"
done

# 2. Every page: links resolve, sections are there, references resolve.
shopt -s nullglob
pages=(man1/*.1 man3/*.3 man7/*.7)
[ ${#pages[@]} -gt 0 ] || bad "no pages in $mandir"
while read -r f; do
  bad "$f: not ASCII (use groff escapes such as \\(mc)"
done < <(LC_ALL=C grep -l '[^[:print:][:space:]]' "${pages[@]}")
real=()
for f in "${pages[@]}"; do
  target=$(resolve "$f")
  if [ "$target" = "$f" ]; then
    real+=("$f")
    continue
  fi
  mapfile -t lines < "$f"
  [ ${#lines[@]} = 1 ] || bad "$f: a link page holds only its .so line"
  [ -f "$target" ] || bad "$f: links to $target, which does not exist"
done
for f in "${real[@]}"; do
  for s in NAME SYNOPSIS DESCRIPTION "SEE ALSO"; do
    grep -qx "\.SH \"*$s\"*" "$f" || bad "$f: no $s section"
  done
  if awk '/^\.SH SYNOPSIS/ { on = 1; next } /^\.SH/ { on = 0 } on' "$f" |
     grep -q '[a-z_0-9]('; then
    for s in "RETURN VALUE" ERRORS; do
      grep -qx "\.SH \"*$s\"*" "$f" || bad "$f: documents a function but has no $s section"
    done
  fi
done
# References to our own pages (.BR ccdma_x (3)), in SEE ALSO and the text.
while IFS=: read -r f ref; do
  read -r name sec <<<"$ref"
  [ -f "man$sec/$name.$sec" ] || bad "$f: refers to $name($sec), which has no page"
done < <(grep -H '^\.BR ccdma[-_a-z0-9]* ([0-9])' "${real[@]}" |
         sed 's/^\([^:]*\):\.BR \(ccdma[-_a-z0-9]*\) (\([0-9]\)).*/\1:\2 \3/' | sort -u)

# 3. groff with every warning on, and the whatis parser.  (Link pages only
# include their target: checking the target is enough.)
for f in "${real[@]}"; do
  out=$(groff -man -ww -z "$f" 2>&1)
  [ -z "$out" ] || bad "$f: groff warns: $out"
done
if command -v lexgrog >/dev/null 2>&1; then
  for f in "${real[@]}"; do
    lexgrog "$f" >/dev/null 2>&1 ||
      bad "$f: lexgrog cannot parse its NAME section (whatis would miss it)"
  done
fi

if [ $fail = 0 ]; then
  echo "man_pages: ${#syms[@]} exported functions and ${#macros[@]} macros have pages; ${#pages[@]} page files, no groff warnings"
fi
exit $fail
