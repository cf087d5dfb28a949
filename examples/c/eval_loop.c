/*
 * eval_loop.c — a corruption-robustness evaluation loop over libStalwart's C API: what
 * `stalwart eval` does for on-the-fly ImageNet-C, spelled out with the public functions.
 *
 * Usage:
 *   eval_loop [--corruptions a,b,c] [--severities 1,3,5|1-5] [--seed N] [--batch N]
 *             [--root DIR] MODEL.onnx LABELS.txt IMAGE...
 *
 *   MODEL.onnx     a classifier with one float32 input [N, 3, H, W] whose metadata names its
 *                  preprocessing (models/efficientnet_lite0.onnx does; see `stalwart annotate`)
 *                  and a first output of logits [N, classes].
 *   LABELS.txt     lines "FILENAME LABEL" (class index), matched by each image's base name;
 *                  blank lines and lines starting with '#' are ignored.
 *   IMAGE...       PNG or JPEG files of at least 32x32 pixels.
 *   --corruptions  ImageNet-C corruption names, comma-separated (default gaussian_noise,
 *                  defocus_blur,fog,jpeg_compression; "" evaluates clean images only).
 *   --severities   a list and/or ranges of severities 1-5 (default 1-5).
 *   --seed N       corruption seed (default 0).       --batch N   images per run (default 8).
 *   --root DIR     dataset root. Each image's corruption key is the FNV-1a 64-bit hash of its
 *                  path relative to DIR (without DIR's trailing '/'; a plain text prefix, no
 *                  normalisation), or of the path exactly as given without --root. That is the
 *                  key `stalwart corrupt` and `stalwart eval` use for a file of their dataset
 *                  folder, so with --root set to that folder the corrupted pixels equal theirs.
 *
 * Each image is decoded once (stalwart_image_load) and evaluated clean and under every
 * (corruption, severity): stalwart_corrupt, stalwart_pipeline_apply into a batch buffer,
 * stalwart_model_run per batch, and the logits go to one set of accumulators ("accuracy:k=5",
 * "nll", "ece") per group via stalwart_metric_add_all. Prints the table corruption, severity
 * (0 = clean), images, top1, top5, nll, ece. Exits 1 with Stalwart's message on any error, 2 on
 * bad usage. Needs API version 3 or later.
 *
 * Example (the bundled model and photos; labels from examples/data/labels.json):
 *   printf 'chelsea.png 281\ncoffee.png 967\nrocket.png 657\n' > /tmp/labels.txt
 *   cd examples/data && eval_loop --corruptions fog,contrast --severities 1,5
 *       ../../models/efficientnet_lite0.onnx /tmp/labels.txt chelsea.png coffee.png rocket.png
 *
 * Build (see Makefile):  make eval_loop
 */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "stalwart.h"

#define N_METRICS 3
static const char *const METRIC_SPECS[N_METRICS] = {"accuracy:k=5", "nll", "ece"};
static const char *const COLUMNS[] = {"top1", "top5", "nll", "ece"};
#define N_COLUMNS 4

/* One row of the table: a corruption (NULL = clean) at a severity, with its accumulators. */
typedef struct {
    const char *corruption;
    int severity;
    int64_t images;
    stalwart_metric *metrics[N_METRICS];
} group;

/* Prints a failed call, its subject (may be NULL), its status and the library's message. */
static int report(const char *what, const char *subject, stalwart_status status) {
    fprintf(stderr, "eval_loop: %s%s%s%s failed: %s (status %d): %s\n", what,
            subject ? "(" : "", subject ? subject : "", subject ? ")" : "",
            stalwart_status_string(status), (int)status, stalwart_last_error());
    return 1;
}

#define CHECK(what, subject, call)                                                      \
    do {                                                                               \
        stalwart_status st_ = (call);                                                  \
        if (st_ != STALWART_OK) { report(what, subject, st_); goto done; }             \
    } while (0)

static void *xcalloc(size_t n, size_t size) {
    void *p = calloc(n ? n : 1, size ? size : 1);
    if (p == NULL) fprintf(stderr, "eval_loop: out of memory\n");
    return p;
}

