/*
 * dns_fuzz_replay.c - runs the DNS fuzz target without libFuzzer: every file
 * of the corpus directory given as argv[1], then a bounded number of
 * pseudo-random mutations of them (bit flips, byte stores, truncation,
 * duplication of a range, interesting values in the header), so the target
 * runs as an ordinary ctest under the sanitizers in a few seconds.
 * argv[2] (optional): the number of mutations, default 50000.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
void dns_fuzz_teardown(void);

#define FZ_MAX_INPUT 4096
#define FZ_MAX_FILES 256

typedef struct input {
    uint8_t *data;
    size_t len;
} input;

static uint64_t rng = 0x9e3779b97f4a7c15ull;

static uint64_t next(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

static int load(const char *dir, input *in, size_t *n)
{
    DIR *d = opendir(dir);
    if (d == NULL) {
        perror(dir);
        return -1;
    }
    struct dirent *e;
    while ((e = readdir(d)) != NULL && *n < FZ_MAX_FILES) {
        char path[4096];
        if (e->d_name[0] == '.')
            continue;
        snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
        FILE *f = fopen(path, "rb");
        if (f == NULL)
            continue;
        uint8_t *buf = malloc(FZ_MAX_INPUT);
        size_t len = buf ? fread(buf, 1, FZ_MAX_INPUT, f) : 0;
        fclose(f);
        if (buf != NULL)
            in[(*n)++] = (input){buf, len};
    }
    closedir(d);
    return 0;
}

/* One random edit of buf (len bytes, capacity FZ_MAX_INPUT); returns the new length. */
static size_t mutate(uint8_t *buf, size_t len)
{
    size_t pos = len ? next() % len : 0;
    switch (next() % 6) {
    case 0: /* flip a bit */
        if (len)
            buf[pos] ^= (uint8_t)(1u << (next() % 8));
        return len;
    case 1: /* store a byte */
        if (len)
            buf[pos] = (uint8_t)next();
        return len;
    case 2: /* truncate */
        return pos;
    case 3: { /* duplicate a range at the end */
        size_t n = len ? next() % (len - pos + 1) : 0;
        if (len + n > FZ_MAX_INPUT)
            return len;
        memmove(buf + len, buf + pos, n);
        return len + n;
    }
    case 4: { /* interesting values: counts, pointers, lengths */
        static const uint8_t vals[] = {0, 1, 2, 0x3f, 0x40, 0x7f, 0x80, 0xc0, 0xff};
        if (len)
            buf[pos] = vals[next() % sizeof(vals)];
        return len;
    }
    default: /* a compression pointer somewhere */
        if (len >= 2 && pos + 1 < len) {
            buf[pos] = (uint8_t)(0xc0 | (next() % 2));
            buf[pos + 1] = (uint8_t)next();
        }
        return len;
    }
}

int main(int argc, char **argv)
{
    static input in[FZ_MAX_FILES];
    size_t n = 0;
    long rounds = argc > 2 ? atol(argv[2]) : 50000;
    if (argc < 2 || load(argv[1], in, &n) < 0 || n == 0) {
        fprintf(stderr, "usage: %s CORPUS_DIR [MUTATIONS] (with at least one file)\n", argv[0]);
        return 2;
    }
    for (size_t i = 0; i < n; i++)
        LLVMFuzzerTestOneInput(in[i].data, in[i].len);
    static uint8_t buf[FZ_MAX_INPUT];
    for (long r = 0; r < rounds; r++) {
        const input *src = &in[next() % n];
        size_t len = src->len;
        memcpy(buf, src->data, len);
        for (int k = 1 + (int)(next() % 4); k > 0; k--)
            len = mutate(buf, len);
        LLVMFuzzerTestOneInput(buf, len);
    }
    for (size_t i = 0; i < n; i++)
        free(in[i].data);
    dns_fuzz_teardown();
    printf("dns fuzz replay: %zu corpus files, %ld mutations, ok\n", n, rounds);
    return 0;
}
