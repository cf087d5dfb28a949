/*
 * stalwart.h — the C interface of libStalwart.
 *
 * Stalwart runs ONNX image classifiers on the CPU and measures how they hold up under
 * distribution shift. This header is the whole contract: every exported symbol is declared
 * here, and the Swift implementation is checked against it by the compiler.
 *
 * Conventions
 *  - Fallible functions return a stalwart_status. STALWART_OK (0) means success; any other
 *    value is an error whose human-readable message is available from stalwart_last_error()
 *    on the same thread.
 *  - On failure, out-parameters are left untouched and nothing is leaked.
 *  - No function ever aborts the process on bad input: NULL pointers, wrong sizes, corrupt
 *    files and unsupported models are all reported as statuses.
 *  - Strings are UTF-8 and NUL-terminated. Sizes are in bytes (size_t); tensor dimensions are
 *    int64_t, with -1 for a dimension that is not known until run time.
 *  - ABI evolution is append-only: new functions, new status codes and new enum values may be
 *    added; existing ones never change meaning. Check stalwart_api_version() at run time.
 */
#ifndef STALWART_H
#define STALWART_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/** The API version this header describes. Compare with stalwart_api_version(). */
#define STALWART_API_VERSION 1

/** The largest tensor rank that crosses the C boundary. */
#define STALWART_MAX_RANK 8

/* ---------------------------------------------------------------------------------------- */
/* Status codes (stable values; new codes are only appended).                               */
/* ---------------------------------------------------------------------------------------- */

/** Result of every fallible call. */
typedef int32_t stalwart_status;

#define STALWART_OK 0
/** A pointer was NULL, an index out of range, a size or option invalid. */
#define STALWART_ERROR_INVALID_ARGUMENT 1
/** A file could not be opened, mapped or read. */
#define STALWART_ERROR_IO 2
/** The model bytes are not a valid ONNX model (truncated, corrupt, inconsistent graph). */
#define STALWART_ERROR_INVALID_MODEL 3
/** The model is valid ONNX but uses an operator, attribute, opset or type Stalwart lacks. */
#define STALWART_ERROR_UNSUPPORTED 4
/** Input tensors do not match the model (count, name, dtype or shape). */
#define STALWART_ERROR_SHAPE_MISMATCH 5
/** An allocation failed or a size computation overflowed. */
#define STALWART_ERROR_OUT_OF_MEMORY 6
/** A caller-provided buffer is smaller than the data that must be written into it. */
#define STALWART_ERROR_BUFFER_TOO_SMALL 7
/** A failure inside Stalwart that is not the caller's fault (please report it). */
#define STALWART_ERROR_INTERNAL 8

/* ---------------------------------------------------------------------------------------- */
/* Element types (values are ONNX TensorProto.DataType numbers).                            */
/* ---------------------------------------------------------------------------------------- */

/** Element type of a tensor. */
typedef int32_t stalwart_dtype;

#define STALWART_DTYPE_FLOAT32 1
#define STALWART_DTYPE_UINT8 2
#define STALWART_DTYPE_INT8 3
#define STALWART_DTYPE_INT32 6
#define STALWART_DTYPE_INT64 7
#define STALWART_DTYPE_BOOL 9
#define STALWART_DTYPE_FLOAT64 11

/* ---------------------------------------------------------------------------------------- */
/* Library information and errors.                                                          */
/* ---------------------------------------------------------------------------------------- */

/** The ABI version of the loaded library (STALWART_API_VERSION of the header it was built
 *  with). A host built against a newer header than the library must refuse to use it. */
uint32_t stalwart_api_version(void);

/** The library's version string, e.g. "0.1.0". Static storage; never free it. */
const char *stalwart_version(void);

/** The message of the most recent failed call on the calling thread, or "" if none failed.
 *  The string is owned by the library and thread-local. Successful calls neither clear nor
 *  invalidate it; it stays valid until the next failing call on the same thread (or until
 *  the thread exits). */
const char *stalwart_last_error(void);

/** A short static description of a status code ("ok", "invalid argument", ...). Never NULL;
 *  unknown codes give "unknown status". */
const char *stalwart_status_string(stalwart_status status);

/* ---------------------------------------------------------------------------------------- */
/* Model options.                                                                           */
/* ---------------------------------------------------------------------------------------- */

/** Options for loading a model. Not thread-safe: configure it on one thread, then it may be
 *  passed to any number of loads (which only read it). */
typedef struct stalwart_options stalwart_options;

/** Creates options with defaults (threads = all cores). On success *out receives a new
 *  object owned by the caller, to be released with stalwart_options_free(). */
stalwart_status stalwart_options_create(stalwart_options **out);

/** Releases options. NULL is accepted and ignored. */
void stalwart_options_free(stalwart_options *options);

/** Sets how many threads a model runs on: 0 means one per core, 1 means run on the calling
 *  thread only. Values below 0 or above 1024 give STALWART_ERROR_INVALID_ARGUMENT. */
stalwart_status stalwart_options_set_threads(stalwart_options *options, int32_t threads);

/* ---------------------------------------------------------------------------------------- */
/* Models.                                                                                  */
/* ---------------------------------------------------------------------------------------- */

/** A loaded, validated and prepared ONNX model.
 *  Thread-safety: a model is immutable after loading. stalwart_model_run() and every query
 *  may be called from many threads at once on the same model; each call uses its own
 *  scratch memory. Only stalwart_model_free() must not race with other calls. */
