# bench/zk.mk - builds bench/zk's load generator, apart from the CMake build
# and from bench/Makefile: `make -f bench/zk.mk` (bench/zk runs it).
# Needs libzookeeper-mt-dev (zookeeper/zookeeper.h, -lzookeeper_mt).
CC      ?= cc
CFLAGS  ?= -O2 -g
CFLAGS  += -std=gnu11 -Wall -Wextra -Werror -DTHREADED -pthread
ZKMK    := $(dir $(lastword $(MAKEFILE_LIST)))
OUT     ?= $(ZKMK)../build/bench-tools

all: $(OUT)/zkload

$(OUT)/zkload: $(ZKMK)zkload.c $(ZKMK)zk.mk | $(OUT)
	$(CC) $(CFLAGS) -o $@ $< $(LDFLAGS) -lzookeeper_mt

$(OUT):
	mkdir -p $@

clean:
	rm -f $(OUT)/zkload

.PHONY: all clean
