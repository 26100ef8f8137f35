// SPDX-License-Identifier: MIT
/*
 * liblring-ffi: the inline part of <lring.h> compiled out of line.
 *
 * liblring's fast path (lring_peek, lring_release, lring_return, the
 * barriers, the accessors...) is static inline in the header, which C and
 * C++ inline but other languages cannot call. With LRING_INLINE defined
 * empty, the header's own definitions become external ones here: one
 * function per inline function, under its own name, with the same code
 * and the same barriers as an application's compiler would inline, so a
 * binding calls the protocol instead of reimplementing it.
 * liblring-ffi.so.1 is this file plus every object of liblring.so.1; its
 * symbols, each named in liblring/liblring-ffi.map, carry the version
 * LIBLRING_FFI_1. liblring.so.1 itself is unchanged.
 */
#define LRING_INLINE
#include <lring.h>
