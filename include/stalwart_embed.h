/* Stalwart C API — part of stalwart.h (include "stalwart.h", not this file directly). */
#ifndef STALWART_EMBED_H
#define STALWART_EMBED_H

#include "stalwart.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---------------------------------------------------------------------------------------- */
/* Embeddings: features of an intermediate tensor (API version 5).                          */
/* ---------------------------------------------------------------------------------------- */

/* A "layer" is any tensor a node of the prepared model computes (graph outputs included), or
 * a graph input. Load-time fusion (Conv + BatchNormalization + activation, Conv + residual
 * Add) removes the tensors inside each fused chain: asking for one of them fails with
 * STALWART_ERROR_INVALID_ARGUMENT and a message naming the tensor that now carries the
 * chain's result. The pre-logits are the input of the model's last Gemm or MatMul (for
 * EfficientNet-Lite the Flatten output after global average pooling).
 *
 * Strings are returned query-then-fill: with `buffer` NULL and `capacity` 0, *out_length
 * receives the name's length in bytes (without the terminating NUL); with a buffer of at
 * least length + 1 bytes, the NUL-terminated UTF-8 name is copied there as well. A smaller
 * non-zero capacity gives STALWART_ERROR_BUFFER_TOO_SMALL and writes nothing. `out_length`
 * may be NULL when `buffer` is large enough.
 *
 * Thread-safety: every function here only reads the model and may be called from many
 * threads at once, concurrently with stalwart_model_run(). */

/** Number of layers of the prepared model (stalwart_model_layer_name() enumerates them in
 *  execution order). */
stalwart_status stalwart_model_layer_count(const stalwart_model *model, size_t *out_count);

/** Name of layer `index` (0 ≤ index < stalwart_model_layer_count()), query-then-fill. */
stalwart_status stalwart_model_layer_name(const stalwart_model *model, size_t index, char *buffer,
                                          size_t capacity, size_t *out_length);

/** Name of the pre-logits tensor, query-then-fill. STALWART_ERROR_UNSUPPORTED when the model
 *  has no Gemm/MatMul (or its last one reads only constants or its input transposed). */
stalwart_status stalwart_model_prelogits_name(const stalwart_model *model, char *buffer,
                                              size_t capacity, size_t *out_length);

/** Keeps the tensor `name` (UTF-8, copied) computable in models loaded with these options, so
 *  stalwart_model_embed() can read it: graph preparation otherwise folds some intermediates
 *  away (a BatchNormalization output folded into its Conv, a Conv output whose activation runs
 *  in the Conv's epilogue), and asking for one of those fails with a message naming what
 *  replaced it. Keeping a tensor costs only the fusions around it. May be called several times
 *  (a set of names); names that are not in the model are ignored at load. Not thread-safe
 *  (options are configured on one thread). STALWART_ERROR_INVALID_ARGUMENT for NULL or "". */
stalwart_status stalwart_options_keep_tensor(stalwart_options *options, const char *name);

/** Feature shape for the given inputs without running the model. `layer` is a layer name
 *  (UTF-8) or NULL / "" for the pre-logits. `inputs` binds every model input as for
 *  stalwart_model_run() (data may be NULL except for small integer inputs that define
 *  shapes). On success `output` (struct_size set by the caller; data and capacity ignored)
 *  receives dtype FLOAT32, rank 2 and shape [N, D]: N is the batch (the first dimension of
 *  the first input), D the product of the layer's other dimensions.
 *  STALWART_ERROR_INVALID_ARGUMENT for an unknown or fused-away layer (the message lists
 *  valid names); STALWART_ERROR_SHAPE_MISMATCH when the layer is not float32 or its first
 *  dimension is not the batch. */
stalwart_status stalwart_model_embed_shape(const stalwart_model *model, const char *layer,
                                           const stalwart_tensor *inputs, size_t input_count,
                                           stalwart_tensor *output);

/** Runs the model on one batch up to `layer` (NULL / "" = pre-logits; only the nodes the
 *  layer depends on run) and writes its features as float32 [N, D], row-major (the layer
 *  flattened after its first dimension, as ONNX Flatten(axis = 1)), into `output->data`, a
 *  caller-owned buffer of `output->capacity_bytes` bytes aligned to 4 bytes, which must hold
 *  N·D·4 bytes (else STALWART_ERROR_BUFFER_TOO_SMALL before any work); on success dtype,
 *  rank (2) and shape are set. Inputs are validated as for stalwart_model_run() and only read
 *  during the call; `output` and its buffer are untouched on failure.
 *  Threading as stalwart_model_run(): the work is spread over the model's threads, and the
 *  call is reentrant — it may run concurrently on the same model from many threads. */
stalwart_status stalwart_model_embed(const stalwart_model *model, const char *layer,
                                     const stalwart_tensor *inputs, size_t input_count,
                                     stalwart_tensor *output);

#ifdef __cplusplus
}
#endif

#endif /* STALWART_EMBED_H */
