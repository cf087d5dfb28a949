/* Stalwart C API — part of stalwart.h (include "stalwart.h", not this file directly). */
#ifndef STALWART_EMBED_H
#define STALWART_EMBED_H

#include "stalwart.h"

#ifdef __cplusplus
extern "C" {
#endif

#ifdef __cplusplus
}
#endif

#endif /* STALWART_EMBED_H */
