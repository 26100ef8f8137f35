# lring top-level Makefile. Targets:
#   make            kernel modules (for KDIR) + liblring + examples + tests + perf
#   make check      deps, build, unit tests, VM tests on every kernel; ends with
#                   "N passed, N failed"   (filter: KERNELS="6.1" GROUPS="smoke";
#                   JOBS=2 runs two VMs at once). 6.12, 6.12-arm64 and the
#                   newest kernel run only the core groups there
#   make check-all  the same with every group on every kernel (no tiers)
#   make demo       tests/vm/demo.sh in the VM, on DEMO_KERNEL only (6.1)
#   make unit       host unit tests (and their arm64 build under qemu-user)
#   make vm-test    VM tests only
#   make modules    kernel modules for KDIR      make kmods     for every KERNELS
#   make sparse     modules through sparse       make checkpatch  kernel style
#   make style      checkpatch, sparse on 6.1 and 6.12, kernel-doc (as make check)
#   make deps       install Debian packages      make kernels   fetch test kernels
#   make selftest   prove the VM harness catches failures and kernel warnings
#   make snippets   rewrite the code blocks of docs/tutorial, README.md and
#                   docs/liblring.md from the marked regions
#   make bench      perf/bench.sh: benchmarks on the host and in the VM, writes
#                   docs/perf.md and docs/perf-throughput.png
#   make fuzz       the fuzz group with a longer fuzz: SECONDS=600 SEED=N
#                   (default 600 s, seed 1; on every KERNELS)
#   make install    liblring, liblring-ffi, headers, lring.pc, tools, man pages,
#                   udev rule, the Python module, the driver headers in
#                   /usr/src/lring-<version>/include
#                   (PREFIX=/usr/local DESTDIR=...; README "Install")
#   make dkms-install  the modules' sources into DKMS, built and installed
#   make modules_install  without DKMS: the modules for KDIR, and what a
#                   driver of your own builds against (docs/tutorial/09)
#   make clean      remove build/
# Files are found by pattern: add a .c file to liblring/src, examples, tools,
# tests/unit, tests/kernel or perf and it is built without touching this file.

ifeq ($(origin CC),default)
CC       := gcc
endif
CFLAGS   ?= -O2 -g
CFLAGS   += -std=c11 -Wall -Wextra -Werror
CPPFLAGS += -Iuapi -Iliblring/include
# compiler sanitizers for a separate build (tests/sanitizers/run.sh):
# make B=build/asan SANITIZE="-fsanitize=address,undefined" unit-progs
SANITIZE ?=
CFLAGS   += $(SANITIZE)
LDFLAGS  += $(SANITIZE)
LDLIBS   ?= -lpthread
UNIT_LDLIBS ?= -lcriterion
# where a cross build of the unit tests finds Criterion's and liburcu's
# headers for its architecture (tests/vm/lib.sh unit_progs)
UNIT_CPPFLAGS ?=

# Kernel for `make modules`: the running kernel's build dir if there is one,
# else the cached Debian 6.1 test kernel (fetched on first use).
KDIR     ?= $(wildcard /lib/modules/$(shell uname -r)/build)
KERNELS  ?= 6.1 6.12 6.12-rt 5.10 newest 6.1-arm64 6.12-arm64 6.1-armhf debug debug-arm64
# make check-all adds the KCSAN kernel (docs/testing.md, "Tiers")
CHECK_ALL_KERNELS ?= $(KERNELS) kcsan
GROUPS   ?=
JOBS     ?= 1

B := build
VM := tests/vm

