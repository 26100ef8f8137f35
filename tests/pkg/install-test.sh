#!/usr/bin/env bash
# `make install` into a temporary DESTDIR, as a package build does, then:
# the files are where a packager expects them; liblring.so has its soname
# and LIBLRING_1 symbol versions; liblring-ffi.so has its own, and exports
# every function lring.h declares, the inline ones too, with the version
# LIBLRING_FFI_1; the Python module loads it by its soname; an example
# consumer builds against the
# installed tree with nothing but `pkg-config --cflags --libs lring`
# (shared and --static); every man page renders cleanly and every public
# function and installed tool has one. Runs on the host, no VM.
# Prints TAP lines; --result FILE writes "passed=N failed=N skipped=N".
#
# Usage: install-test.sh [--result FILE]
set -euo pipefail

LRING_PROG=install-test
# shellcheck source=tests/vm/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/../vm/lib.sh"

# shellcheck source=tests/vm/tap.sh
. "$LRING_ROOT/tests/vm/tap.sh"
tap_start install "$@"
check() {
	local name=$1
	shift
	if "$@" >>"$work/check.log" 2>&1; then ok "$name"; else nok "$name"; fi
}

dest=$work/root
prefix=/usr
libdir=$prefix/lib/x86_64-linux-gnu

if make -s -C "$LRING_ROOT" install DESTDIR="$dest" PREFIX=$prefix LIBDIR=$libdir \
	UDEVRULESDIR=/usr/lib/udev/rules.d >"$work/install.log" 2>&1; then
	ok "make install DESTDIR=... PREFIX=/usr LIBDIR=$libdir"
else
	cat "$work/install.log"
	nok "make install"
	tap_finish
	exit 1
fi

D=$dest
for f in $libdir/liblring.a $libdir/liblring.so.1 $libdir/liblring.so \
	$libdir/liblring-ffi.so.1 $libdir/liblring-ffi.so $libdir/pkgconfig/lring-ffi.pc \
	$libdir/pkgconfig/lring.pc $prefix/include/lring.h \
	$prefix/include/lring/linux/lring.h $prefix/include/lring/linux/lring_sim.h \
	/usr/lib/udev/rules.d/60-lring.rules $prefix/bin/lring-cat \
	$prefix/lib/lring/examples/busy_poll $prefix/lib/lring/examples/busy_send; do
	check "installed: $f" test -e "$D$f"
done
check "installed: the driver headers, in /usr/src/lring-<version>/include" \
	test -f "$D/usr/src/lring-$(sed -n 's/^VERSION *:= *//p' "$LRING_ROOT/Makefile")/include/lring_driver.h"
check "installed: the Python module" test -e "$D/usr/lib/python3/dist-packages/lring.py"
# By its soname, as on an installed system (LD_LIBRARY_PATH stands in for
# ldconfig): the library the process mapped is the DESTDIR's.
check "the installed Python module imports and loads the installed liblring-ffi.so.1 by its soname" \
	env -u LRING_FFI_LIB PYTHONPATH="$D/usr/lib/python3/dist-packages" \
	LD_LIBRARY_PATH="$D$libdir" /usr/bin/python3 -c \
	"import lring, sys; maps = open('/proc/self/maps').read(); \
	sys.exit(not (lring.__file__.startswith('$D') and lring.LIBRARY == 'liblring-ffi.so.1' \
	and '$D$libdir/liblring-ffi.so.' in maps))"
check "nothing installed outside DESTDIR's /usr" \
	test -z "$(cd "$D" && find . -mindepth 1 -maxdepth 1 ! -name usr)"

so=$D$libdir/liblring.so.1
check "liblring.so.1 has the soname liblring.so.1" \
	sh -c "readelf -d '$so' | grep -q 'SONAME.*\[liblring.so.1\]'"
check "liblring.so -> liblring.so.1 -> the library" \
	test "$(readlink -f "$D$libdir/liblring.so")" = "$(readlink -f "$so")"
# "NODE symbol" for each symbol a version script names, and for each one a
# library exports: a symbol added later must carry its own, newer node.
map_versions() {
	sed -e 's|/\*.*\*/||' "$1" | awk '/^[A-Z][A-Z_0-9.]* *\{/ { node = $1 }
		/^[[:space:]]+lring_[a-z_]+;/ { gsub(/[ \t;]/, ""); print node, $0 }' | sort
}
so_versions() {
	objdump -T "$1" | awk '$NF ~ /^lring_/ && / g / && /\.text/ { print $(NF-1), $NF }' | sort
}
nsym=$(objdump -T "$so" | awk '$NF ~ /^lring_/ && / g /' | wc -l)
check "every exported lring_ symbol ($nsym) has the version node liblring.map gives it" \
	test "$nsym" -gt 0 -a "$(so_versions "$so")" = "$(map_versions "$LRING_ROOT/liblring/liblring.map")"
