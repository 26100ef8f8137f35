// SPDX-License-Identifier: GPL-2.0
/*
 * lring_trace.c - instantiates the tracepoints declared in lring_trace.h;
 * lring_ring.c fires them.
 */
#define CREATE_TRACE_POINTS
#include "lring_trace.h"