LIB_SRCS := $(wildcard liblring/src/*.c)
LIB_OBJS := $(patsubst liblring/src/%.c,$(B)/obj/liblring/%.o,$(LIB_SRCS))
LIB_A    := $(B)/lib/liblring.a
LIB_SO   := $(if $(LIB_OBJS),$(B)/lib/liblring.so.1 $(B)/lib/liblring.so)
# liblring-ffi.so.1: liblring.so.1's objects plus liblring/ffi/*.c, the
# header's inline functions compiled out of line for other languages
FFI_SRCS := $(wildcard liblring/ffi/*.c)
FFI_OBJS := $(patsubst liblring/ffi/%.c,$(B)/obj/liblring-ffi/%.o,$(FFI_SRCS))
FFI_SO   := $(if $(FFI_OBJS),$(B)/lib/liblring-ffi.so.1 $(B)/lib/liblring-ffi.so)
EXAMPLES := $(patsubst examples/%.c,$(B)/examples/%,$(wildcard examples/*.c))
UNIT     := $(patsubst tests/unit/%.c,$(B)/tests/unit/%,$(wildcard tests/unit/*.c))
KTESTS   := $(patsubst tests/kernel/%.c,$(B)/tests/kernel/%,$(wildcard tests/kernel/*.c))
PERF     := $(patsubst perf/%.c,$(B)/perf/%,$(wildcard perf/*.c))
TOOLS    := $(patsubst tools/%.c,$(B)/tools/%,$(wildcard tools/*.c))
# lring-record needs liburing for the target: a cross build without the
# target's liburing-dev leaves it out (the x86 guests run it).
HAVE_URING := $(shell echo 'int main(void) { struct io_uring r; return io_uring_queue_init(1, &r, 0); }' | \
	$(CC) $(CPPFLAGS) -include liburing.h -x c - -o /dev/null $(LDFLAGS) -luring >/dev/null 2>&1 && echo 1)
ifneq ($(HAVE_URING),1)
TOOLS    := $(filter-out $(B)/tools/lring-record,$(TOOLS))
endif
$(B)/tools/lring-record: LDLIBS += -luring
PROGS    := $(EXAMPLES) $(UNIT) $(KTESTS) $(PERF) $(TOOLS)

.PHONY: all userspace vm-progs lib modules kmods sparse checkpatch style deps kernels unit \
	unit-progs vm-test check check-all demo selftest bench fuzz clean
.DELETE_ON_ERROR:

all: modules userspace

userspace: lib $(PROGS)

# What the test VM runs (no unit tests, no shared library): for a cross
# build, e.g. make B=build/arm64 CC=aarch64-linux-gnu-gcc LDFLAGS=-static vm-progs
vm-progs: $(LIB_A) $(EXAMPLES) $(KTESTS) $(PERF) $(TOOLS)

# The unit tests alone, for a cross build run under qemu-user
# (tests/vm/run-unit.sh --arch ARCH).
unit-progs: $(UNIT)
$(UNIT): CPPFLAGS += $(UNIT_CPPFLAGS)

lib: $(LIB_A) $(LIB_SO) $(FFI_SO)

$(B)/obj/liblring/%.o: liblring/src/%.c
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) -Iliblring/src $(CFLAGS) -fPIC -MMD -MP -c -o $@ $<

$(LIB_A): $(LIB_OBJS)
	@mkdir -p $(@D)
	rm -f $@
	ar rcs $@ $^

# Every exported symbol carries the version LIBLRING_1 (liblring/liblring.map).
$(B)/lib/liblring.so.1: $(LIB_OBJS) liblring/liblring.map
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -shared -Wl,-soname,liblring.so.1 \
		-Wl,--version-script=liblring/liblring.map -o $@ $(LIB_OBJS) \
		$(LDFLAGS) $(LDLIBS)

$(B)/lib/liblring.so: $(B)/lib/liblring.so.1
	ln -sf liblring.so.1 $@

# liblring/ffi/ffi.c defines LRING_INLINE empty: <lring.h>'s inline functions
# become external definitions, each exported under its own name with the
# version LIBLRING_FFI_1 next to liblring's own (liblring/liblring-ffi.map).
# -fno-semantic-interposition: within the library they call each other
# directly (or inline), not through the PLT.
$(B)/obj/liblring-ffi/%.o: liblring/ffi/%.c
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(CFLAGS) -fPIC -fno-semantic-interposition -MMD -MP -c -o $@ $<

$(B)/lib/liblring-ffi.so.1: $(LIB_OBJS) $(FFI_OBJS) liblring/liblring-ffi.map
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -shared -Wl,-soname,liblring-ffi.so.1 \
		-Wl,--version-script=liblring/liblring-ffi.map -o $@ $(LIB_OBJS) \
		$(FFI_OBJS) $(LDFLAGS) $(LDLIBS)

$(B)/lib/liblring-ffi.so: $(B)/lib/liblring-ffi.so.1
	ln -sf liblring-ffi.so.1 $@

# One program per .c file; each links liblring statically.
define prog_rule
$(B)/$(1)/%: $(1)/%.c $(LIB_A)
	@mkdir -p $$(@D)
	@mkdir -p $(B)/dep/$(1)
	$$(CC) $$(CPPFLAGS) $$(CFLAGS) -MMD -MP -MF $(B)/dep/$(1)/$$*.d -o $$@ $$< $(LIB_A) $$(LDFLAGS) $(2) $$(LDLIBS)
endef
$(eval $(call prog_rule,examples,))
$(eval $(call prog_rule,tests/unit,$$(UNIT_LDLIBS)))
$(eval $(call prog_rule,tests/kernel,))
$(eval $(call prog_rule,perf,))
$(eval $(call prog_rule,tools,))

-include $(LIB_OBJS:.o=.d) $(FFI_OBJS:.o=.d) $(patsubst $(B)/%,$(B)/dep/%.d,$(PROGS))

# Kernel modules, built in a per-kernel copy: build/kmod/<krel>/kernel/*.ko
modules:
	+@if [ ! -f Kbuild ]; then echo "modules: no Kbuild yet, skipping the kernel modules"; exit 0; fi; \
	kdir="$(KDIR)"; \
	if [ -z "$$kdir" ]; then kdir=$$($(VM)/kernel.sh kdir 6.1) || exit 1; fi; \
	$(VM)/build-kmod.sh "$$kdir" >/dev/null

kmods:
	+@for k in $(KERNELS); do \
		kdir=$$($(VM)/kernel.sh kdir $$k) && $(VM)/build-kmod.sh "$$kdir" >/dev/null || exit 1; \
	done

sparse:
	+@kdir="$(KDIR)"; \
	if [ -z "$$kdir" ]; then kdir=$$($(VM)/kernel.sh kdir 6.1) || exit 1; fi; \
	$(VM)/build-kmod.sh "$$kdir" C=2 CHECK=sparse >/dev/null

checkpatch:
	@$(VM)/checkpatch.sh "$(KDIR)"

style:
	+@tests/style/kernel-style.sh

deps:
	@$(VM)/deps.sh

kernels:
	@$(VM)/kernel.sh fetch $(KERNELS)

unit: $(UNIT)
	@$(VM)/run-unit.sh
	@$(VM)/run-unit.sh --arch arm64

vm-test: userspace
	@$(VM)/check.sh --no-build --no-unit --no-selftest --jobs "$(JOBS)" \
		--kernels "$(KERNELS)" --groups "$(GROUPS)"

check:
	@$(VM)/check.sh --jobs "$(JOBS)" --kernels "$(KERNELS)" --groups "$(GROUPS)"

# Every group on every kernel, no tiers (docs/testing.md, "Tiers").
check-all:
	@$(VM)/check.sh --all --jobs "$(JOBS)" --kernels "$(CHECK_ALL_KERNELS)" --groups "$(GROUPS)"

# The demo builds and boots one kernel, not every one make check runs.
DEMO_KERNEL ?= 6.1
demo:
	@if [ ! -f $(VM)/demo.sh ]; then \
		echo "make demo: not available yet (tests/vm/demo.sh does not exist)"; exit 1; fi
	@$(VM)/deps.sh
	@$(MAKE) -s userspace kmods KERNELS="$(DEMO_KERNEL)"
	@bash $(VM)/demo.sh --kernel "$(DEMO_KERNEL)"

selftest:
	@$(VM)/selftest.sh

# docs/tutorial/*.md quote marked regions of the sources; make check fails
# while they differ (tests/docs/snippets.py --check), this rewrites them.
.PHONY: snippets
snippets:
	@python3 tests/docs/snippets.py --update

BENCH_KERNEL ?= 6.1
bench:
	@$(VM)/deps.sh
	@$(MAKE) -s userspace kmods KERNELS="$(BENCH_KERNEL)"
	@BENCH_KERNEL="$(BENCH_KERNEL)" perf/bench.sh

# tests/kernel/groups/fuzz.group with the fuzz's --seconds and --seed
# replaced and its time limits stretched to match.
SECONDS  ?= 600
SEED     ?= 1
fuzz: userspace kmods
	@mkdir -p $(B)/fuzz-long
	@sed -e 's/^fuzz --seed [0-9]* --seconds [0-9]*/fuzz --seed $(SEED) --seconds $(SECONDS)/' \
		-e 's/^# timeout: .*/# timeout: $(shell echo $$(($(SECONDS) + 420)))/' \
		-e 's/^# cmd-timeout: .*/# cmd-timeout: $(shell echo $$(($(SECONDS) + 200)))/' \
		tests/kernel/groups/fuzz.group >$(B)/fuzz-long/fuzz.group
	@rc=0; for k in $(KERNELS); do \
		$(VM)/run-vm --kernel $$k --group $(B)/fuzz-long/fuzz.group || rc=1; \
	done; exit $$rc

clean:
	rm -rf $(B)

# Install: what a package ships, in the usual places (README "Install").
# The kernel modules go through DKMS (dkms.conf) or `make modules_install`.
VERSION    := 1.0.0
PREFIX     ?= /usr/local
BINDIR     ?= $(PREFIX)/bin
LIBDIR     ?= $(PREFIX)/lib
INCLUDEDIR ?= $(PREFIX)/include
MANDIR     ?= $(PREFIX)/share/man
PKGCONFIGDIR ?= $(LIBDIR)/pkgconfig
# busy_poll, eventfd_consumer, busy_send and dmabuf_consumer are examples:
# not on PATH
EXAMPLEDIR ?= $(PREFIX)/lib/lring/examples
# Debian's python3 looks in /usr/lib/python3/dist-packages and, for local
# installs, /usr/local/lib/python3.X/dist-packages
PYTHONDIR  ?= $(if $(filter /usr,$(PREFIX)),/usr/lib/python3/dist-packages,$(PREFIX)/lib/python$(shell \
	/usr/bin/python3 -c 'import sys; print("%d.%d" % sys.version_info[:2])' 2>/dev/null || echo 3)/dist-packages)
# udev reads /etc/udev/rules.d and /usr/lib/udev/rules.d, not /usr/local
UDEVRULESDIR ?= /etc/udev/rules.d
DKMSSRCDIR ?= /usr/src/lring-$(VERSION)
INSTALL    ?= install

INSTALL_TOOLS := $(TOOLS) $(B)/perf/ring-bench
INSTALL_EXAMPLES := $(B)/examples/busy_poll $(B)/examples/eventfd_consumer \
	$(B)/examples/busy_send $(B)/examples/dmabuf_consumer

.PHONY: install install-lib install-headers install-bin install-man \
	install-udev install-python install-kdev modules_install dkms-src dkms-install

install: install-lib install-headers install-bin install-man install-udev \
	install-python install-kdev

$(B)/lib/lring.pc $(B)/lib/lring-ffi.pc: $(B)/lib/%.pc: liblring/%.pc.in Makefile
	@mkdir -p $(@D)
	sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@LIBDIR@|$(LIBDIR)|' \
		-e 's|@INCLUDEDIR@|$(INCLUDEDIR)|' -e 's|@VERSION@|$(VERSION)|' \
		-e 's|@DKMSSRCDIR@|$(DKMSSRCDIR)|' $< >$@

# lring.pc and lring-ffi.pc bake in the paths: rebuild them for every install
install-lib: lib
	@rm -f $(B)/lib/lring.pc $(B)/lib/lring-ffi.pc
	@$(MAKE) -s $(B)/lib/lring.pc $(B)/lib/lring-ffi.pc
	$(INSTALL) -d $(DESTDIR)$(LIBDIR) $(DESTDIR)$(PKGCONFIGDIR)
	$(INSTALL) -m 0644 $(LIB_A) $(DESTDIR)$(LIBDIR)/liblring.a
	$(INSTALL) -m 0755 $(B)/lib/liblring.so.1 $(DESTDIR)$(LIBDIR)/liblring.so.$(VERSION)
	ln -sf liblring.so.$(VERSION) $(DESTDIR)$(LIBDIR)/liblring.so.1
	ln -sf liblring.so.1 $(DESTDIR)$(LIBDIR)/liblring.so
	$(INSTALL) -m 0644 $(B)/lib/lring.pc $(DESTDIR)$(PKGCONFIGDIR)/lring.pc
	$(INSTALL) -m 0755 $(B)/lib/liblring-ffi.so.1 $(DESTDIR)$(LIBDIR)/liblring-ffi.so.$(VERSION)
	ln -sf liblring-ffi.so.$(VERSION) $(DESTDIR)$(LIBDIR)/liblring-ffi.so.1
	ln -sf liblring-ffi.so.1 $(DESTDIR)$(LIBDIR)/liblring-ffi.so
	$(INSTALL) -m 0644 $(B)/lib/lring-ffi.pc $(DESTDIR)$(PKGCONFIGDIR)/lring-ffi.pc

# The uapi headers go to $(INCLUDEDIR)/lring/linux, not $(INCLUDEDIR)/linux:
# with PREFIX=/usr that would be /usr/include/linux, the kernel headers
# package's directory. lring.pc's Cflags name both directories, so
# <lring.h> and <linux/lring.h> are found as in the source tree.
install-headers:
	$(INSTALL) -d $(DESTDIR)$(INCLUDEDIR)/lring/linux
	$(INSTALL) -m 0644 liblring/include/lring.h $(DESTDIR)$(INCLUDEDIR)/lring.h
	$(INSTALL) -m 0644 uapi/linux/*.h $(DESTDIR)$(INCLUDEDIR)/lring/linux/

install-bin: $(INSTALL_TOOLS) $(INSTALL_EXAMPLES)
	$(INSTALL) -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(EXAMPLEDIR)
	$(INSTALL) -m 0755 $(INSTALL_TOOLS) $(DESTDIR)$(BINDIR)/
	$(INSTALL) -m 0755 $(INSTALL_EXAMPLES) $(DESTDIR)$(EXAMPLEDIR)/

# docs/man/manN/*.N; a page that is only ".so manN/other.N" is installed as is
install-man:
	@for d in docs/man/man*; do \
		[ -d "$$d" ] || continue; \
		echo "$(INSTALL) -m 0644 $$d/* $(DESTDIR)$(MANDIR)/$${d##*/}/"; \
		$(INSTALL) -d $(DESTDIR)$(MANDIR)/$${d##*/} && \
		$(INSTALL) -m 0644 $$d/* $(DESTDIR)$(MANDIR)/$${d##*/}/ || exit 1; \
	done

