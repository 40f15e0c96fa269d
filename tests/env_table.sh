#!/usr/bin/env bash
# CTest env_table: the README's environment table lists every variable the
# code reads, and nothing else.
#   env_table.sh SOURCE_DIR
# Read by the code: getenv("X"), secure_getenv("X") or
# ccdma_os_getenv("X") in the C of src/, tools/, bench/, fuzz/ and
# examples/; ${X:-...}, ${X-...}, ${X:=...}, ${X:+...} with X in upper
# case (a variable with a default, or a test of being set; the scripts'
# locals are lower case) in the shell scripts of scripts/, fuzz/, man/,
# examples/ and .ci/run.  Listed: the rows "| `X` |" of the README
# section "## Environment".  Exit 0 when the two sets are equal, else 1
# with what differs.
set -euo pipefail
src=$1
cd "$src"

read_by_code() {
	find src tools bench fuzz examples -name '*.[ch]' -print0 |
		xargs -0 grep -ohE '\b(secure_|ccdma_os_)?getenv\("[A-Za-z_][A-Za-z0-9_]*"\)' |
		sed -E 's/.*\("([^"]*)"\)/\1/'
	{ ls scripts/*.sh fuzz/*.sh man/*.sh examples/*.sh 2>/dev/null; echo .ci/run; } |
		xargs grep -ohE '\$\{[A-Z_][A-Z0-9_]*:?[-=+]' |
		sed -E 's/^\$\{([A-Za-z0-9_]*).*/\1/'
}

listed() {
	awk '/^## / { in_env = ($0 == "## Environment") } in_env' README.md |
		grep -oE '^\| `[A-Za-z_][A-Za-z0-9_]*` \|' | sed -E 's/^\| `([^`]*)`.*/\1/'
}

code=$(read_by_code | sort -u)
table=$(listed | sort -u)
[ -n "$code" ] || { echo "FAIL: found no variable read by the code (the patterns are broken)"; exit 1; }
[ -n "$table" ] || { echo "FAIL: no environment table in README.md"; exit 1; }
missing=$(comm -23 <(echo "$code") <(echo "$table"))
extra=$(comm -13 <(echo "$code") <(echo "$table"))
fail=0
for v in $missing; do
	echo "FAIL: $v is read by the code but missing from README.md's environment table:"
	grep -rnE "getenv\(\"$v\"\)|\\\$\{$v:?[-=+]" src tools bench fuzz examples scripts man .ci/run 2>/dev/null | head -3 | sed 's/^/    /'
	fail=1
done
for v in $extra; do
	echo "FAIL: README.md's environment table lists $v, which nothing reads"
	fail=1
done
[ $fail = 0 ] && echo "ok: $(echo "$code" | wc -l) variables, each in the README's table"
exit $fail
