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

/** The API version this header describes. Compare with stalwart_api_version().
 *  1: models. 2: images, preprocessing pipelines, model metadata. 3: corruptions, metrics.
 *  4: evaluation and reports. 5: embeddings (stalwart_embed.h), SI-Score synthesis
 *  (stalwart_siscore.h), few-shot transfer and correlations (stalwart_transfer.h). */
#define STALWART_API_VERSION 5

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
/** Image bytes are corrupt, truncated, not PNG/JPEG, or above the pixel limit (API 2). */
#define STALWART_ERROR_DECODE 9

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


/* ---------------------------------------------------------------------------------------- */
/* Model metadata (API version 2).                                                          */
/* ---------------------------------------------------------------------------------------- */

/** Number of `metadata_props` entries of the model file. */
stalwart_status stalwart_model_metadata_count(const stalwart_model *model, size_t *out_count);

/** Key and value of metadata entry `index`. Both strings point into the model and live as
 *  long as it does. Either out-pointer may be NULL. */
stalwart_status stalwart_model_metadata_entry(const stalwart_model *model, size_t index,
                                              const char **out_key, const char **out_value);

/** The value of metadata `key` (the last entry with that key), or *out_value = NULL when the
 *  model has none; owned by the model. */
stalwart_status stalwart_model_metadata_get(const stalwart_model *model, const char *key,
                                            const char **out_value);

/* ---------------------------------------------------------------------------------------- */
/* Images (API version 2).                                                                  */
/* ---------------------------------------------------------------------------------------- */

/** An 8-bit image: height rows of width pixels of `channels` interleaved bytes (1 gray,
 *  3 RGB, 4 RGBA), rows top to bottom, no padding. Immutable once created; may be read from
 *  many threads at once. */
typedef struct stalwart_image stalwart_image;

/** Decode flag: rotate/flip by the EXIF Orientation tag (off by default, like Pillow). */
#define STALWART_DECODE_EXIF_ORIENTATION 1u

/** Image file formats for stalwart_image_encode(). */
#define STALWART_FORMAT_PNG 1
#define STALWART_FORMAT_JPEG 2

/** Resize filters (Pillow's definitions, antialiased when downscaling). */
#define STALWART_FILTER_NEAREST 0
#define STALWART_FILTER_BILINEAR 1
#define STALWART_FILTER_BICUBIC 2
#define STALWART_FILTER_BOX 3
#define STALWART_FILTER_LANCZOS 4
#define STALWART_FILTER_HAMMING 5

/** Decodes PNG or JPEG bytes (read only during the call) into a new image with `channels`
 *  channels (1, 3 or 4; converted like Pillow's convert("L"/"RGB"/"RGBA")). `flags` is 0 or
 *  STALWART_DECODE_EXIF_ORIENTATION. Images above `max_pixels` pixels are refused before
 *  decoding (0 = Pillow's decompression-bomb limit, 89,478,485). Free with
 *  stalwart_image_free(). */
stalwart_status stalwart_image_decode(const void *data, size_t size, int32_t channels,
                                      uint32_t flags, uint64_t max_pixels,
                                      stalwart_image **out);

/** Like stalwart_image_decode() for a file path (UTF-8). */
stalwart_status stalwart_image_load(const char *path, int32_t channels, uint32_t flags,
                                    uint64_t max_pixels, stalwart_image **out);

/** Creates an image from `pixels` (width·height·channels bytes, copied; NULL for black). */
stalwart_status stalwart_image_create(int32_t width, int32_t height, int32_t channels,
                                      const uint8_t *pixels, stalwart_image **out);

/** Releases an image. NULL is accepted and ignored. */
void stalwart_image_free(stalwart_image *image);

/** Width, height and channels of an image (0 for NULL). */
int32_t stalwart_image_width(const stalwart_image *image);
int32_t stalwart_image_height(const stalwart_image *image);
int32_t stalwart_image_channels(const stalwart_image *image);

/** The pixels (width·height·channels bytes), owned by the image and valid until it is freed;
 *  NULL for NULL. */