install-udev:
	$(INSTALL) -d $(DESTDIR)$(UDEVRULESDIR)
	$(INSTALL) -m 0644 udev/60-lring.rules $(DESTDIR)$(UDEVRULESDIR)/

install-python:
	@if [ -f liblring/python/lring.py ]; then \
		echo "$(INSTALL) -m 0644 liblring/python/lring.py $(DESTDIR)$(PYTHONDIR)/"; \
		$(INSTALL) -d $(DESTDIR)$(PYTHONDIR) && \
		$(INSTALL) -m 0644 liblring/python/lring.py $(DESTDIR)$(PYTHONDIR)/; \
	fi

# Without DKMS: the modules for KDIR into /lib/modules/<krel>/updates, and
# what another module needs to build against them (install-kdev) with this
# kernel's symbol versions in $(DKMSSRCDIR)/<krel>/Module.symvers
modules_install: modules install-kdev
	+@kdir="$(KDIR)"; [ -n "$$kdir" ] || { echo "modules_install: set KDIR"; exit 1; }; \
	krel=$$($(VM)/kernel.sh krel "$$kdir"); \
	$(MAKE) -C "$$kdir" M=$(CURDIR)/$(B)/kmod/$$krel INSTALL_MOD_PATH=$(DESTDIR) \
		INSTALL_MOD_DIR=updates modules_install && \
	$(INSTALL) -d $(DESTDIR)$(DKMSSRCDIR)/$$krel && \
	$(INSTALL) -m 0644 $(B)/kmod/$$krel/Module.symvers $(DESTDIR)$(DKMSSRCDIR)/$$krel/

