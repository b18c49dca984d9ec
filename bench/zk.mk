# bench/zk.mk - builds bench/zk's tools, apart from the CMake build and from
# bench/Makefile: `make -f bench/zk.mk` (bench/zk runs it).
# zkload needs libzookeeper-mt-dev (zookeeper/zookeeper.h, -lzookeeper_mt).
CC      ?= cc
CFLAGS  ?= -O2 -g
CFLAGS  += -std=gnu11 -Wall -Wextra -Werror -DTHREADED -pthread
ZKMK    := $(dir $(lastword $(MAKEFILE_LIST)))
OUT     ?= $(ZKMK)../build/bench-tools

all: $(OUT)/zkload $(OUT)/zknull

$(OUT)/zkload: $(ZKMK)zkload.c $(ZKMK)bcommon.h $(ZKMK)zk.mk | $(OUT)
	$(CC) $(CFLAGS) -o $@ $< $(LDFLAGS) -lzookeeper_mt

$(OUT)/zknull: $(ZKMK)zknull.c $(ZKMK)zk.mk | $(OUT)
	$(CC) $(CFLAGS) -o $@ $< $(LDFLAGS)

$(OUT):
	mkdir -p $@

clean:
	rm -f $(OUT)/zkload $(OUT)/zknull

.PHONY: all clean