const uint8_t *stalwart_image_pixels(const stalwart_image *image);

/** Resizes into a new image with Pillow's algorithm for `filter` (STALWART_FILTER_*). */
stalwart_status stalwart_image_resize(const stalwart_image *image, int32_t width, int32_t height,
                                      int32_t filter, stalwart_image **out);

/** Resizes a float image (height·width·channels interleaved floats at `src`, channels ≥ 1)
 *  into `dst` (dst_height·dst_width·channels floats, caller-owned, `dst_capacity` floats).
 *  With `antialias` the filter support widens on downscale exactly as Pillow's mode "F"
 *  does; without it taps are sampled at half-pixel centres with the unscaled kernel (TF
 *  `tf.image.resize`, torchvision antialias=False). Buffers must not overlap. */
stalwart_status stalwart_resize_f32(const float *src, int32_t width, int32_t height,
                                    int32_t channels, float *dst, size_t dst_capacity,
                                    int32_t dst_width, int32_t dst_height, int32_t filter,
                                    bool antialias);

/** Encodes as PNG or JPEG (`quality` 1–100 for JPEG, ignored for PNG) into a buffer the
 *  library allocates: *out_data (free with stalwart_free()) of *out_size bytes. */
stalwart_status stalwart_image_encode(const stalwart_image *image, int32_t format,
                                      int32_t quality, uint8_t **out_data, size_t *out_size);

/** Writes a PNG or JPEG file, chosen by the extension (.png, .jpg, .jpeg). */
stalwart_status stalwart_image_save(const stalwart_image *image, const char *path,
                                    int32_t quality);

/** Frees memory the library allocated for the caller (stalwart_image_encode()). NULL is
 *  accepted and ignored. */
void stalwart_free(void *pointer);

/* ---------------------------------------------------------------------------------------- */
/* Preprocessing pipelines (API version 2).                                                 */
/* ---------------------------------------------------------------------------------------- */

/** An image → float tensor preprocessing (resize, crop, normalize, layout), from a preset.
 *  Configure it on one thread (the setters are not thread-safe); after that
 *  stalwart_pipeline_apply() may run from many threads at once. */
typedef struct stalwart_pipeline stalwart_pipeline;

/** Tensor layouts. */
#define STALWART_LAYOUT_NCHW 0
#define STALWART_LAYOUT_NHWC 1

/** Creates the pipeline of `preset` ("torchvision", "timm", "inception", "bit",
 *  "efficientnet-lite") at test resolution `resolution` (16–4096). */
stalwart_status stalwart_pipeline_create(const char *preset, int32_t resolution,
                                         stalwart_pipeline **out);

/** Creates the pipeline a model's metadata describes (`stalwart.preprocess`,
 *  `stalwart.resolution`, ...); `resolution` 0 keeps the model's, else overrides it.
 *  STALWART_ERROR_INVALID_ARGUMENT when the model carries no preprocessing. */
stalwart_status stalwart_pipeline_create_for_model(const stalwart_model *model,
                                                   int32_t resolution,
                                                   stalwart_pipeline **out);

/** Releases a pipeline. NULL is accepted and ignored. */
void stalwart_pipeline_free(stalwart_pipeline *pipeline);

/** Sets the output layout (STALWART_LAYOUT_*; default NCHW). */
stalwart_status stalwart_pipeline_set_layout(stalwart_pipeline *pipeline, int32_t layout);

/** Replaces the normalization: y = (x·scale − mean[c]) / std[c] for pixel values x in
 *  0–255; `channels` is 3 (RGB output) or 1 (gray output). */
stalwart_status stalwart_pipeline_set_normalization(stalwart_pipeline *pipeline, float scale,
                                                    const float *mean, const float *std,
                                                    size_t channels);

/** Replaces the resize filter (STALWART_FILTER_*). */
stalwart_status stalwart_pipeline_set_filter(stalwart_pipeline *pipeline, int32_t filter);

/** The output of one image of `width`×`height` pixels: writes 3 dimensions to `shape`, a
 *  caller array of 3 ([C, H, W] for NCHW, [H, W, C] for NHWC). */