nother=$(objdump -T "$so" | awk '/ g / && /\.text/ && $NF !~ /^lring_/' | wc -l)
check "nothing but lring_* is exported ($nother others)" test "$nother" = 0
check "the uapi header is there, as <linux/lring.h> under lring.pc's Cflags" \
	cmp "$LRING_ROOT/uapi/linux/lring.h" "$D$prefix/include/lring/linux/lring.h"
check "nothing in the kernel headers' <prefix>/include/linux" test ! -e "$D$prefix/include/linux"
# The version script names each out-of-line function of lring.h: no more
# (a typo exports nothing), no fewer (a new function would stay local).
# A declaration starts in column 0 with its type; the inline ones with
# LRING_INLINE (static inline, except in liblring/ffi/ffi.c).
h=$LRING_ROOT/liblring/include/lring.h
declared=$(grep -oE '^[a-z].*[ *]lring_[a-z_]+\(' "$h" |
	grep -v 'static inline' | grep -oE 'lring_[a-z_]+\($' | tr -d '(' | sort -u | tr '\n' ' ')
inline=$(grep -oE '^LRING_INLINE .*[ *]lring_[a-z_]+\(' "$h" |
	grep -oE 'lring_[a-z_]+\($' | tr -d '(' | sort -u | tr '\n' ' ')
# every public function, inline or not
public=$(echo "$declared $inline" | tr ' ' '\n' | grep . | sort -u | tr '\n' ' ')
exported=$(objdump -T "$so" | awk '$NF ~ /^lring_/ && / g / && /\.text/ { print $NF }' |
	sort -u | tr '\n' ' ')
check "liblring.so exports exactly the out-of-line functions lring.h declares" \
	test "$declared" = "$exported"
echo "declared: $declared" >>"$work/check.log"
echo "exported: $exported" >>"$work/check.log"
check "lring.h declares inline functions too, and none of them out of line ($(echo $inline | wc -w) inline)" \
	sh -c "[ -n '$inline' ] && [ -z \"\$(echo '$declared' '$inline' | tr ' ' '\n' | grep . | sort | uniq -d)\" ]"

# liblring-ffi.so.1: the same, plus the inline functions out of line.
ffi=$D$libdir/liblring-ffi.so.1
check "liblring-ffi.so.1 has the soname liblring-ffi.so.1" \
	sh -c "readelf -d '$ffi' | grep -q 'SONAME.*\[liblring-ffi.so.1\]'"
check "liblring-ffi.so -> liblring-ffi.so.1 -> the library" \
	test "$(readlink -f "$D$libdir/liblring-ffi.so")" = "$(readlink -f "$ffi")"
ffi_exported=$(objdump -T "$ffi" | awk '$NF ~ /^lring_/ && / g / && /\.text/ { print $NF }' |
	sort -u | tr '\n' ' ')
echo "public: $public" >>"$work/check.log"
echo "liblring-ffi exported: $ffi_exported" >>"$work/check.log"
check "liblring-ffi.so.1 exports every function lring.h declares, inline or not ($(echo $ffi_exported | wc -w))" \
	test "$public" = "$ffi_exported"
check "each with the version node liblring-ffi.map gives it" \
	test "$(so_versions "$ffi")" = "$(map_versions "$LRING_ROOT/liblring/liblring-ffi.map")"
nother=$(objdump -T "$ffi" | awk '/ g / && /\.text/ && $NF !~ /^lring_/' | wc -l)
check "liblring-ffi.so.1 exports nothing but lring_* ($nother others)" test "$nother" = 0
mapped=$(sed -e 's|/\*.*\*/||' "$LRING_ROOT/liblring/liblring-ffi.map" |
	grep -oE '^[[:space:]]+lring_[a-z_]+;' | tr -d ' \t;' | sort -u | tr '\n' ' ')
check "liblring-ffi.map names them all, by name, and nothing else" test "$public" = "$mapped"
check "liblring.so.1 exports no inline function (those are liblring-ffi's)" \
	test -z "$(objdump -T "$so" | awk '/ g / && /\.text/ { print " " $NF " " }' |
	grep -F -f <(echo "$inline" | tr ' ' '\n' | grep . | sed 's/.*/ & /'))"
