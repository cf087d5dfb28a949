/* Stalwart C API — part of stalwart.h (include "stalwart.h", not this file directly). */
#ifndef STALWART_SISCORE_H
#define STALWART_SISCORE_H

#include "stalwart.h"

#ifdef __cplusplus
extern "C" {
#endif

#ifdef __cplusplus
}
#endif

#endif /* STALWART_SISCORE_H */