stalwart_status stalwart_pipeline_output_shape(const stalwart_pipeline *pipeline, int32_t width,
                                               int32_t height, int64_t *shape);

/** Preprocesses `image` into `out`, a caller buffer of `capacity` floats (one batch item:
 *  write item i at out + i·C·H·W to assemble a batch). STALWART_ERROR_BUFFER_TOO_SMALL when
 *  it cannot hold the output. */
stalwart_status stalwart_pipeline_apply(const stalwart_pipeline *pipeline,
                                        const stalwart_image *image, float *out,
                                        size_t capacity);

/* ---------------------------------------------------------------------------------------- */
/* ImageNet-C corruptions (API version 2).                                                  */
/* ---------------------------------------------------------------------------------------- */

/** Corruption modes: `imagecorruptions` 1.1.2 semantics at any size (default), or Hendrycks'
 *  `make_imagenet_c.py` 224×224 semantics where they differ. */
#define STALWART_CORRUPTION_MODE_IMAGECORRUPTIONS 0
#define STALWART_CORRUPTION_MODE_HENDRYCKS 1

/** Number of corruptions (19). */
size_t stalwart_corruption_count(void);

/** Name of corruption `index` ("gaussian_noise", ...; the 15 benchmark corruptions first, then
 *  the 4 validation ones), static storage; NULL when out of range. */
const char *stalwart_corruption_name(size_t index);

/** Corrupts an 8-bit image (`channels` 3 = RGB, or 1 = gray, stacked to RGB) of at least
 *  32×32 into `dst`, a caller buffer of `dst_capacity` bytes receiving width·height·3 RGB bytes.
 *  The output is a pure function of (pixels, name, severity 1–5, seed, key, mode); `key`
 *  identifies the image in a dataset. Thread-safe. `src` and `dst` must not overlap. */
stalwart_status stalwart_corrupt(const uint8_t *src, int32_t width, int32_t height,
                                 int32_t channels, const char *name, int32_t severity,
                                 uint64_t seed, uint64_t key, int32_t mode, uint8_t *dst,
                                 size_t dst_capacity);

/** Like stalwart_corrupt(), but the random numbers are `draws[0..draw_count)`, consumed in the
 *  order NumPy produced them when `imagecorruptions` ran (normal, uniform, poisson and randint
 *  results flattened in call order): reproduces the reference's output exactly for testing.
 *  STALWART_ERROR_INVALID_ARGUMENT when the draws do not line up. */
stalwart_status stalwart_corrupt_replay(const uint8_t *src, int32_t width, int32_t height,
                                        int32_t channels, const char *name, int32_t severity,
                                        int32_t mode, const double *draws, size_t draw_count,
                                        uint8_t *dst, size_t dst_capacity);

/* ---------------------------------------------------------------------------------------- */
/* Robustness metrics (API 3).                                                              */
/* ---------------------------------------------------------------------------------------- */

/** A streaming metric accumulator (opaque). Not thread-safe: use one per thread and merge them
 *  with stalwart_metric_merge(); separate accumulators may be used from different threads. */
typedef struct stalwart_metric stalwart_metric;

/** What a score matrix holds: logits (probabilities are their softmax, computed in float64) or
 *  probabilities (rows in [0, 1] summing to 1 within 1e-3). */
#define STALWART_SCORES_LOGITS 0
#define STALWART_SCORES_PROBABILITIES 1

/** Creates an empty accumulator from a spec "name[:key=value,...]": "accuracy:k=5", "nll",
 *  "brier", "agreement", "ece:bins=15", "rms_calibration", "gce:binning=adaptive,norm=l2",
 *  "aurra", "ood" (see the README for every name, option and result). Unknown names or
 *  options are STALWART_ERROR_INVALID_ARGUMENT. Free with stalwart_metric_free(). */
stalwart_status stalwart_metric_create(const char *spec, stalwart_metric **out_metric);

