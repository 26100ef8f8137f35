#!/usr/bin/env bash
# Fetch, unpack and describe the Debian test kernels kept in the lring cache.
#
# Usage:
#   kernel.sh fetch SERIES...     make sure each kernel (6.1, 6.12, 6.12-rt, 5.10) is in the cache
#
# A SERIES other than 6.1 and 6.12 names a kernel made by tests/vm/SERIES-kernel.sh
# (e.g. "debug" for debug-kernel.sh), which must print KREL= KDIR= KIMAGE= for `env`.
#   kernel.sh env SERIES          print KREL= KVER= KDIR= KIMAGE= KMODULES= lines
#                                 (fetches first if needed); for `eval`
#   kernel.sh kdir SERIES         print the headers directory only
#   kernel.sh krel KDIR           print the kernel release a headers dir builds for
#   kernel.sh checkpatch          print the path of a checkpatch.pl (kernel-doc
#                                 beside it), taken from Debian's
#                                 linux-source-6.1 into the cache once
#   kernel.sh source PKG|newest   print PKG=VERSION of the newest PKG (or of the
#                                 newest linux-source-X.Y) the suites have
#   kernel.sh download DIR PKG=VERSION...   apt-get download into DIR
#   kernel.sh refresh             forget resolved versions (the newest
#                                 source kernel's too); next fetch resolves anew
#   kernel.sh busybox ARCH        print the path of a static busybox for ARCH's
#                                 guests (the host's own, or Debian's
#                                 busybox-static for ARCH, fetched once)
#   kernel.sh unit-libs ARCH      print the root of ARCH's Criterion and liburcu
#                                 (Debian's ARCH packages and what they need at
#                                 run time, fetched once), for the unit tests
#                                 cross-built and run under qemu-user
#
# The packages come from the machine's own Debian sources (plus bookworm-backports
# and bullseye on the same mirrors) through a private apt configuration under the cache, so the
# machine's apt state is never touched. Versions are resolved once and recorded in
# $LRING_CACHE/kernels/resolved.env; a warm cache works offline.
set -euo pipefail

LRING_PROG=kernel.sh
# shellcheck source=tests/vm/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

APTDIR=$LRING_CACHE/apt
RESOLVED=$LRING_KERNELS/resolved.env
APT_OPTS=(
	-o "Dir::Etc::SourceList=$APTDIR/etc/sources.list"
	-o "Dir::Etc::SourceParts=$APTDIR/etc/sources.list.d"
	-o "Dir::Etc::Preferences=$APTDIR/etc/preferences"
	-o "Dir::Etc::PreferencesParts=$APTDIR/etc/preferences.d"
	-o "Dir::State::Lists=$APTDIR/lists"
	-o "Dir::State::Status=$APTDIR/status"
	-o "Dir::Cache=$APTDIR/cache"
	-o "APT::Sandbox::User=$(id -un)"
	-o "APT::Get::List-Cleanup=0"
	-o "Acquire::Languages=none"
	# the host's own packages, and kernels and busybox for the ARM VMs
	-o "APT::Architectures::=$(dpkg --print-architecture)"
	-o "APT::Architectures::=arm64"
	-o "APT::Architectures::=armhf"
)

