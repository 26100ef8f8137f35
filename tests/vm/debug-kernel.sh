#!/usr/bin/env bash
# The debug kernel: tests/vm/source-kernel.sh debug (see there).
exec "$(dirname "${BASH_SOURCE[0]}")/source-kernel.sh" debug "$@"