/** Adds `rows` examples: `scores` (rows·classes floats, row-major, caller-owned, read during
 *  the call only) of `kind` (STALWART_SCORES_*) and `labels` (rows values in 0..classes-1).
 *  Non-finite scores, bad probability rows or labels out of range are
 *  STALWART_ERROR_INVALID_ARGUMENT naming the first bad row; nothing is added then. */
stalwart_status stalwart_metric_add(stalwart_metric *metric, const float *scores, int64_t rows,
                                    int64_t classes, const int64_t *labels, int32_t kind);

/** Adds one batch to `count` accumulators, computing the per-row quantities (softmax, argmax,
 *  ranks) once: faster than one stalwart_metric_add() per accumulator. The batch is validated
 *  before any accumulator changes; an accumulator-specific refusal (e.g. "ood" labels other
 *  than 0/1) stops at that accumulator, the ones before it having added the batch. */
stalwart_status stalwart_metric_add_all(stalwart_metric *const *metrics, size_t count,
                                        const float *scores, int64_t rows, int64_t classes,
                                        const int64_t *labels, int32_t kind);

/** Adds the examples of `other` (same name and options, else STALWART_ERROR_INVALID_ARGUMENT)
 *  to `into`; `other` is unchanged. */
stalwart_status stalwart_metric_merge(stalwart_metric *into, const stalwart_metric *other);

/** The accumulator's state as versioned bytes in a buffer the library allocates: *out_data
 *  (free with stalwart_free()) of *out_size bytes. Stable across machines and library
 *  versions reading the same format version. */
stalwart_status stalwart_metric_serialize(const stalwart_metric *metric, uint8_t **out_data,
                                          size_t *out_size);

/** Rebuilds an accumulator from stalwart_metric_serialize() bytes (caller-owned, read during
 *  the call). Truncated or corrupt bytes are STALWART_ERROR_INVALID_ARGUMENT. */
stalwart_status stalwart_metric_deserialize(const uint8_t *data, size_t size,
                                            stalwart_metric **out_metric);

/** The results (NaN where undefined, e.g. no examples). Query-then-fill: *out_count always
 *  receives the number of results on success; `values` (may be NULL when `capacity` is 0)
 *  receives min(count, capacity) values, named by stalwart_metric_result_name(). */
stalwart_status stalwart_metric_result(const stalwart_metric *metric, double *values,
                                       size_t capacity, size_t *out_count);

/** Name of result `index` ("top1", "ece", ...), owned by the metric and valid until it is
 *  freed; NULL when out of range or `metric` is NULL. */
const char *stalwart_metric_result_name(const stalwart_metric *metric, size_t index);

/** Frees an accumulator; NULL is accepted and ignored. */
void stalwart_metric_free(stalwart_metric *metric);

/** Fits the temperature T > 0 minimising the mean negative log-likelihood of softmax(z / T) on
 *  held-out logits (rows·classes floats) and labels; writes it to *out_temperature. */
stalwart_status stalwart_temperature_fit(const float *logits, int64_t rows, int64_t classes,
                                         const int64_t *labels, double *out_temperature);

/** mCE and relative mCE (Hendrycks & Dietterich 2019). `names[i]` is an ImageNet-C corruption
 *  and accuracies[5·i .. 5·i+4] the model's top-1 accuracies at its severities 1–5.
 *  `baseline_errors` (NULL: AlexNet's) gives, per name, the baseline's error averaged over
 *  severities, `baseline_clean_error` its clean error (ignored when baseline_errors is NULL).
 *  `clean_accuracy` is the model's clean top-1 (NaN: relative values are NaN). Outputs: *out_mce,
 *  *out_relative_mce, and per corruption `out_ce` / `out_relative_ce` (`count` doubles each;
 *  either may be NULL). */
stalwart_status stalwart_mce(const char *const *names, const double *accuracies, size_t count,
                             double clean_accuracy, const double *baseline_errors,
                             double baseline_clean_error, double *out_mce,
                             double *out_relative_mce, double *out_ce, double *out_relative_ce);