# Print the bookworm entries of the machine's apt sources in deb822 form, and
# remember the URI and key of the main Debian entry (suite "bookworm") in
# MAIN_URI / MAIN_KEY so bookworm-backports can be added from the same mirror.
machine_sources() {
	local f
	{
		for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
			[ -f "$f" ] || continue
			# one-line style: deb [opts] URI SUITE COMPONENTS...
			awk '
			/^[ \t]*deb[ \t]/ {
				opts = ""; i = 2
				if ($2 ~ /^\[/) {
					while (i <= NF) { opts = opts " " $i; if ($i ~ /\]$/) { i++; break } i++ }
				}
				uri = $i; suite = $(i + 1); comps = ""
				for (j = i + 2; j <= NF; j++) comps = comps " " $j
				if (suite !~ /^bookworm/) next
				key = ""
				if (match(opts, /signed-by=[^] ]+/)) key = substr(opts, RSTART + 10, RLENGTH - 10)
				print "Types: deb"; print "URIs: " uri; print "Suites: " suite
				print "Components:" comps
				if (key != "") print "Signed-By: " key
				print ""
			}' "$f"
		done
		for f in /etc/apt/sources.list.d/*.sources; do
			[ -f "$f" ] || continue
			# deb822: keep stanzas of type deb whose suites are bookworm*
			awk 'BEGIN { RS = ""; ORS = "\n\n" }
			{
				keep = 0; types = 0; enabled = 1
				n = split($0, l, "\n")
				for (k = 1; k <= n; k++) {
					if (l[k] ~ /^Types:/ && l[k] ~ /[ \t]deb([ \t]|$)/) types = 1
					if (l[k] ~ /^Suites:/ && l[k] ~ /[ \t]bookworm/) keep = 1
					if (l[k] ~ /^Enabled:[ \t]*no/) enabled = 0
				}
				if (keep && types && enabled) print
			}' "$f"
		done
	}
}

setup_apt() {
	local srcs uri key
	mkdir -p "$APTDIR/etc/sources.list.d" "$APTDIR/etc/preferences.d" \
		"$APTDIR/lists/partial" "$APTDIR/cache/archives/partial"
	touch "$APTDIR/status" "$APTDIR/etc/sources.list" "$APTDIR/etc/preferences"
	srcs=$(machine_sources)
	[ -n "$srcs" ] || die "no Debian bookworm entry in /etc/apt/sources.list{,.d}"
	# URI and key of the stanza whose Suites has plain "bookworm" (main archive)
	uri=$(printf '%s\n' "$srcs" | awk 'BEGIN { RS = "" }
		/\nSuites:[^\n]*[ \t]bookworm([ \t\n]|$)/ {
			if (match($0, /URIs:[ \t]*[^ \t\n]+/)) {
				s = substr($0, RSTART, RLENGTH); sub(/URIs:[ \t]*/, "", s); print s; exit
			}
		}')
	[ -n "$uri" ] || die "no 'bookworm' suite in the machine's apt sources"
	key=$(printf '%s\n' "$srcs" | awk 'BEGIN { RS = "" }
		/\nSuites:[^\n]*[ \t]bookworm([ \t\n]|$)/ {
			if (match($0, /Signed-By:[ \t]*[^ \t\n]+/)) {
				s = substr($0, RSTART, RLENGTH); sub(/Signed-By:[ \t]*/, "", s); print s
			}
			exit
		}')
	{
		printf '%s\n\n' "$srcs"
		if ! printf '%s\n' "$srcs" | grep -q '^Suites:.*bookworm-backports'; then
			printf 'Types: deb\nURIs: %s\nSuites: bookworm-backports\nComponents: main\n' "$uri"
			[ -z "$key" ] || printf 'Signed-By: %s\n' "$key"
		fi
		# The newest kernels' sources (tests/vm/source-kernel.sh newest):
		# unstable and the next release's backports, on the main mirror.
		# Only their source packages are used: the host's architecture only.
		printf '\nTypes: deb\nURIs: %s\nSuites: sid trixie-backports\nComponents: main\n' "$uri"
		printf 'Architectures: %s\n' "$(dpkg --print-architecture)"
		[ -z "$key" ] || printf 'Signed-By: %s\n' "$key"
		# Debian 11's 5.10, from the same mirrors: each bookworm stanza
		# again for bullseye (bookworm-security -> bullseye-security), for
		# the host's architecture (bullseye-security has no armhf here).
		echo
		printf '%s\n' "$srcs" | awk -v host="$(dpkg --print-architecture)" 'BEGIN { RS = ""; ORS = "\n\n" }
		{
			n = split($0, l, "\n"); out = "Architectures: " host "\n"; suites = ""
			for (k = 1; k <= n; k++) {
				if (l[k] ~ /^Architectures:/) continue
				if (l[k] ~ /^Suites:/) {
					m = split(l[k], w, /[ \t]+/)
					for (j = 2; j <= m; j++)
						if (w[j] ~ /^bookworm/ && w[j] != "bookworm-backports") {
							sub(/^bookworm/, "bullseye", w[j]); suites = suites " " w[j]
						}
					l[k] = "Suites:" suites
				}
				out = out l[k] "\n"
			}
			if (suites != "") print out
		}'
	} >"$APTDIR/etc/sources.list.d/lring.sources"
	log "updating private package lists ($APT_SUITES)"
	apt-get "${APT_OPTS[@]}" -qq update >"$APTDIR/update.log" 2>&1 ||
		{ cat "$APTDIR/update.log" >&2; die "apt-get update failed (private config in $APTDIR)"; }
	echo "$APT_SUITES" >"$APTDIR/suites"
}