/* The image key of `stalwart corrupt` / `stalwart eval`: FNV-1a 64 of the relative path. */
static uint64_t fnv1a64(const char *s) {
    uint64_t h = UINT64_C(0xcbf29ce484222325);
    for (; *s != '\0'; s++) h = (h ^ (unsigned char)*s) * UINT64_C(0x100000001b3);
    return h;
}

/* `path` relative to `root` (NULL: the path itself); NULL when it is not under root. */
static const char *relative_to(const char *path, const char *root) {
    size_t n;
    if (root == NULL) return path;
    n = strlen(root);
    while (n > 1 && root[n - 1] == '/') n--;
    if (strncmp(path, root, n) != 0 || (path[n] != '/' && root[n - 1] != '/')) return NULL;
    while (path[n] == '/') n++;
    return path[n] != '\0' ? path + n : NULL;
}

/* Parses a non-negative decimal integer in [lo, hi]; returns 0 on success. */
static int parse_int(const char *s, long lo, long hi, long *out) {
    char *end;
    long v;
    errno = 0;
    v = strtol(s, &end, 10);
    if (end == s || *end != '\0' || errno != 0 || v < lo || v > hi) return 1;
    *out = v;
    return 0;
}

/* "1,3-5" -> on[1..5]; returns 0 when every token is a severity or a range of them. */
static int parse_severities(const char *text, int on[6]) {
    char buf[64], *tok;
    long a, b;
    memset(on, 0, 6 * sizeof on[0]);
    if (strlen(text) >= sizeof buf) return 1;
    strcpy(buf, text);
    for (tok = strtok(buf, ","); tok != NULL; tok = strtok(NULL, ",")) {
        char *dash = strchr(tok, '-');
        if (dash != NULL) *dash = '\0';
        if (parse_int(tok, 1, 5, &a) || parse_int(dash ? dash + 1 : tok, a, 5, &b)) return 1;
        for (; a <= b; a++) on[a] = 1;
    }
    return 0;
}

/* One "FILENAME LABEL" line of LABELS.txt; `name` points into the file's text. */
typedef struct {
    const char *name;
    int64_t label;
} label_entry;

static int compare_entries(const void *a, const void *b) {
    return strcmp(((const label_entry *)a)->name, ((const label_entry *)b)->name);
}

/* Reads LABELS.txt into *text (kept: the entries point into it) and a table sorted by name
 * for bsearch. Returns 0, or prints why not and returns 1. */
static int load_labels(const char *path, char **text, label_entry **out, size_t *count) {
    FILE *f = fopen(path, "rb");
    long size = -1, lineno = 0, label;
    size_t n = 0, cap = 1;
    char *line, *next;
    if (f == NULL || fseek(f, 0, SEEK_END) != 0 || (size = ftell(f)) < 0 ||
        fseek(f, 0, SEEK_SET) != 0 || (*text = calloc((size_t)size + 1, 1)) == NULL ||
        fread(*text, 1, (size_t)size, f) != (size_t)size) {
        fprintf(stderr, "eval_loop: cannot read %s: %s\n", path, strerror(errno));
        if (f != NULL) fclose(f);
        return 1;
    }
    fclose(f);
    for (line = *text; *line; line++) cap += *line == '\n';
    if ((*out = xcalloc(cap, sizeof **out)) == NULL) return 1;
    for (line = *text; line != NULL; line = next) {
        size_t len;
        char *sep, *space, *tab;
        if ((next = strchr(line, '\n')) != NULL) *next++ = '\0';
        lineno++;
        len = strlen(line);
        while (len > 0 && strchr(" \t\r", line[len - 1]) != NULL) line[--len] = '\0';
        if (len == 0 || line[0] == '#') continue;
        space = strrchr(line, ' ');
        tab = strrchr(line, '\t');
        sep = space > tab ? space : tab;
        if (sep == NULL || sep == line || parse_int(sep + 1, 0, INT32_MAX, &label)) {
            fprintf(stderr, "eval_loop: %s:%ld: expected 'FILENAME LABEL', got '%s'\n", path,
                    lineno, line);
            return 1;
        }
        while (sep > line && (sep[-1] == ' ' || sep[-1] == '\t')) sep--;
        *sep = '\0';
        (*out)[n].name = line;
        (*out)[n++].label = label;
    }
    qsort(*out, n, sizeof **out, compare_entries);
    *count = n;
    return 0;
}