# A driver's build needs the driver header and the uapi header it uses, in
# one include directory of their own (docs/tutorial/09-building-your-driver.md)
install-kdev:
	$(INSTALL) -d $(DESTDIR)$(DKMSSRCDIR)/include/linux
	$(INSTALL) -m 0644 kernel/lring_driver.h $(DESTDIR)$(DKMSSRCDIR)/include/
	$(INSTALL) -m 0644 uapi/linux/lring.h $(DESTDIR)$(DKMSSRCDIR)/include/linux/

# The module sources as DKMS wants them: $(DKMSSRCDIR) with dkms.conf; its
# post-build step keeps each kernel's Module.symvers next to the modules
dkms-src: install-kdev
	$(INSTALL) -d $(DESTDIR)$(DKMSSRCDIR)/kernel $(DESTDIR)$(DKMSSRCDIR)/uapi/linux
	$(INSTALL) -m 0644 dkms.conf Kbuild $(DESTDIR)$(DKMSSRCDIR)/
	$(INSTALL) -m 0644 kernel/Kbuild kernel/*.c kernel/*.h $(DESTDIR)$(DKMSSRCDIR)/kernel/
	$(INSTALL) -m 0755 kernel/dkms-post-build.sh $(DESTDIR)$(DKMSSRCDIR)/kernel/
	$(INSTALL) -m 0644 uapi/linux/*.h $(DESTDIR)$(DKMSSRCDIR)/uapi/linux/
	sed -i 's/^PACKAGE_VERSION=.*/PACKAGE_VERSION="$(VERSION)"/' $(DESTDIR)$(DKMSSRCDIR)/dkms.conf

# Sources into /usr/src, then dkms add, build and install for the running
# kernel (and every kernel installed later, through DKMS's hooks).
dkms-install: dkms-src
	@[ -z "$(DESTDIR)" ] || { echo "dkms-install: DESTDIR is for dkms-src only"; exit 1; }
	dkms add lring/$(VERSION)
	dkms build lring/$(VERSION)
	dkms install lring/$(VERSION)
