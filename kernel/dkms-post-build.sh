#!/bin/sh
# DKMS POST_BUILD step (dkms.conf): keep this kernel's Module.symvers next to
# the modules it describes, $dkms_tree/lring/<version>/<kernel>/<arch>/module,
# which DKMS also reaches as $dkms_tree/lring/kernel-<kernel>-<arch>/module.
# A driver built against lring names it in KBUILD_EXTRA_SYMBOLS; DKMS deletes
# the build directory, where kbuild wrote it, right after this step.
set -e
[ $# -eq 1 ] && [ -d "$1" ] || { echo "usage: dkms-post-build.sh MODULE_DIR" >&2; exit 1; }
cp Module.symvers "$1/Module.symvers"
