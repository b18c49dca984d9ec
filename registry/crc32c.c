/*
 * crc32c.c - CRC-32C, slice-by-8 with an optional SSE4.2 path.
 *
 * The reflected polynomial 0x82F63B78. The eight 256-entry tables are built
 * once (pthread_once) together with the choice of implementation: the
 * SSE4.2 crc32 instruction on x86-64 CPUs that report it, the tables
 * everywhere else. Unaligned loads go through memcpy so the code stays
 * clean under UBSan on any architecture.
 */
#include "crc32c.h"

#include <pthread.h>
#include <string.h>

#define CRC32C_POLY 0x82F63B78u

static uint32_t crc_table[8][256];
static pthread_once_t crc_once = PTHREAD_ONCE_INIT;
static bool crc_use_hw;
static bool crc_force_sw;

static void crc_build_tables(void)
{
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;
        for (int k = 0; k < 8; k++)
            c = (c & 1) ? (c >> 1) ^ CRC32C_POLY : c >> 1;
        crc_table[0][i] = c;
    }
    for (int t = 1; t < 8; t++)
        for (int i = 0; i < 256; i++)
            crc_table[t][i] = (crc_table[t - 1][i] >> 8) ^
                              crc_table[0][crc_table[t - 1][i] & 0xff];
}

static uint64_t crc_load64le(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = (v << 8) | p[i];
    return v;
}

/* Inverted-register update with the tables; crc is already complemented. */
static uint32_t crc_sw(uint32_t crc, const uint8_t *p, size_t n)
{
    while (n >= 8) {
        uint64_t v = crc_load64le(p) ^ crc;
        crc = crc_table[7][v & 0xff] ^ crc_table[6][(v >> 8) & 0xff] ^
              crc_table[5][(v >> 16) & 0xff] ^ crc_table[4][(v >> 24) & 0xff] ^
              crc_table[3][(v >> 32) & 0xff] ^ crc_table[2][(v >> 40) & 0xff] ^
              crc_table[1][(v >> 48) & 0xff] ^ crc_table[0][v >> 56];
        p += 8;
        n -= 8;
    }
    while (n--)
        crc = (crc >> 8) ^ crc_table[0][(crc ^ *p++) & 0xff];
    return crc;
}

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define CRC_HAVE_HW 1
#include <nmmintrin.h>

__attribute__((target("sse4.2")))
static uint32_t crc_hw(uint32_t crc, const uint8_t *p, size_t n)
{
    uint64_t c = crc;
    while (n >= 8) {
        uint64_t v;
        memcpy(&v, p, 8);
        c = _mm_crc32_u64(c, v);
        p += 8;
        n -= 8;
    }
    uint32_t c32 = (uint32_t)c;
    while (n--)
        c32 = _mm_crc32_u8(c32, *p++);
    return c32;
}

static bool crc_cpu_has_sse42(void)
{
    __builtin_cpu_init();
    return __builtin_cpu_supports("sse4.2");
}
#else
#define CRC_HAVE_HW 0
#endif

static void crc_init(void)
{
    crc_build_tables();
#if CRC_HAVE_HW
    crc_use_hw = crc_cpu_has_sse42();
#endif
}

uint32_t crc32c_update(uint32_t crc, const void *p, size_t n)
{
    pthread_once(&crc_once, crc_init);
    uint32_t c = ~crc;
#if CRC_HAVE_HW
    if (crc_use_hw && !crc_force_sw)
        return ~crc_hw(c, p, n);
#endif
    return ~crc_sw(c, p, n);
}

bool crc32c_hw(void)
{
    pthread_once(&crc_once, crc_init);
    return crc_use_hw && !crc_force_sw;
}

void crc32c_force_portable(bool on)
{
    crc_force_sw = on;
}