acache() { apt-cache "${APT_OPTS[@]}" "$@"; }

# Print the Depends field of PKG=VER, one dependency name per line.
depends_of() {
	acache show "$1=$2" 2>/dev/null | sed -n 's/^Depends: //p' | head -n 1 |
		tr ',|' '\n\n' | sed -E 's/^ *//; s/ .*//' | sed '/^$/d'
}

# Resolve the newest kernel of SERIES (5.10, 6.1, 6.12, 6.12-rt for the
# PREEMPT_RT flavour, 6.1-arm64, 6.12-arm64 and 6.1-armhf), from any configured suite
# (bookworm, -updates, -security, -backports; bullseye and its -updates,
# -security for 5.10). The image and headers are the series' architecture;
# linux-kbuild (fixdep, modpost: programs run while building a module) is
# always the host's, so a foreign kernel's modules cross-build here.
resolve() {
	local s=$1 k best="" v meta="" p krel hdr common kbuild image
	local ver=$s flavour=amd64 arch
	case $s in
	*-rt) ver=${s%-rt} flavour=rt-amd64 ;;
	*-arm64) ver=${s%-arm64} flavour=arm64 ;;
	*-armhf) ver=${s%-armhf} flavour=armmp ;;
	esac
	arch=$(series_arch "$s")
	k=$(series_key "$s")
	for p in "linux-headers-$flavour" "linux-headers-$ver-$flavour"; do
		for v in $(acache madison "$p" 2>/dev/null | awk -F'|' '{ gsub(/ /, "", $2); print $2 }'); do
			case $v in "$ver".*) ;; *) continue ;; esac
			if [ -z "$best" ] || dpkg --compare-versions "$v" gt "$best"; then
				best=$v meta=$p
			fi
		done
	done
	[ -n "$best" ] || die "no linux-headers for $s in the configured suites"
	hdr=$(depends_of "$meta" "$best" | grep -m1 '^linux-headers-') ||
		die "cannot resolve headers of $meta=$best"
	krel=${hdr#linux-headers-}
	common=$(depends_of "$hdr" "$best" | grep -m1 -E -- '^linux-headers-.*-common(-rt)?$') ||
		die "no -common headers for $hdr"
	kbuild=$(depends_of "$hdr" "$best" | grep -m1 '^linux-kbuild-') ||
		die "no linux-kbuild for $hdr"
	image=linux-image-$krel
	if ! acache madison "$image" | awk -F'|' -v v="$best" '{ gsub(/ /, "", $2) } $2 == v { f = 1 } END { exit !f }'; then
		image=linux-image-$krel-unsigned
	fi
	{
		echo "# $s: resolved $(date -u +%Y-%m-%dT%H:%MZ)"
		echo "KREL_$k=$krel"
		echo "KVER_$k=$best"
		echo "KPKGS_$k=\"$image:$arch=$best $hdr:$arch=$best $common=$best $kbuild=$best\""
	} >>"$RESOLVED"
	log "resolved $s: $krel ($best)"
}

load_resolved() {
	local s=$1 k
	k=$(series_key "$s")
	KREL="" KVER="" KPKGS=""
	if [ -f "$RESOLVED" ]; then
		KREL=$(sed -n "s/^KREL_$k=//p" "$RESOLVED" | tail -n 1)
		KVER=$(sed -n "s/^KVER_$k=//p" "$RESOLVED" | tail -n 1)
		KPKGS=$(sed -n "s/^KPKGS_$k=\"\(.*\)\"$/\1/p" "$RESOLVED" | tail -n 1)
	fi
}