/** pm-k of the video robustness sets: anchor i counts only if anchor_correct[i] and every
 *  reviewed neighbour j with neighbor_anchor[j] == i and |neighbor_offset[j]| ≤ k is correct;
 *  pm-0 is anchor accuracy. Arrays of `anchors` and `neighbors` entries (nonzero = correct). */
stalwart_status stalwart_pm_k(const uint8_t *anchor_correct, size_t anchors,
                              const int64_t *neighbor_anchor, const int64_t *neighbor_offset,
                              const uint8_t *neighbor_correct, size_t neighbors, int64_t k,
                              double *out_pm_k);

/** Accuracy per distinct value of a factor (SI-Score: area, angle, location cell) and the mean
 *  over values. Query-then-fill: *out_groups receives the number of distinct values;
 *  `out_values`, `out_accuracy`, `out_counts` (each may be NULL when `capacity` is 0) receive
 *  min(groups, capacity) entries in ascending value order; *out_mean the mean accuracy. */
stalwart_status stalwart_factor_accuracy(const double *factor, const uint8_t *correct, size_t n,
                                         double *out_values, double *out_accuracy,
                                         int64_t *out_counts, size_t capacity, size_t *out_groups,
                                         double *out_mean);

/** Effective robustness (Taori et al. 2020): fits logit(shifted) = slope·logit(clean) +
 *  intercept over `references` models (accuracies in (0, 1)), then *out_value = shifted −
 *  sigmoid(slope·logit(clean) + intercept). `out_slope` / `out_intercept` may be NULL. */
stalwart_status stalwart_effective_robustness(const double *reference_clean,
                                              const double *reference_shifted, size_t references,
                                              double clean, double shifted, double *out_value,
                                              double *out_slope, double *out_intercept);

/* Label spaces of the robustness datasets (API 3): "imagenet", "imagenet_a", "imagenet_r",
 * "objectnet", "imagenet_vid_robust", "ytbb_robust", "si_score", "model_vs_human_16"; each
 * class is a set of ImageNet-1k indices (sources in data/labelspaces/README.md). */

/** Number of label spaces. */
size_t stalwart_labelspace_count(void);

/** Name of label space `index` (static storage); NULL when out of range. */
const char *stalwart_labelspace_name(size_t index);

/** Number of classes of label space `space`. */
stalwart_status stalwart_labelspace_classes(const char *space, size_t *out_classes);

/** Name of class `index` of `space` (static storage, valid for the process) in *out_name. */
stalwart_status stalwart_labelspace_class_name(const char *space, size_t index, const char **out_name);

/** ImageNet-1k indices of class `index` of `space`. Query-then-fill: *out_count receives the
 *  member count; `ids` (may be NULL when `capacity` is 0) receives min(count, capacity) ids. */
stalwart_status stalwart_labelspace_members(const char *space, size_t index, int64_t *ids,
                                            size_t capacity, size_t *out_count);

/** How member scores merge into a class score (STALWART_MERGE_DEFAULT: max for logits; for
 *  probabilities the space's own rule: renormalised slice for the 200-class and SI-Score
 *  subsets, mean for model_vs_human_16, max otherwise). */
#define STALWART_MERGE_DEFAULT 0
#define STALWART_MERGE_MAX 1
#define STALWART_MERGE_MEAN 2
#define STALWART_MERGE_SUM 3

/** Projects rows·1000 ImageNet scores of `kind` (STALWART_SCORES_*) to rows·classes scores of
 *  `space` in `out` (caller-owned, `out_capacity` floats). Logits: per class the `merge` of its
 *  members' logits, `unmapped_value` (e.g. -INFINITY, or 0 as imagenet-testbed) for classes
 *  without members. Probabilities: see STALWART_MERGE_DEFAULT. */
stalwart_status stalwart_labelspace_project(const char *space, const float *scores, int64_t rows,
                                            int64_t columns, int32_t kind, int32_t merge,
                                            float unmapped_value, float *out, size_t out_capacity);

/** The restricted prediction of each row of rows·1000 scores: the class owning the argmax over
 *  the union of the space's ImageNet ids (ObjectNet's protocol), in out_classes[0..rows). */
