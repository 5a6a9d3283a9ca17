#!/bin/sh
# run.sh - golden tests for `sealpostd -n -v`: each NNN.conf is checked and
# its output (stdout and stderr, then "exit N") compared with NNN.ok.
# In the .conf, @BUILDDIR@ and @KEYS@ stand for the build folder and
# keys/test; in the output the temporary folder reads @DIR@.  TAP output.
# Set SP_GOLDEN_UPDATE=1 to rewrite the .ok files after a deliberate change.
set -u
src=$(cd "${top_srcdir:-$(dirname "$0")/../..}" && pwd -P)
bld=$(cd "${top_builddir:-$src}" && pwd -P)
dir=$src/tests/config
tmp=$(mktemp -d /tmp/sp-golden.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
n=0
for conf in "$dir"/[0-9][0-9][0-9].conf; do
	name=$(basename "$conf" .conf)
	n=$((n + 1))
	sed -e "s|@BUILDDIR@|$bld|g" -e "s|@KEYS@|$src/keys/test|g" \
	    "$conf" > "$tmp/$name.conf"
	out=$(cd "$tmp" && "$bld/sealpostd" -n -v -c "$name.conf" 2>&1; \
	    echo "exit $?")
	out=$(printf '%s\n' "$out" | sed -e "s|$tmp|@DIR@|g" \
	    -e "s|$src/keys/test|@KEYS@|g" -e "s|$bld|@BUILDDIR@|g")
	if [ "${SP_GOLDEN_UPDATE:-0}" = 1 ]; then
		printf '%s\n' "$out" > "$dir/$name.ok"
	fi
	if printf '%s\n' "$out" | diff -u "$dir/$name.ok" - > "$tmp/diff"; then
		echo "ok $n - config $name: $(head -n 1 "$conf" | sed 's/^# //')"
	else
		echo "not ok $n - config $name"
		sed 's/^/# /' "$tmp/diff"
	fi
done
echo "1..$n"