typedef struct stalwart_model stalwart_model;

/** Loads an ONNX model from a file path (UTF-8): default-domain opsets 7–21, float32
 *  compute. External-data tensors are read from files next to the model (never outside its
 *  directory). The file is validated, optimized and its weights packed during the call. `options` may be NULL for defaults and is not retained.
 *  On success *out receives a new model owned by the caller (free with
 *  stalwart_model_free()). */
stalwart_status stalwart_model_load(const char *path, const stalwart_options *options,
                                    stalwart_model **out);

/** Loads an ONNX model from `size` bytes at `data`. The bytes are only read during the call;
 *  the caller may free them afterwards. Models with external data cannot be loaded this way
 *  (STALWART_ERROR_UNSUPPORTED). `options` may be NULL. */
stalwart_status stalwart_model_load_from_memory(const void *data, size_t size,
                                                const stalwart_options *options,
                                                stalwart_model **out);

/** Releases a model and everything it owns (names returned by the queries below become
 *  invalid). NULL is accepted and ignored. */
void stalwart_model_free(stalwart_model *model);

/** Number of graph inputs that must be fed at run time (initializers are not counted). */
stalwart_status stalwart_model_input_count(const stalwart_model *model, size_t *out_count);

/** Number of graph outputs. */
stalwart_status stalwart_model_output_count(const stalwart_model *model, size_t *out_count);

/** Name of input `index`. *out_name points into the model and lives as long as it does. */
stalwart_status stalwart_model_input_name(const stalwart_model *model, size_t index,
                                          const char **out_name);

/** Name of output `index`. *out_name points into the model and lives as long as it does. */
stalwart_status stalwart_model_output_name(const stalwart_model *model, size_t index,
                                           const char **out_name);

/** Declared element type and shape of input `index`. Dimensions that are symbolic or unknown
 *  are reported as -1. Query-then-fill: *out_rank always receives the rank on success; `dims`
 *  (may be NULL when `dims_capacity` is 0) receives min(rank, dims_capacity) dimensions.
 *  `out_dtype` may be NULL. */
stalwart_status stalwart_model_input_info(const stalwart_model *model, size_t index,
                                          stalwart_dtype *out_dtype, int64_t *dims,
                                          size_t dims_capacity, size_t *out_rank);

/** Declared element type and shape of output `index`; same contract as
 *  stalwart_model_input_info(). */
stalwart_status stalwart_model_output_info(const stalwart_model *model, size_t index,
                                           stalwart_dtype *out_dtype, int64_t *dims,
                                           size_t dims_capacity, size_t *out_rank);

/* ---------------------------------------------------------------------------------------- */
/* Running.                                                                                 */
/* ---------------------------------------------------------------------------------------- */

/** Describes one tensor crossing the boundary. Set struct_size = sizeof(stalwart_tensor)
 *  so that future versions can append fields.
 *  Inputs: `data` points to at least `capacity_bytes` bytes (which must cover the shape, else
 *  STALWART_ERROR_INVALID_ARGUMENT) of densely packed row-major elements of `dtype`, aligned
 *  to the element size; the memory is only read during the call. Every dimension must be
 *  ≥ 1 (zero-sized or negative dimensions give STALWART_ERROR_SHAPE_MISMATCH).
 *  Outputs: `data` points to a caller-owned buffer of `capacity_bytes` bytes, aligned to the
 *  element size; on success the library writes the elements there and sets `dtype`, `rank`
 *  and `shape`. On failure output entries and buffers are left untouched. */
typedef struct stalwart_tensor {
    uint32_t struct_size;
    stalwart_dtype dtype;
    /** Name of the graph input/output this entry binds to, or NULL to bind by position. */
    const char *name;
    void *data;
    size_t capacity_bytes;
    size_t rank;
    int64_t shape[STALWART_MAX_RANK];
} stalwart_tensor;

/** Computes the element types and shapes the outputs would have for the given inputs,
 *  without running the model. `inputs` holds exactly the model's inputs (by name or
 *  position); `outputs` has `output_count` entries (by name or position; each entry's data
 *  and capacity are ignored) whose dtype, rank and shape are filled on success. */
stalwart_status stalwart_model_output_shapes(const stalwart_model *model,
                                             const stalwart_tensor *inputs, size_t input_count,
                                             stalwart_tensor *outputs, size_t output_count);

/** Runs the model. `inputs` must bind every model input exactly once (count, dtype and every
 *  fixed dimension are checked; symbolic dimensions such as the batch take the given size).
 *  `outputs` may request any subset of the model outputs, each at most once (by name, or by
 *  position when name is NULL; binding one twice is STALWART_ERROR_INVALID_ARGUMENT); each
 *  buffer must hold the output (see stalwart_model_output_shapes()), else
 *  STALWART_ERROR_BUFFER_TOO_SMALL is returned before any work is done.
 *  Small integer inputs (int64/int32 with at most 64 elements) may define shapes (e.g. the
 *  target of an Expand); their values are then part of the plan, and
 *  stalwart_model_output_shapes() needs their `data` too.
 *  Thread-safe: may be called concurrently on the same model. The work is spread over the
 *  model's thread count; concurrent calls share those threads. */
stalwart_status stalwart_model_run(const stalwart_model *model, const stalwart_tensor *inputs,
                                   size_t input_count, stalwart_tensor *outputs,
                                   size_t output_count);

#ifdef __cplusplus
}
#endif

#endif /* STALWART_H */
