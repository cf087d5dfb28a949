/* Stalwart C API — part of stalwart.h (include "stalwart.h", not this file directly). */
#ifndef STALWART_TRANSFER_H
#define STALWART_TRANSFER_H

#include "stalwart.h"

#ifdef __cplusplus
extern "C" {
#endif

#ifdef __cplusplus
}
#endif

#endif /* STALWART_TRANSFER_H */
