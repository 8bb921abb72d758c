/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef SLUICE_WIRE_JSON_H
#define SLUICE_WIRE_JSON_H

#include <stdio.h>

#include "wire.h"

#ifdef __cplusplus
extern "C" {
#endif

/*
 * Write a verified frame as one line of JSON, shaped like
 * `flatc --json --strict-json --defaults-json`. Payload bytes are printed
 * as numbers: a debugging aid for operators' own frames, never used on the
 * appliance's data path or in its logs. Returns 0, or -1 on a write error
 * or a frame without a message.
 */
int wire_frame_json(const void *frame, FILE *out);

#ifdef __cplusplus
}
#endif

#endif
