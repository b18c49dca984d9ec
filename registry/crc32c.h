/*
 * crc32c.h - CRC-32C (Castagnoli), the checksum of every log record and
 * snapshot in zonekeeper's storage.
 *
 * Portable slice-by-8 tables, with the SSE4.2 crc32 instruction used when
 * the CPU has it (checked once at run time). Both give identical results;
 * crc32c_force_portable() lets tests compare them. Thread-safe.
 */
#ifndef ZK_REGISTRY_CRC32C_H
#define ZK_REGISTRY_CRC32C_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Extends crc (0 for a fresh checksum) with n bytes at p and returns the new
 * value: crc32c_update(crc32c_update(0, a, na), b, nb) equals the CRC of the
 * concatenation. crc32c_update(0, "123456789", 9) == 0xE3069283. */
uint32_t crc32c_update(uint32_t crc, const void *p, size_t n);

/* The CRC-32C of n bytes at p. */
static inline uint32_t crc32c(const void *p, size_t n)
{
    return crc32c_update(0, p, n);
}

/* True when the hardware instruction is in use. */
bool crc32c_hw(void);

/* Tests only: use the portable tables (on true) even if the CPU has SSE4.2.
 * Not thread-safe against concurrent crc32c_update calls. */
void crc32c_force_portable(bool on);

#endif
