/* Stalwart C API — part of stalwart.h (include "stalwart.h", not this file directly). */
#ifndef STALWART_SISCORE_H
#define STALWART_SISCORE_H

#include "stalwart.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---------------------------------------------------------------------------------------- */
/* SI-Score synthesis (google-research/si-score dataset_generator.py, Pillow 13 algorithms).  */
/* ---------------------------------------------------------------------------------------- */

/** Side in pixels of the square composite stalwart_siscore_composite() writes for a
 *  `bg_width`×`bg_height` background: `resolution` when > 0, else min(bg_width, bg_height).
 *  Writes *out_side only on success. Thread-safe. */
stalwart_status stalwart_siscore_composite_side(int32_t bg_width, int32_t bg_height, int32_t resolution,
                                                int64_t *out_side);

/** Composites one SI-Score image into `dst`, a caller buffer of `dst_capacity` bytes that
 *  receives side·side·3 RGB bytes (side from stalwart_siscore_composite_side()).
 *  - `fg`: fg_width·fg_height·fg_channels bytes, HWC; 4 = RGBA (alpha is the paste mask),
 *    3 = RGB and 1 = gray are treated as opaque. Read only during the call.
 *  - `bg`: bg_width·bg_height·bg_channels bytes (1, 3 or 4; converted to RGB, alpha dropped),
 *    cropped to its largest top-left square and resized (bilinear) to `resolution` when > 0
 *    (0 keeps the square's size). Read only during the call.
 *  - `area` in (0, 1]: the object's bounding box covers area × the background's area
 *    (bilinear resize on premultiplied alpha); `angle` in degrees counter-clockwise (bicubic,
 *    expanded canvas); centre at (int(x·side), int(y·side)) with x, y in [0, 1]; pasted with
 *    its alpha mask.
 *  - *out_pct_inside (may be NULL) receives the fraction of the rotated bounding box inside
 *    the canvas (unrounded).
 *  STALWART_ERROR_BUFFER_TOO_SMALL when dst cannot hold the image; STALWART_ERROR_INVALID_ARGUMENT
 *  for bad sizes, area ≤ 0 or > 1, centres outside [0, 1], non-finite angles, or an object
 *  resized below one pixel. Outputs untouched on failure. Thread-safe; fg, bg and dst must not
 *  overlap. */
stalwart_status stalwart_siscore_composite(const uint8_t *fg, int32_t fg_width, int32_t fg_height,
                                           int32_t fg_channels, const uint8_t *bg, int32_t bg_width,
                                           int32_t bg_height, int32_t bg_channels, double area,
                                           double x, double y, double angle, int32_t resolution,
                                           uint8_t *dst, size_t dst_capacity,
                                           double *out_pct_inside);

/** SI-Score sweeps (centres × areas × angles × object/background pairs) are given as a
 *  preset plus `count` text overrides `keys[i]` = `values[i]` (UTF-8, read only during the
 *  call; keys/values may be NULL when count is 0).
 *  - Presets: "size" (areas 0.01…1.00, centred, 512 px), "rotation" (angles 1, 21, …, 341 ×
 *    areas 0.2/0.5/0.8/1.0, 512 px), "location" (21×21 centres, area 0.2, 500 px,
 *    min_pct_inside 0); all with 2 backgrounds per object, seed 0.
 *  - Keys: "areas" ("0.1,0.3"), "angles" (degrees, "0,45"), "centres" ("0.5:0.5,0.25:0.75"),
 *    "grid" (n: an n×n grid of centres over [0, 1]²), "resolution" (background side,
 *    8…8192), "backgrounds" (per object), "min_pct_inside" ([0, 1]), "seed" (the background
 *    draws: SplitMix64 + Fisher–Yates, see the README).
 *  Unknown presets/keys or bad values fail with STALWART_ERROR_INVALID_ARGUMENT.
 *  Objects come from `foregrounds_dir` (<class>/<object>.png, RGBA; class = an SI-Score class
 *  name, a WordNet id or an ImageNet index), backgrounds from `backgrounds_dir` (images). */

/** Generates a sweep into `out_dir` (created if missing) in the released layout:
 *  <class>/<image_id>.jpg (JPEG quality 75, 4:2:0), metadata.csv (image_id, x_coord, y_coord,
 *  area, rotation, foreground_class, foreground_instance, background, bg_resolution_width,
 *  bg_resolution_height, pct_inside_image), backgrounds.csv,
 *  foreground_classes_metadata_indices.csv and foreground_classes.csv. `limit` > 0 writes only
 *  the first `limit` images (id order); 0 writes all. `threads` 0 = one per core.
 *  *out_written / *out_skipped (may be NULL) receive the images written and the combinations
 *  left out by min_pct_inside. Blocks until done; thread-safe (separate output folders). */
stalwart_status stalwart_siscore_generate(const char *preset, const char *const *keys,
                                          const char *const *values, size_t count,
                                          const char *foregrounds_dir, const char *backgrounds_dir,
                                          const char *out_dir, int64_t limit, int32_t threads,
                                          int64_t *out_written, int64_t *out_skipped);

/** Writes the `metadata.csv` text (UTF-8, no NUL) a sweep would produce — no image is
 *  rendered — into `buf`, a caller buffer of `capacity` bytes; *out_size (required) receives
 *  the text's length. Query with buf = NULL / capacity 0 first: STALWART_ERROR_BUFFER_TOO_SMALL
 *  with *out_size set when the buffer is too small. `limit` as in stalwart_siscore_generate(). */
stalwart_status stalwart_siscore_metadata(const char *preset, const char *const *keys,
                                          const char *const *values, size_t count,
                                          const char *foregrounds_dir, const char *backgrounds_dir,
                                          int64_t limit, uint8_t *buf, size_t capacity,
                                          size_t *out_size);

#ifdef __cplusplus
}
#endif

#endif /* STALWART_SISCORE_H */
