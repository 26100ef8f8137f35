#!/usr/bin/env bash
# The debug kernel for arm64 guests: tests/vm/source-kernel.sh debug-arm64.
exec "$(dirname "${BASH_SOURCE[0]}")/source-kernel.sh" debug-arm64 "$@"