/* Writes one preprocessed batch item: `image` clean (corruption NULL) or corrupted. */
static int prepare_item(const stalwart_pipeline *pipeline, const stalwart_image *image,
                        const char *path, const group *g, uint64_t seed, uint64_t key,
                        float *out, size_t capacity) {
    int32_t w = stalwart_image_width(image), h = stalwart_image_height(image);
    size_t size = (size_t)w * (size_t)h * 3;
    uint8_t *pixels = NULL;
    stalwart_image *corrupted = NULL;
    int rc = 1;
    if (g->corruption == NULL) {
        CHECK("stalwart_pipeline_apply", path, stalwart_pipeline_apply(pipeline, image, out, capacity));
        return 0;
    }
    if ((pixels = xcalloc(size, 1)) == NULL) goto done;
    CHECK("stalwart_corrupt", path,
          stalwart_corrupt(stalwart_image_pixels(image), w, h, stalwart_image_channels(image),
                           g->corruption, g->severity, seed, key,
                           STALWART_CORRUPTION_MODE_IMAGECORRUPTIONS, pixels, size));
    CHECK("stalwart_image_create", path, stalwart_image_create(w, h, 3, pixels, &corrupted));
    CHECK("stalwart_pipeline_apply", path, stalwart_pipeline_apply(pipeline, corrupted, out, capacity));
    rc = 0;
done:
    stalwart_image_free(corrupted);
    free(pixels);
    return rc;
}

/* Fills row[] with the COLUMNS results of a group's accumulators (NaN where absent). */
static int group_results(const group *g, double row[N_COLUMNS]) {
    double values[16];
    size_t m, i, c, count;
    for (c = 0; c < N_COLUMNS; c++) row[c] = NAN;
    for (m = 0; m < N_METRICS; m++) {
        CHECK("stalwart_metric_result", METRIC_SPECS[m],
              stalwart_metric_result(g->metrics[m], values, 16, &count));
        for (i = 0; i < count && i < 16; i++)
            for (c = 0; c < N_COLUMNS; c++)
                if (strcmp(stalwart_metric_result_name(g->metrics[m], i), COLUMNS[c]) == 0)
                    row[c] = values[i];
    }
    return 0;
done:
    return 1;
}

static int usage(const char *argv0) {
    fprintf(stderr, "usage: %s [--corruptions a,b,c] [--severities 1-5] [--seed N] [--batch N] "
            "[--root DIR] MODEL.onnx LABELS.txt IMAGE...\n", argv0);
    return 2;
}