# The out-of-line copy is the header's code, barrier included: a locked
# add (lring_smp_mb() on x86-64) before the NEED_WAKEUP test.
check "liblring-ffi's lring_fill_submit has lring_smp_mb()'s full barrier" \
	sh -c "objdump -d --no-show-raw-insn '$ffi' |
		awk '/<lring_fill_submit>:/ { on = 1; next } on && /^\$/ { exit } on' |
		grep -q 'lock add'"

# Build busy_poll.c with pkg-config alone, against the DESTDIR.
export PKG_CONFIG_SYSROOT_DIR=$D
export PKG_CONFIG_PATH=$D$libdir/pkgconfig
export PKG_CONFIG_LIBDIR=$D$libdir/pkgconfig:/usr/lib/x86_64-linux-gnu/pkgconfig:/usr/share/pkgconfig
check "pkg-config --modversion lring" pkg-config --modversion lring
check "pkg-config --libs lring-ffi links liblring-ffi" \
	sh -c "pkg-config --libs lring-ffi | grep -q -- '-llring-ffi'"
flags=$(pkg-config --cflags --libs lring)
echo "pkg-config --cflags --libs lring: $flags" >>"$work/check.log"
check "pkg-config points into the DESTDIR ($flags)" \
	sh -c "echo '$flags' | grep -q -- '-I$D$prefix/include' && echo '$flags' | grep -q -- '-L$D$libdir'"
mkdir -p "$work/app"
# The example alone: it includes nothing of lring's but what is installed.
cp "$LRING_ROOT/examples/busy_poll.c" "$work/app/"
# shellcheck disable=SC2086
check "busy_poll.c builds with \$(pkg-config --cflags --libs lring) alone" \
	gcc -std=c11 -Wall -Wextra -Werror -O2 -o "$work/app/busy_poll" \
	"$work/app/busy_poll.c" $flags
check "and links liblring.so.1 dynamically" \
	sh -c "readelf -d '$work/app/busy_poll' | grep -q 'NEEDED.*\[liblring.so.1\]'"
check "its lring_ references carry LIBLRING_1" \
	sh -c "objdump -T '$work/app/busy_poll' | grep 'lring_open' | grep -q LIBLRING_1"
check "it runs against the installed library (and reports a missing ring)" \
	sh -c "env LD_LIBRARY_PATH='$D$libdir' '$work/app/busy_poll' --dev /nonexistent \
		>'$work/run.out' 2>&1; test \$? = 2 && grep -q 'No such file' '$work/run.out'"
# shellcheck disable=SC2046
check "busy_poll.c builds with pkg-config --static (liblring.a)" \
	gcc -std=c11 -Wall -Wextra -Werror -O2 -static-libgcc -o "$work/app/busy_poll_static" \
	"$work/app/busy_poll.c" $(pkg-config --cflags lring) "$D$libdir/liblring.a" \
	$(pkg-config --static --libs-only-l lring | sed 's/-llring//')
check "the static build does not need liblring.so" \
	sh -c "! readelf -d '$work/app/busy_poll_static' | grep -q liblring"

# Man pages: every page renders without warnings, every public function
# and every installed program has one.
man=$D$prefix/share/man
npages=$( (find "$man" -type f 2>/dev/null || true) | wc -l)
check "man pages installed ($npages)" test "$npages" -gt 0
bad=""
for p in $( (find "$man" -type f 2>/dev/null || true) | sort); do
	# .so links are resolved relative to the man root
	if ! (cd "$man" && groff -s -man -Tutf8 -ww -z "$p") >"$work/groff.log" 2>&1 ||
		[ -s "$work/groff.log" ]; then
		bad="$bad ${p#"$man"/}"
		cat "$work/groff.log" >>"$work/check.log"
	fi
done
check "every man page renders with groff -ww, no warnings${bad:+ (bad:$bad)}" test -z "$bad"
missing=""
for fn in $public; do
	[ -e "$man/man3/$fn.3" ] || missing="$missing $fn"
done
check "a man3 page for each public liblring function ($(echo $public | wc -w))${missing:+ (missing:$missing)}" \
	test -z "$missing"
missing=""
for b in "$D$prefix"/bin/* "$D$prefix"/lib/lring/examples/*; do
	[ -e "$man/man1/${b##*/}.1" ] || missing="$missing ${b##*/}"
done
check "a man1 page for each installed program${missing:+ (missing:$missing)}" test -z "$missing"
check "lring(4) is installed" test -e "$man/man4/lring.4"
check "man -l renders lring(4)" sh -c "MANWIDTH=80 man -l '$man/man4/lring.4' | grep -q lring"
if [ "$fail" != 0 ]; then
	echo "# log:"
	sed 's/^/# /' "$work/check.log" | tail -n 40
fi
tap_finish
