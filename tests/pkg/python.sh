#!/usr/bin/env bash
# The Python binding on the host, with Debian's python3 and python3-numpy:
# builds liblring-ffi.so.1 (make lib), fake_producer (a userspace kernel
# model) as a program and as fake_kernel.so (the same model, preloaded into
# a Python process), and python_abi, then runs tests/pkg/python_test.py
# with LRING_FFI_LIB naming the library just built. The python VM group
# runs the binding against the real module.
# Prints TAP lines; --result FILE writes "passed=N failed=N skipped=N".
set -euo pipefail

LRING_PROG=python-test
# shellcheck source=tests/vm/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/../vm/lib.sh"

result=""
[ "${1:-}" != --result ] || result=$2
py=${LRING_PYTHON:-/usr/bin/python3}
out=$LRING_BUILD/pkg
mkdir -p "$out"
log=$(mktemp)
trap 'rm -f "$log"' EXIT
cflags=(-std=c11 -Wall -Wextra -Werror -O2 -I"$LRING_ROOT/uapi"
	-I"$LRING_ROOT/liblring/include" -I"$LRING_ROOT/tests/unit")
# make's dependency files name build/...: another B only if asked for
mk=()
[ "$LRING_BUILD" = "$LRING_ROOT/build" ] || mk=(B="$LRING_BUILD")
rc=0
make -s -C "$LRING_ROOT" ${mk[@]+"${mk[@]}"} lib &&
	gcc "${cflags[@]}" -o "$out/fake_producer" "$LRING_ROOT/tests/pkg/fake_producer.c" -lpthread &&
	gcc "${cflags[@]}" -shared -fPIC -DFAKE_PRODUCER_LIB -o "$out/fake_kernel.so" \
		"$LRING_ROOT/tests/pkg/fake_producer.c" -lpthread &&
	gcc "${cflags[@]}" -o "$out/python_abi" "$LRING_ROOT/tests/pkg/python_abi.c" &&
	"$py" -c 'import numpy' ||
	{ echo "not ok - build liblring-ffi and the helpers / import numpy with $py"; rc=1; }
if [ "$rc" = 0 ]; then
	LRING_FFI_LIB=$LRING_BUILD/lib/liblring-ffi.so.1 \
		"$py" "$LRING_ROOT/tests/pkg/python_test.py" "$out/fake_producer" \
		"$out/python_abi" "$out/fake_kernel.so" | tee "$log" || rc=1
else
	echo "not ok - python binding" >"$log"
fi
p=$(grep -c '^ok' "$log" || true)
f=$(grep -c '^not ok' "$log" || true)
[ "$rc" = 0 ] || [ "$f" != 0 ] || f=1
[ -z "$result" ] || echo "passed=$p failed=$f skipped=0" >"$result"
[ "$f" = 0 ]
