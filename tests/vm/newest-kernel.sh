#!/usr/bin/env bash
# The newest kernel Debian ships, built from its source: tests/vm/source-kernel.sh newest.
exec "$(dirname "${BASH_SOURCE[0]}")/source-kernel.sh" newest "$@"
