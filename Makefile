# segd - zero-trust microsegmentation enforcer.
#
#   make            build the BPF object, its skeleton, segd and segctl
#   make test       install missing packages, build, run every test
#   make demo       install missing packages, build, run the netns hospital demo
#   make bench      timings (root): policy updates, data path, drop event path;
#                   bench/results/<date>/report.md and report.json
#   make install    PREFIX=/usr/local DESTDIR=
#   make clean
#
# V=1 shows the commands. OUTPUT= moves the build tree (default ./build).

OUTPUT ?= build
PREFIX ?= /usr/local
DESTDIR ?=
CC ?= cc
CLANG ?= clang
BPFTOOL ?= bpftool
ARCH_INC ?= /usr/include/$(shell $(CC) -dumpmachine 2>/dev/null || echo x86_64-linux-gnu)

ifeq ($(V),1)
Q =
msg =
else
Q = @
msg = @printf '  %-8s %s\n' "$(1)" "$(patsubst $(CURDIR)/%,%,$(2))";
endif

WARN := -Wall -Wextra -Werror
CFLAGS ?= -O2 -g
CFLAGS += $(WARN) -std=gnu11 -D_GNU_SOURCE -MMD -MP -I$(OUTPUT) -Iinclude -Iuserspace
PKGS := libbpf jansson libcrypto libnftnl libmnl
PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS = $(shell pkg-config --libs $(PKGS) 2>/dev/null || echo -lbpf -ljansson -lcrypto -lnftnl -lmnl)
LDLIBS += $(PKG_LIBS) -lelf -lz
CMOCKA_LIBS = $(shell pkg-config --libs cmocka 2>/dev/null || echo -lcmocka)

BPF_CFLAGS := -O2 -g -target bpf $(WARN) -I$(ARCH_INC) -Iinclude -Ibpf

BPF_SRC := bpf/segd.bpf.c
BPF_OBJ := $(OUTPUT)/segd.bpf.o
SKEL := $(OUTPUT)/segd.skel.h

# Every userspace module except the two mains forms libsegd.a.
MAINS := userspace/segd.c userspace/segctl.c
LIB_SRC := $(filter-out $(MAINS),$(wildcard userspace/*.c))
LIB_OBJ := $(patsubst userspace/%.c,$(OUTPUT)/obj/%.o,$(LIB_SRC))
LIB := $(OUTPUT)/libsegd.a

UNIT_SRC := $(wildcard tests/unit/test_*.c)
UNIT_BIN := $(patsubst tests/unit/%.c,$(OUTPUT)/tests/%,$(UNIT_SRC))
DP_SRC := $(wildcard tests/datapath/*.c)
DP_BIN := $(if $(DP_SRC),$(OUTPUT)/tests/test_datapath)
TOOLS_SRC := $(wildcard tests/tools/*.c)
TOOLS_BIN := $(patsubst tests/tools/%.c,$(OUTPUT)/tests/%,$(TOOLS_SRC))

.DELETE_ON_ERROR:
.PHONY: all test unit demo install clean deps skel tests-build bench

all: $(OUTPUT)/segd $(OUTPUT)/segctl

skel: $(SKEL)

$(OUTPUT) $(OUTPUT)/obj $(OUTPUT)/tests:
	$(Q)mkdir -p $@

$(BPF_OBJ): $(BPF_SRC) $(wildcard bpf/*.h) include/segd_abi.h | $(OUTPUT)
	$(call msg,BPF,$@)
	$(Q)$(CLANG) $(BPF_CFLAGS) -c $< -o $@

$(SKEL): $(BPF_OBJ)
	$(call msg,GEN-SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< name segd_bpf > $@

$(OUTPUT)/obj/%.o: userspace/%.c $(SKEL) | $(OUTPUT)/obj
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) $(PKG_CFLAGS) -c $< -o $@

$(LIB): $(LIB_OBJ)
	$(call msg,AR,$@)
	$(Q)$(AR) rcs $@ $^

$(OUTPUT)/segd: $(OUTPUT)/obj/segd.o $(LIB)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(CFLAGS) $^ $(LDLIBS) -o $@

$(OUTPUT)/segctl: $(OUTPUT)/obj/segctl.o $(LIB)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(CFLAGS) $^ $(LDLIBS) -o $@

$(OUTPUT)/tests/test_%: tests/unit/test_%.c $(LIB) | $(OUTPUT)/tests
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) $(PKG_CFLAGS) -DSEGD_SRCDIR='"$(CURDIR)"' $< $(LIB) $(LDLIBS) $(CMOCKA_LIBS) -o $@

$(OUTPUT)/tests/test_datapath: $(DP_SRC) $(LIB) $(SKEL) | $(OUTPUT)/tests
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) $(PKG_CFLAGS) -DSEGD_SRCDIR='"$(CURDIR)"' $(DP_SRC) $(LIB) $(LDLIBS) $(CMOCKA_LIBS) -o $@

$(OUTPUT)/tests/%: tests/tools/%.c $(LIB) | $(OUTPUT)/tests
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) $(PKG_CFLAGS) $< $(LIB) $(LDLIBS) -o $@

tests-build: all $(UNIT_BIN) $(DP_BIN) $(TOOLS_BIN)

deps:
	$(Q)bash scripts/deps.sh

# `make test` is what .ci/run calls: dependencies, build, every suite.
test: deps
	$(Q)$(MAKE) --no-print-directory tests-build
	$(Q)bash tests/run.sh $(OUTPUT)

# Informational timings (root): policy updates (tests/tools/bench_policy),
# the data path and its event path (test_datapath --bench), one report in
# bench/results/<date>/ (scripts/bench.sh).
bench:
	$(Q)$(MAKE) --no-print-directory tests-build
	$(Q)bash scripts/bench.sh $(OUTPUT)

# Unit tests alone (no root, no kernel).
unit: $(UNIT_BIN)
	$(Q)bash tests/run.sh $(OUTPUT) unit

demo: deps
	$(Q)$(MAKE) --no-print-directory all
	$(Q)bash scripts/demo.sh $(OUTPUT)

install: all
	install -d $(DESTDIR)$(PREFIX)/sbin $(DESTDIR)$(PREFIX)/share/segd/segments
	install -m 0755 $(OUTPUT)/segd $(OUTPUT)/segctl $(DESTDIR)$(PREFIX)/sbin/
	install -m 0644 segments/*.json $(DESTDIR)$(PREFIX)/share/segd/segments/

clean:
	$(call msg,CLEAN,$(OUTPUT))
	$(Q)rm -rf $(OUTPUT)

-include $(wildcard $(OUTPUT)/obj/*.d $(OUTPUT)/tests/*.d)
