# The guest's kernel log with KCSAN reports that are not lring's taken out
# (tests/vm/guest-init runs it; tests/vm/selftest.sh proves it on two
# canned reports). KCSAN in strict mode (the kcsan kernel) also reports
# races inside the core kernel (hrtimer, tick) that lring neither causes
# nor can fix. A report stays in the log, and fails the group, if either of
# its two racing accesses is in an lring module ("[lring" in the first
# frame after the access line); the others go to the file named by the
# variable "foreign".
/BUG: KCSAN:/ { rep = 1; buf = $0 "\n"; ours = 0; site = 0; next }
rep {
	buf = buf $0 "\n"
	if ($0 ~ /(read|write)[^:]* to 0x[0-9a-f]+ of [0-9]+ bytes by/) { site = 1; next }
	if (site && $0 ~ /\+0x[0-9a-f]+\/0x/) {
		if ($0 ~ /\[lring/)
			ours = 1
		site = 0
	}
	if ($0 ~ /=====/) {
		rep = 0
		if (ours)
			printf "%s", buf
		else
			printf "%s", buf >foreign
	}
	next
}
{ print }
# a report cut short by the end of the log counts as lring's
END { if (rep) printf "%s", buf }