int main(int argc, char **argv) {
    const char *corruptions = "gaussian_noise,defocus_blur,fog,jpeg_compression";
    const char *severities = "1-5", *root = NULL, *model_path, *labels_path;
    const char *const *images;
    long seed = 0, batch = 8, v;
    int sev_on[6], a, i, n_images, rc = 1;
    char *names = NULL, *label_text = NULL, *tok;
    label_entry *table = NULL;
    int64_t *labels = NULL, dims[STALWART_MAX_RANK];
    uint64_t *keys = NULL;
    stalwart_model *model = NULL;
    stalwart_pipeline *pipeline = NULL;
    stalwart_image **loaded = NULL;
    stalwart_dtype dtype = 0;
    stalwart_tensor in_t, out_t;
    group *groups = NULL;
    size_t n_groups = 1, n_entries = 0, g, k, rank = 0, item, classes;
    float *input = NULL, *logits = NULL;

    /* Options, then MODEL LABELS IMAGE... */
    for (a = 1; a < argc && strncmp(argv[a], "--", 2) == 0; a += 2) {
        const char *opt = argv[a], *val = a + 1 < argc ? argv[a + 1] : NULL;
        if (val == NULL) return usage(argv[0]);
        if (strcmp(opt, "--corruptions") == 0) corruptions = val;
        else if (strcmp(opt, "--severities") == 0) severities = val;
        else if (strcmp(opt, "--root") == 0) root = val;
        else if (strcmp(opt, "--seed") == 0 && !parse_int(val, 0, LONG_MAX, &v)) seed = v;
        else if (strcmp(opt, "--batch") == 0 && !parse_int(val, 1, 4096, &v)) batch = v;
        else return usage(argv[0]);
    }
    if (argc - a < 3 || parse_severities(severities, sev_on)) return usage(argv[0]);
    model_path = argv[a];
    labels_path = argv[a + 1];
    images = (const char *const *)(argv + a + 2);
    n_images = argc - a - 2;
    if (stalwart_api_version() < 3) {
        fprintf(stderr, "eval_loop: libStalwart implements API %u, this program needs 3\n",
                (unsigned)stalwart_api_version());
        return 1;
    }

    /* Groups: clean, then every corruption x selected severity, each with its accumulators. */
    if ((names = xcalloc(strlen(corruptions) + 1, 1)) == NULL) goto done;
    strcpy(names, corruptions);
    for (tok = names; *tok; tok++) n_groups += *tok == ',';
    if ((groups = xcalloc(1 + 5 * n_groups, sizeof *groups)) == NULL) goto done;
    n_groups = 1; /* groups[0] is clean: corruption NULL, severity 0 */
    for (tok = strtok(names, ","); tok != NULL; tok = strtok(NULL, ",")) {
        for (k = 0; k < stalwart_corruption_count(); k++)
            if (strcmp(tok, stalwart_corruption_name(k)) == 0) break;
        if (k == stalwart_corruption_count()) {
            fprintf(stderr, "eval_loop: unknown corruption '%s'\n", tok);
            goto done;
        }
        for (i = 1; i <= 5; i++)
            if (sev_on[i]) { groups[n_groups].corruption = tok; groups[n_groups++].severity = i; }
    }
    for (g = 0; g < n_groups; g++)
        for (k = 0; k < N_METRICS; k++)
            CHECK("stalwart_metric_create", METRIC_SPECS[k],
                  stalwart_metric_create(METRIC_SPECS[k], &groups[g].metrics[k]));

    /* Labels (by base name) and corruption keys (by relative path), before the model. */
    if (load_labels(labels_path, &label_text, &table, &n_entries)) goto done;
    labels = xcalloc((size_t)n_images, sizeof *labels);
    keys = xcalloc((size_t)n_images, sizeof *keys);
    if (labels == NULL || keys == NULL) goto done;
    for (i = 0; i < n_images; i++) {
        const char *rel = relative_to(images[i], root);
        label_entry probe, *hit;
        probe.name = strrchr(images[i], '/') ? strrchr(images[i], '/') + 1 : images[i];
        hit = bsearch(&probe, table, n_entries, sizeof *table, compare_entries);
        if (hit == NULL) {
            fprintf(stderr, "eval_loop: %s has no label for %s\n", labels_path, probe.name);
            goto done;
        }
        if (rel == NULL) {
            fprintf(stderr, "eval_loop: %s is not under --root %s\n", images[i], root);
            goto done;
        }
        labels[i] = hit->label;
        keys[i] = fnv1a64(rel);
    }

    /* The model (one float32 input [N, C, H, W], fixed C, H, W) and its preprocessing. */
    CHECK("stalwart_model_load", model_path, stalwart_model_load(model_path, NULL, &model));
    CHECK("stalwart_model_input_count", NULL, stalwart_model_input_count(model, &k));
    CHECK("stalwart_model_input_info", NULL,
          stalwart_model_input_info(model, 0, &dtype, dims, STALWART_MAX_RANK, &rank));
    if (k != 1 || dtype != STALWART_DTYPE_FLOAT32 || rank != 4 || dims[1] <= 0 || dims[2] <= 0 ||
        dims[3] <= 0) {
        fprintf(stderr, "eval_loop: the model must have one float32 input [N, C, H, W]\n");
        goto done;
    }
    if (dims[0] > 0) batch = (long)dims[0]; /* a fixed batch size: short batches are padded */
    CHECK("stalwart_pipeline_create_for_model", model_path,
          stalwart_pipeline_create_for_model(model, 0, &pipeline));

    /* Batch buffers: the output shape for a full batch gives the class count. */
    item = (size_t)(dims[1] * dims[2] * dims[3]);
    memset(&in_t, 0, sizeof in_t);
    in_t.struct_size = (uint32_t)sizeof in_t;
    in_t.dtype = STALWART_DTYPE_FLOAT32;
    in_t.rank = 4;
    memcpy(in_t.shape, dims, 4 * sizeof dims[0]);
    in_t.shape[0] = batch;
    memset(&out_t, 0, sizeof out_t);
    out_t.struct_size = (uint32_t)sizeof out_t;
    CHECK("stalwart_model_output_shapes", model_path,
          stalwart_model_output_shapes(model, &in_t, 1, &out_t, 1));
    if (out_t.dtype != STALWART_DTYPE_FLOAT32 || out_t.rank != 2 || out_t.shape[0] != batch) {
        fprintf(stderr, "eval_loop: the model's first output must be float32 logits [N, classes]\n");
        goto done;
    }
    classes = (size_t)out_t.shape[1];
    for (i = 0; i < n_images; i++)
        if (labels[i] >= (int64_t)classes) {
            fprintf(stderr, "eval_loop: label %lld of %s is not below the %zu classes\n",
                    (long long)labels[i], images[i], classes);
            goto done;
        }
    input = xcalloc((size_t)batch * item, sizeof *input);
    logits = xcalloc((size_t)batch * classes, sizeof *logits);
    loaded = xcalloc((size_t)batch, sizeof *loaded);
    if (input == NULL || logits == NULL || loaded == NULL) goto done;
    in_t.data = input;
    in_t.capacity_bytes = (size_t)batch * item * sizeof *input;
    out_t.data = logits;

    /* The loop: each chunk of images is decoded once, then run through every group. */
    for (i = 0; i < n_images; i += (int)batch) {
        int m = n_images - i < batch ? n_images - i : (int)batch, j;
        for (j = 0; j < m; j++) {
            int64_t shape[3];
            CHECK("stalwart_image_load", images[i + j],
                  stalwart_image_load(images[i + j], 3, 0, 0, &loaded[j]));
            CHECK("stalwart_pipeline_output_shape", images[i + j],
                  stalwart_pipeline_output_shape(pipeline, stalwart_image_width(loaded[j]),
                                                 stalwart_image_height(loaded[j]), shape));
            if (memcmp(shape, dims + 1, sizeof shape) != 0) {
                fprintf(stderr, "eval_loop: %s does not preprocess to the model's input size\n",
                        images[i + j]);
                goto done;
            }
        }
        in_t.shape[0] = dims[0] > 0 ? batch : m; /* a symbolic batch runs just m rows */
        out_t.capacity_bytes = (size_t)in_t.shape[0] * classes * sizeof *logits;
        for (g = 0; g < n_groups; g++) {
            for (j = 0; j < m; j++)
                if (prepare_item(pipeline, loaded[j], images[i + j], &groups[g], (uint64_t)seed,
                                 keys[i + j], input + (size_t)j * item, item))
                    goto done;
            CHECK("stalwart_model_run", model_path, stalwart_model_run(model, &in_t, 1, &out_t, 1));
            CHECK("stalwart_metric_add_all", NULL,
                  stalwart_metric_add_all(groups[g].metrics, N_METRICS, logits, m,
                                          (int64_t)classes, labels + i, STALWART_SCORES_LOGITS));
            groups[g].images += m;
        }
        for (j = 0; j < m; j++) {
            stalwart_image_free(loaded[j]);
            loaded[j] = NULL;
        }
    }

    /* The table. */
    printf("%-18s %8s %7s %9s %9s %9s %9s\n", "corruption", "severity", "images", "top1", "top5",
           "nll", "ece");
    for (g = 0; g < n_groups; g++) {
        double row[N_COLUMNS];
        if (group_results(&groups[g], row)) goto done;
        printf("%-18s %8d %7lld %9.6f %9.6f %9.6f %9.6f\n",
               groups[g].corruption ? groups[g].corruption : "clean", groups[g].severity,
               (long long)groups[g].images, row[0], row[1], row[2], row[3]);
    }
    rc = 0;

done:
    if (loaded != NULL)
        for (i = 0; i < batch; i++) stalwart_image_free(loaded[i]);
    if (groups != NULL)
        for (g = 0; g < n_groups; g++)
            for (k = 0; k < N_METRICS; k++) stalwart_metric_free(groups[g].metrics[k]);
    stalwart_pipeline_free(pipeline);
    stalwart_model_free(model);
    free(loaded);
    free(keys);
    free(labels);
    free(table);
    free(label_text);
    free(input);
    free(logits);
    free(groups);
    free(names);
    return rc;
}
