#!/usr/bin/env bash
# The KCSAN kernel: tests/vm/source-kernel.sh kcsan.
exec "$(dirname "${BASH_SOURCE[0]}")/source-kernel.sh" kcsan "$@"
