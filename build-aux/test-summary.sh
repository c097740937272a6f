#!/bin/sh
# test-summary.sh LOG...: print every test case of this 'make check' run with
# its result, then a closing line "N passed, N failed[, N skipped]".
#
# Arguments are the .log files automake's test harness wrote (TEST_LOGS);
# each has a .trs file beside it.  With the TAP driver, the .trs holds one
# ":test-result:" line per test case and the .log the TAP stream, whose
# "ok"/"not ok" lines carry the case names.  A program that crashed or broke
# the TAP plan gets an ERROR result in its .trs and is counted as failed.
# Works in VPATH builds: paths are relative to the build directory.
set -u

pass=0 fail=0 skip=0

for log in "$@"; do
	trs="${log%.log}.trs"
	test="${log%.log}"
	if [ ! -f "$trs" ]; then
		echo "ERROR: $test (no results: was it run?)"
		fail=$((fail + 1))
		continue
	fi
	# One line per case from the TAP stream: RESULT NAME.
	cases=$(awk '
		/^ok[ \t]/ || /^not ok[ \t]/ || /^ok$/ || /^not ok$/ {
			res = ($1 == "not") ? "FAIL" : "PASS"
			line = $0
			sub(/^(not )?ok[ \t]*[0-9]*[ \t]*(-[ \t]*)?/, "", line)
			directive = ""
			if (match(line, /#[ \t]*[Ss][Kk][Ii][Pp]/)) directive = "SKIP"
			else if (match(line, /#[ \t]*[Tt][Oo][Dd][Oo]/)) directive = "TODO"
			if (directive != "") {
				reason = substr(line, RSTART + RLENGTH)
				line = substr(line, 1, RSTART - 1)
				sub(/^[ \t]+/, "", reason)
				if (line ~ /^[ \t]*$/) line = reason
			}
			sub(/[ \t]+$/, "", line)
			if (directive == "SKIP") res = "SKIP"
			else if (directive == "TODO") res = (res == "PASS") ? "XPASS" : "XFAIL"
			print res " " line
		}
		/^1\.\.0/ && tolower($0) ~ /# *skip/ { print "SKIP (whole program)" }
	' "$log")
	if [ -n "$cases" ]; then
		printf '%s\n' "$cases" | while read -r res name; do
			echo "$res: $test: $name"
		done
	fi
	p=$(grep -c '^:test-result: PASS' "$trs")
	x=$(grep -c '^:test-result: XFAIL' "$trs")
	f=$(grep -c '^:test-result: FAIL' "$trs")
	xp=$(grep -c '^:test-result: XPASS' "$trs")
	e=$(grep -c '^:test-result: ERROR' "$trs")
	s=$(grep -c '^:test-result: SKIP' "$trs")
	if [ "$e" -gt 0 ]; then
		echo "ERROR: $test: $(grep -E '^(Bail out!|ERROR)' "$log" | head -n 1)" \
			"(crashed, bailed out or broke its TAP plan; see $log)"
	fi
	pass=$((pass + p + x))
	fail=$((fail + f + xp + e))
	skip=$((skip + s))
done

if [ "$skip" -gt 0 ]; then
	echo "$pass passed, $fail failed, $skip skipped"
else
	echo "$pass passed, $fail failed"
fi