# Make the unpacked headers usable from where they are now: absolute paths
# into /usr/src and /usr/lib are rewritten into the cache tree. Idempotent.
fix_paths() {
	local root=$1 krel=$2 l t mk
	for mk in "$root"/usr/src/linux-headers-*/Makefile; do
		[ -f "$mk" ] || continue
		sed -i -E "s|^include [^ ]*/usr/src/(linux-headers-[^/]+)/Makefile|include $root/usr/src/\1/Makefile|" "$mk"
	done
	# absolute symlinks (lib/modules/*/build, source, ...) -> relative in the tree
	while IFS= read -r l; do
		t=$(readlink "$l")
		case $t in /*) ln -sfnr "$root$t" "$l" ;; esac
	done < <(find "$root" -type l -lname '/*')
	: "$krel"
}

check_compiler() {
	local kdir=$1 cc want have
	cc=$(kernel_cc "$kdir")
	cc=${cc:-gcc}
	if ! command -v "$cc" >/dev/null; then
		# Debian 11's gcc-10 is not in Debian 12: build-kmod.sh uses gcc.
		[ "$cc" != gcc-10 ] || { log "note: $cc (this kernel's compiler) is not in Debian 12; modules build with gcc"; return 0; }
		die "$cc (used to build this kernel) is missing: run 'make deps'"
	fi
	want=$(sed -n 's/^CONFIG_GCC_VERSION=//p' "$kdir/.config")
	have=$("$cc" -dumpfullversion | awk -F. '{ printf "%d%02d%02d", $1, $2, $3 }')
	if [ "${want:0:2}" != "${have:0:2}" ]; then
		log "warning: kernel built with gcc $want, $cc here is $have"
	fi
}

# What the private configuration serves; a cache made for fewer suites is
# set up again once.
APT_SUITES="bookworm bookworm-backports bullseye sid trixie-backports; $(dpkg --print-architecture) arm64 armhf"
have_lists() {
	ls "$APTDIR/lists/"*_Packages* >/dev/null 2>&1 &&
		[ "$(cat "$APTDIR/suites" 2>/dev/null)" = "$APT_SUITES" ]
}

forget() {
	[ -f "$RESOLVED" ] || return 0
	sed -i "/^# $1: /d; /^K[A-Z]*_$(series_key "$1")=/d" "$RESOLVED"
}

# download PKGS into DIR; returns non-zero on failure (log in DIR/download.log)
download() {
	rm -rf "$1"
	mkdir -p "$1"
	# shellcheck disable=SC2086
	(cd "$1" && apt-get "${APT_OPTS[@]}" -qq download $2) >"$1/download.log" 2>&1
}

fetch_one() {
	local s=$1 root tmp debs p
	mkdir -p "$LRING_KERNELS"
	load_resolved "$s"
	if [ -z "$KREL" ]; then
		have_lists || setup_apt
		resolve "$s"
		load_resolved "$s"
	fi
	root=$LRING_KERNELS/$KREL
	[ -f "$root/.complete" ] && return 0
	log "fetching $s: $KPKGS"
	debs=$LRING_KERNELS/.debs-$KREL
	have_lists || setup_apt
	if ! download "$debs" "$KPKGS"; then
		# the lists may be stale (superseded security update): start over
		log "download failed; resolving $s again from fresh package lists"
		forget "$s"
		setup_apt
		resolve "$s"
		load_resolved "$s"
		root=$LRING_KERNELS/$KREL
		[ -f "$root/.complete" ] && return 0
		debs=$LRING_KERNELS/.debs-$KREL
		download "$debs" "$KPKGS" ||
			{ cat "$debs/download.log" >&2; die "cannot download the $s kernel packages"; }
	fi
	tmp=$root.tmp
	rm -rf "$tmp"
	mkdir -p "$tmp"
	for p in "$debs"/*.deb; do
		dpkg-deb -x "$p" "$tmp"
	done
	rm -rf "$tmp/usr/share/doc" "$tmp/usr/share/bug" "$debs"
	[ -f "$tmp/boot/vmlinuz-$KREL" ] || die "no vmlinuz in the $s image package"
	[ -d "$tmp/usr/src/linux-headers-$KREL" ] || die "no headers in the $s packages"
	rm -rf "$root"
	mv "$tmp" "$root"
	fix_paths "$root" "$KREL"
	echo "$KPKGS" >"$root/.complete"
	log "kernel $s ready: $root"
}

with_lock() {
	mkdir -p "$LRING_KERNELS"
	exec 9>"$LRING_KERNELS/.lock"
	flock 9
}

print_env() {
	local s=$1 root
	fetch_one "$s"
	root=$LRING_KERNELS/$KREL
	# the cache may have moved since it was unpacked
	grep -qF "include $root/" "$root/usr/src/linux-headers-$KREL/Makefile" || fix_paths "$root" "$KREL"
	check_compiler "$root/usr/src/linux-headers-$KREL"
	echo "KSERIES=$s"
	echo "KREL=$KREL"
	echo "KVER=$KVER"
	echo "KDIR=$root/usr/src/linux-headers-$KREL"
	echo "KIMAGE=$root/boot/vmlinuz-$KREL"
	echo "KMODULES=$root/lib/modules/$KREL"
}

# checkpatch.pl and kernel-doc are not in the headers packages: take them (and
# the data files checkpatch reads) out of linux-source-6.1 once, into
# $LRING_CACHE/checkpatch/.
checkpatch() {
	local dir=$LRING_CACHE/checkpatch tmp v tarball
	if [ -x "$dir/scripts/checkpatch.pl" ] && [ -f "$dir/scripts/kernel-doc" ]; then
		echo "$dir/scripts/checkpatch.pl"
		return
	fi
	have_lists || setup_apt
	v=$(acache madison linux-source-6.1 | awk -F'|' '{ gsub(/ /, "", $2); print $2 }' | head -n 1)
	[ -n "$v" ] || die "linux-source-6.1 not found in the package lists"
	log "fetching checkpatch.pl from linux-source-6.1 $v (once)"
	tmp=$LRING_CACHE/.checkpatch-tmp
	rm -rf "$tmp"
	download "$tmp" "linux-source-6.1=$v" ||
		{ cat "$tmp/download.log" >&2; die "cannot download linux-source-6.1"; }
	tarball=$(dpkg-deb -c "$tmp"/linux-source-6.1_*.deb | awk '/\.tar\.xz$/ { print $NF; exit }')
	[ -n "$tarball" ] || die "no source tarball in linux-source-6.1"
	dpkg-deb --fsys-tarfile "$tmp"/linux-source-6.1_*.deb | tar -x -C "$tmp" "$tarball"
	tar -xJf "$tmp/$tarball" -C "$tmp" --wildcards --strip-components=1 \
		'*/scripts/checkpatch.pl' '*/scripts/spelling.txt' '*/scripts/const_structs.checkpatch' \
		'*/scripts/kernel-doc'
	rm -rf "$dir"
	mkdir -p "$dir/scripts"
	mv "$tmp"/scripts/* "$dir/scripts/"
	echo "linux-source-6.1=$v" >"$dir/VERSION"
	rm -rf "$tmp"
	echo "$dir/scripts/checkpatch.pl"
}

# A static busybox for a foreign architecture's initramfs, from Debian's
# busybox-static for that architecture, unpacked once into the cache.
busybox_for() {
	local arch=$1 dir=$LRING_CACHE/busybox/$1 tmp
	if [ "$arch" = "$(dpkg --print-architecture)" ]; then
		echo "${LRING_BUSYBOX:-/bin/busybox}"
		return
	fi
	if [ ! -x "$dir/busybox" ]; then
		have_lists || setup_apt
		tmp=$dir.tmp
		download "$tmp" "busybox-static:$arch" ||
			{ cat "$tmp/download.log" >&2; die "cannot download busybox-static:$arch"; }
		dpkg-deb -x "$tmp"/busybox-static_*.deb "$tmp/root"
		mkdir -p "$dir"
		mv "$tmp/root/bin/busybox" "$dir/busybox"
		rm -rf "$tmp"
	fi
	echo "$dir/busybox"
}

# Criterion and liburcu for ARCH with every library they load, unpacked once
# into $LRING_CACHE/sysroot/ARCH: cross-built unit tests link against it and
# qemu-user loads it (QEMU_LD_PREFIX). The -dev packages bring the headers
# that differ per architecture (urcu/config.h).
unit_libs_for() {
	local arch=$1 dir=$LRING_CACHE/sysroot/$1 tmp pkgs p
	if [ ! -f "$dir/.complete" ]; then
		have_lists || setup_apt
		acache show "libcriterion3:$arch" >/dev/null 2>&1 ||
			die "Debian has no libcriterion3 for $arch: no unit tests for it"
		pkgs=$(acache depends --recurse --no-recommends --no-suggests --no-conflicts \
			--no-breaks --no-replaces --no-enhances "libcriterion3:$arch" |
			grep -E "^[a-z0-9][^ ]*:$arch\$" | sort -u | tr '\n' ' ')
		tmp=$dir.tmp
		download "$tmp" "$pkgs libcriterion-dev:$arch liburcu-dev:$arch" ||
			{ cat "$tmp/download.log" >&2; die "cannot download the unit test libraries for $arch"; }
		for p in "$tmp"/*.deb; do
			dpkg-deb -x "$p" "$tmp/root"
		done
		rm -rf "$dir"
		mv "$tmp/root" "$dir"
		echo "$pkgs" >"$dir/.complete"
		rm -rf "$tmp"
	fi
	echo "$dir"
}

# source_package PKG|newest: PKG=VERSION of the newest version of PKG, or
# of the newest linux-source-X.Y of all, in the configured suites
source_package() {
	local want=$1 p v best="" bestp=""
	have_lists || setup_apt
	if [ "$want" = newest ]; then
		want=$(acache search --names-only '^linux-source-[0-9]+\.[0-9]+$' | awk '{ print $1 }')
	fi
	for p in $want; do
		for v in $(acache madison "$p" | awk -F'|' '{ gsub(/ /, "", $2); print $2 }'); do
			if [ -z "$best" ] || dpkg --compare-versions "$v" gt "$best"; then
				best=$v bestp=$p
			fi
		done
	done
	[ -n "$best" ] || die "no $1 package in the configured suites"
	echo "$bestp=$best"
}

valid_series() {
	debian_series "$1" || die "unknown kernel series '$1' (have: $LRING_SERIES_ALL $LRING_SERIES_OPT_IN)"
}

# Kernels from elsewhere: a series NAME with a script tests/vm/NAME-kernel.sh
# (e.g. debug-kernel.sh) that builds or fetches it and, given `env`, prints
# KREL=, KDIR= and KIMAGE= (KVER= optional).
external_env() {
	local f out
	f=$(dirname "${BASH_SOURCE[0]}")/$1-kernel.sh
	[ -f "$f" ] || return 1
	out=$(bash "$f" env) || die "$f env failed"
	echo "KSERIES=$1"
	printf '%s\n' "$out" | grep -q '^KVER=' || printf 'KVER=%q\n' "$1 kernel"
	printf '%s\n' "$out"
	printf '%s\n' "$out" | grep -q '^KMODULES=' || echo "KMODULES="
}

cmd=${1:-}
shift || true
case $cmd in
fetch)
	[ $# -gt 0 ] || set -- $LRING_SERIES_ALL
	# Kernels built from source take the lock themselves (kernel.sh
	# source), so they are built before this process holds it.
	for s; do
		if [ -f "$(dirname "$0")/$s-kernel.sh" ]; then
			bash "$(dirname "$0")/$s-kernel.sh" env >/dev/null
		fi
	done
	with_lock
	for s; do
		[ ! -f "$(dirname "$0")/$s-kernel.sh" ] || continue
		valid_series "$s"
		fetch_one "$s"
	done
	;;
env)
	[ $# -eq 1 ] || die "usage: kernel.sh env SERIES"
	external_env "$1" && exit 0
	valid_series "$1"
	with_lock
	print_env "$1"
	;;
kdir)
	[ $# -eq 1 ] || die "usage: kernel.sh kdir SERIES"
	if out=$(external_env "$1"); then
		printf '%s\n' "$out" | sed -n 's/^KDIR=//p'
		exit 0
	fi
	valid_series "$1"
	with_lock
	print_env "$1" | sed -n 's/^KDIR=//p'
	;;
krel)
	[ $# -eq 1 ] || die "usage: kernel.sh krel KDIR"
	f=$1/include/generated/utsrelease.h
	[ -f "$f" ] || die "$1 is not a configured kernel build/headers dir"
	sed -n 's/^#define UTS_RELEASE "\(.*\)"/\1/p' "$f"
	;;
checkpatch)
	with_lock
	checkpatch
	;;
busybox)
	[ $# -eq 1 ] || die "usage: kernel.sh busybox ARCH"
	with_lock
	busybox_for "$1"
	;;
unit-libs)
	[ $# -eq 1 ] || die "usage: kernel.sh unit-libs ARCH"
	with_lock
	unit_libs_for "$1"
	;;
source)
	[ $# -eq 1 ] || die "usage: kernel.sh source PKG|newest"
	with_lock
	source_package "$1"
	;;
download)
	[ $# -ge 2 ] || die "usage: kernel.sh download DIR PKG=VERSION..."
	d=$1
	shift
	with_lock
	have_lists || setup_apt
	download "$d" "$*"
	;;
refresh)
	with_lock
	rm -f "$RESOLVED" "$LRING_CACHE"/*-kernel/source
	log "forgot resolved kernel versions; the next fetch resolves them again"
	;;
*)
	sed -n '2,/^set -e/{/^#/s/^# \{0,1\}//p}' "$0" >&2
	exit 2
	;;
esac