stalwart_status stalwart_labelspace_predict(const char *space, const float *scores, int64_t rows,
                                            int64_t columns, int64_t *out_classes,
                                            size_t out_capacity);

/* ---------------------------------------------------------------------------------------- */
/* Evaluation runs (the engine of `stalwart eval`; API version 4).                           */
/* ---------------------------------------------------------------------------------------- */

/** Options of an evaluation, set as text key/value pairs. Not thread-safe: configure it on
 *  one thread; stalwart_evaluate only reads it. */
typedef struct stalwart_eval_options stalwart_eval_options;

/** Creates options with defaults (layout detected, clean images only, the model's own
 *  resolution and preprocessing, batch 16, all cores). On success *out receives a new object
 *  owned by the caller, released with stalwart_eval_options_free(). */
stalwart_status stalwart_eval_options_create(stalwart_eval_options **out);

/** Releases options; NULL is ignored. */
void stalwart_eval_options_free(stalwart_eval_options *options);

/** Sets option `key` to `value` (both UTF-8, read during the call). Keys: "layout" (folder,
 *  imagenet-val, imagenet-c, imagenet-v2, imagenet-a, imagenet-r, objectnet,
 *  imagenet-vid-robust, ytbb-robust, si-score, unlabeled), "corruptions" (names or subsets,
 *  comma-separated: on-the-fly ImageNet-C), "severities" ("1-5", "1,3,5"), "clean" ("0"/"1"),
 *  "resolutions" ("160,224,288"), "preset", "crop_pct", "interpolation", "seed", "mode"
 *  ("imagecorruptions"/"hendrycks"), "batch", "threads", "workers", "limit", "shard" ("I/N"),
 *  "class_map", "labels_file", "label_space". Unknown keys or bad values →
 *  STALWART_ERROR_INVALID_ARGUMENT and the options are unchanged. */
stalwart_status stalwart_eval_options_set(stalwart_eval_options *options, const char *key,
                                          const char *value);

/** Progress of stalwart_evaluate, called on its calling thread after every committed batch:
 *  run index (0-based) of `runs` (one per resolution), images done and total of that run,
 *  images per second. Return 0 to continue; non-zero stops the evaluation after that batch
 *  (what was committed stays; calling stalwart_evaluate again resumes). */
typedef int32_t (*stalwart_eval_progress)(void *user_data, int32_t run, int32_t runs, int64_t done,
                                          int64_t total, double images_per_second);

/** Evaluates the ONNX classifier at `model_path` on the dataset folder `data_dir` (its
 *  shifts and resolutions per `options`, NULL = defaults) and stores per-image rows, metric
 *  states and aggregates in the SQLite database `database` (created if missing). Runs already
 *  in the database are resumed: finished items are not evaluated again. Blocks until done;
 *  uses worker threads internally. Unreadable images are skipped and recorded, not errors.
 *  `progress` may be NULL. Counts of images evaluated now, resumed from the database and
 *  skipped go to the non-NULL out-params (written only on success). Safe to call from several
 *  threads on different databases. */
stalwart_status stalwart_evaluate(const char *model_path, const char *data_dir, const char *database,
                                  const stalwart_eval_options *options, stalwart_eval_progress progress,
                                  void *user_data, int64_t *out_evaluated, int64_t *out_resumed,
                                  int64_t *out_skipped);

/** Writes the report of a results database: a self-contained HTML file with SVG plots at
 *  `html_path`, and when non-NULL robustness_metrics-style JSON at `json_path` and a
 *  timm-style CSV at `csv_path` (each written atomically). `title` may be NULL. */
stalwart_status stalwart_report_write(const char *database, const char *html_path, const char *json_path,
                                      const char *csv_path, const char *title);

#ifdef __cplusplus
}
#endif

/* The rest of the API, by concern (each part includes this header; include stalwart.h only). */
#include "stalwart_embed.h"
#include "stalwart_siscore.h"
#include "stalwart_transfer.h"

#endif /* STALWART_H */
