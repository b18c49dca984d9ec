/*
 * fuzz_driver.h - what the replay mains of the fuzz targets written as one
 * file (store_fuzz.c, text_fuzz.c) share when they run without libFuzzer:
 * a seeded xorshift generator, a clock for the time budget, the mutation
 * that inserts a copy of a range, and writing a seed file for libFuzzer.
 * One translation unit each, so the generator's state lives here.
 */
#ifndef ZK_TESTS_FUZZ_DRIVER_H
#define ZK_TESTS_FUZZ_DRIVER_H

#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

static uint64_t fzd_rng_state = 0x9e3779b97f4a7c15ull;

static inline uint64_t fzd_rng(void)
{
    fzd_rng_state ^= fzd_rng_state << 13;
    fzd_rng_state ^= fzd_rng_state >> 7;
    fzd_rng_state ^= fzd_rng_state << 17;
    return fzd_rng_state;
}

static inline double fzd_now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

#define FZD_COPY_MAX 64

/* Inserts at `at` a copy of b[from, from + len), len below FZD_COPY_MAX and
 * cut to what b holds; the new length, or n when cap has no room. */
static inline size_t fzd_insert_copy(uint8_t *b, size_t n, size_t cap, size_t at, size_t from,
                                     size_t len)
{
    uint8_t tmp[FZD_COPY_MAX];
    if (from + len > n)
        len = n - from;
    if (n + len > cap)
        return n;
    memcpy(tmp, b + from, len);
    memmove(b + at + len, b + at, n - at);
    memcpy(b + at, tmp, len);
    return n + len;
}

/* Writes p[0..n) to DIR/seed-I; 0, or 1 after perror. */
static inline int fzd_write_seed(const char *dir, size_t i, const void *p, size_t n)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/seed-%zu", dir, i);
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(p, 1, n, f) != n) {
        perror(path);
        if (f)
            fclose(f);
        return 1;
    }
    fclose(f);
    return 0;
}

#endif
