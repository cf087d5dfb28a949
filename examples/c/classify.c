/*
 * classify.c — run an ONNX image classifier with libStalwart and print the top-5 classes.
 *
 * Usage:
 *   classify MODEL.onnx [IMAGE.png|IMAGE.jpg | INPUT.f32 | -] [CLASSES.txt]
 *
 *   MODEL.onnx   a classifier with one float32 input [N, C, H, W] (symbolic dimensions such as
 *                the batch are taken as 1) and a first output of logits [N, classes].
 *   IMAGE        a PNG or JPEG photo: decoded with stalwart_image_load() and preprocessed with
 *                the pipeline the model's metadata names (stalwart_pipeline_create_for_model();
 *                models/efficientnet_lite0.onnx carries one — see `stalwart annotate`).
 *   INPUT.f32    or the input tensor as raw native-endian float32 values in NCHW order, already
 *                preprocessed. Omit it or pass "-" for a deterministic synthetic input.
 *   CLASSES.txt  optional class names, one per line in index order (default: the model's
 *                `stalwart.labels` metadata, if any).
 *
 * Prints, for each batch item, the five most probable classes: rank, class index, softmax
 * probability and (if CLASSES.txt is given) name. Exits 1 with Stalwart's message on error.
 *
 * Build (see Makefile):
 *   cc -std=c99 -Wall -Wextra -pedantic -Werror -I../../include classify.c \
 *      -L../../.build/release -lStalwart -Wl,-rpath,$(realpath ../../.build/release) -lm \
 *      -o classify
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "stalwart.h"

#define TOP_K 5

/* Prints the failed call, its status and the library's thread-local message. */
static int report(const char *what, stalwart_status status) {
    fprintf(stderr, "classify: %s failed: %s (status %d): %s\n", what,
            stalwart_status_string(status), (int)status, stalwart_last_error());
    return 1;
}

/* True when `path` ends in .png, .jpg or .jpeg (case-insensitive). */
static int is_image(const char *path) {
    const char *dot = strrchr(path, '.');
    char ext[8];
    size_t n, i;
    if (dot == NULL) return 0;
    n = strlen(dot + 1);
    if (n == 0 || n >= sizeof ext) return 0;
    for (i = 0; i <= n; i++) ext[i] = (char)((dot[1 + i] >= 'A' && dot[1 + i] <= 'Z') ? dot[1 + i] + 32 : dot[1 + i]);
    return strcmp(ext, "png") == 0 || strcmp(ext, "jpg") == 0 || strcmp(ext, "jpeg") == 0;
}

/* Reads the whole file into a new buffer; returns NULL (and prints why) on failure. */
static char *read_file(const char *path, size_t *out_size) {
    FILE *f = fopen(path, "rb");
    char *data = NULL;
    long size;
    if (f == NULL) {
        perror(path);
        return NULL;
    }
    if (fseek(f, 0, SEEK_END) != 0 || (size = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0) {
        perror(path);
        fclose(f);
        return NULL;
    }
    data = malloc((size_t)size + 1);
    if (data == NULL) {
        fprintf(stderr, "classify: out of memory reading %s\n", path);
        fclose(f);
        return NULL;
    }
    if (fread(data, 1, (size_t)size, f) != (size_t)size) {
        fprintf(stderr, "classify: short read from %s\n", path);
        free(data);
        fclose(f);
        return NULL;
    }
    fclose(f);
    data[size] = '\0';
    *out_size = (size_t)size;
    return data;
}

/* Splits `text` in place into at most `max` lines; returns the number of lines. */
static size_t split_lines(char *text, const char **lines, size_t max) {
    size_t n = 0;
    char *p = text;
    while (*p != '\0' && n < max) {
        char *end = strchr(p, '\n');
        lines[n++] = p;
        if (end == NULL) break;
        if (end > p && end[-1] == '\r') end[-1] = '\0';
        *end = '\0';
        p = end + 1;
    }
    return n;
}

int main(int argc, char **argv) {
    const char *model_path, *input_path = NULL, *classes_path = NULL;
    stalwart_options *options = NULL;
    stalwart_model *model = NULL;
    stalwart_status st;
    stalwart_dtype dtype = 0;
    int64_t dims[STALWART_MAX_RANK];
    size_t rank = 0, count = 0, i, k, b;
    size_t elements = 1, classes, batch;
    float *input = NULL, *output = NULL;
    char *class_text = NULL;
    const char **class_names = NULL;
    size_t n_names = 0;
    const char *input_name = NULL, *output_name = NULL;
    stalwart_tensor in_t, out_t;
    int rc = 1;

    if (argc < 2 || argc > 4) {
        fprintf(stderr, "usage: %s MODEL.onnx [INPUT.f32 | -] [CLASSES.txt]\n", argv[0]);
        return 2;
    }
    model_path = argv[1];
    if (argc >= 3 && strcmp(argv[2], "-") != 0) input_path = argv[2];
    if (argc >= 4) classes_path = argv[3];

    if (stalwart_api_version() != STALWART_API_VERSION) {
        fprintf(stderr, "classify: libStalwart implements API %u, this program needs %d\n",
                (unsigned)stalwart_api_version(), STALWART_API_VERSION);
        return 1;
    }
    printf("libStalwart %s\n", stalwart_version());

    /* Options: 0 threads = one per core. */
    if ((st = stalwart_options_create(&options)) != STALWART_OK)
        return report("stalwart_options_create", st);
    if ((st = stalwart_options_set_threads(options, 0)) != STALWART_OK) {
        rc = report("stalwart_options_set_threads", st);
        goto done;
    }
    st = stalwart_model_load(model_path, options, &model);
    stalwart_options_free(options); /* loads do not retain options */
    options = NULL;
    if (st != STALWART_OK) {
        rc = report("stalwart_model_load", st);
        goto done;
    }

    /* The input: one float32 tensor of rank <= STALWART_MAX_RANK. */
    if ((st = stalwart_model_input_count(model, &count)) != STALWART_OK) {
        rc = report("stalwart_model_input_count", st);
        goto done;
    }
    if (count != 1) {
        fprintf(stderr, "classify: the model has %zu inputs; this example handles one\n", count);
        goto done;
    }
    if ((st = stalwart_model_input_name(model, 0, &input_name)) != STALWART_OK) {
        rc = report("stalwart_model_input_name", st);
        goto done;
    }
    if ((st = stalwart_model_input_info(model, 0, &dtype, dims, STALWART_MAX_RANK, &rank)) !=
        STALWART_OK) {
        rc = report("stalwart_model_input_info", st);
        goto done;
    }
    if (dtype != STALWART_DTYPE_FLOAT32 || rank == 0 || rank > STALWART_MAX_RANK) {
        fprintf(stderr, "classify: input '%s' must be float32 of rank 1..%d\n", input_name,
                STALWART_MAX_RANK);
        goto done;
    }
    for (i = 0; i < rank; i++) {
        if (dims[i] < 0) dims[i] = 1; /* symbolic (batch) dimension: use 1 */
        if (dims[i] == 0 || (size_t)dims[i] > SIZE_MAX / sizeof(float) / elements) {
            fprintf(stderr, "classify: input '%s' has an unusable shape\n", input_name);
            goto done;
        }
        elements *= (size_t)dims[i];
    }

    if (input_path != NULL && is_image(input_path)) {
        /* Decode to RGB and preprocess with the model's own pipeline, straight into input. */
        stalwart_image *image = NULL;
        stalwart_pipeline *pipeline = NULL;
        int64_t shape[3];
        input = malloc(elements * sizeof(float));
        if (input == NULL) {
            fprintf(stderr, "classify: out of memory\n");
            goto done;
        }
        if ((st = stalwart_image_load(input_path, 3, 0, 0, &image)) != STALWART_OK) {
            rc = report("stalwart_image_load", st);
            goto done;
        }
        if ((st = stalwart_pipeline_create_for_model(model, 0, &pipeline)) != STALWART_OK) {
            rc = report("stalwart_pipeline_create_for_model", st);
            stalwart_image_free(image);
            goto done;
        }
        st = stalwart_pipeline_output_shape(pipeline, stalwart_image_width(image),
                                            stalwart_image_height(image), shape);
        if (st == STALWART_OK && (size_t)(shape[0] * shape[1] * shape[2]) != elements) {
            fprintf(stderr, "classify: the pipeline makes %lldx%lldx%lld values, input '%s' takes %zu\n",
                    (long long)shape[0], (long long)shape[1], (long long)shape[2], input_name, elements);
            st = STALWART_ERROR_SHAPE_MISMATCH;
        } else if (st == STALWART_OK) {
            st = stalwart_pipeline_apply(pipeline, image, input, elements);
            if (st != STALWART_OK) report("stalwart_pipeline_apply", st);
        } else {
            report("stalwart_pipeline_output_shape", st);
        }
        stalwart_pipeline_free(pipeline);
        stalwart_image_free(image);
        if (st != STALWART_OK) goto done;
        printf("%s: preprocessed to %lldx%lld by the model's pipeline\n", input_path,
               (long long)shape[1], (long long)shape[2]);
    } else if (input_path != NULL) {
        size_t size = 0;
        input = (float *)read_file(input_path, &size);
        if (input == NULL) goto done;
        if (size != elements * sizeof(float)) {
            fprintf(stderr, "classify: %s has %zu bytes; input '%s' needs %zu float32 values "
                    "(%zu bytes)\n", input_path, size, input_name, elements,
                    elements * sizeof(float));
            goto done;
        }
    } else {
        /* A deterministic smooth pattern in [-1, 1]. */
        input = malloc(elements * sizeof(float));
        if (input == NULL) {
            fprintf(stderr, "classify: out of memory\n");
            goto done;
        }
        for (i = 0; i < elements; i++) input[i] = (float)sin((double)i * 0.001);
    }

    memset(&in_t, 0, sizeof in_t);
    in_t.struct_size = (uint32_t)sizeof in_t;
    in_t.dtype = STALWART_DTYPE_FLOAT32;
    in_t.name = NULL; /* bind by position */
    in_t.data = input;
    in_t.capacity_bytes = elements * sizeof(float);
    in_t.rank = rank;
    memcpy(in_t.shape, dims, rank * sizeof dims[0]);

    /* The first output: ask its shape for this input, then allocate and run. */
    memset(&out_t, 0, sizeof out_t);
    out_t.struct_size = (uint32_t)sizeof out_t;
    out_t.name = NULL; /* position 0 */
    if ((st = stalwart_model_output_shapes(model, &in_t, 1, &out_t, 1)) != STALWART_OK) {
        rc = report("stalwart_model_output_shapes", st);
        goto done;
    }
    if ((st = stalwart_model_output_name(model, 0, &output_name)) != STALWART_OK) {
        rc = report("stalwart_model_output_name", st);
        goto done;
    }
    if (out_t.dtype != STALWART_DTYPE_FLOAT32 || out_t.rank < 1 || out_t.rank > 2 ||
        out_t.shape[out_t.rank - 1] <= 0 || (out_t.rank == 2 && out_t.shape[0] <= 0)) {
        fprintf(stderr, "classify: output '%s' is not float32 logits [N, classes]\n",
                output_name);
        goto done;
    }
    classes = (size_t)out_t.shape[out_t.rank - 1];
    batch = out_t.rank == 2 ? (size_t)out_t.shape[0] : 1;
    if (classes > SIZE_MAX / sizeof(float) / batch) {
        fprintf(stderr, "classify: output too large\n");
        goto done;
    }
    output = malloc(batch * classes * sizeof(float));
    if (output == NULL) {
        fprintf(stderr, "classify: out of memory\n");
        goto done;
    }
    out_t.data = output;
    out_t.capacity_bytes = batch * classes * sizeof(float);
    if ((st = stalwart_model_run(model, &in_t, 1, &out_t, 1)) != STALWART_OK) {
        rc = report("stalwart_model_run", st);
        goto done;
    }

    if (classes_path != NULL) {
        size_t size = 0;
        class_text = read_file(classes_path, &size);
        if (class_text == NULL) goto done;
    } else {
        /* Class names the model carries (owned by the model: copy before splitting). */
        const char *labels = NULL;
        if ((st = stalwart_model_metadata_get(model, "stalwart.labels", &labels)) != STALWART_OK) {
            rc = report("stalwart_model_metadata_get", st);
            goto done;
        }
        if (labels != NULL) {
            class_text = malloc(strlen(labels) + 1);
            if (class_text == NULL) {
                fprintf(stderr, "classify: out of memory\n");
                goto done;
            }
            memcpy(class_text, labels, strlen(labels) + 1);
        }
    }
    if (class_text != NULL) {
        class_names = malloc(classes * sizeof *class_names);
        if (class_names == NULL) {
            fprintf(stderr, "classify: out of memory\n");
            goto done;
        }
        n_names = split_lines(class_text, class_names, classes);
    }

    printf("model %s: input '%s' [", model_path, input_name);
    for (i = 0; i < rank; i++) printf("%s%lld", i ? ", " : "", (long long)dims[i]);
    printf("], output '%s' [%zu, %zu]\n", output_name, batch, classes);

    for (b = 0; b < batch; b++) {
        const float *logits = output + b * classes;
        size_t top[TOP_K];
        size_t n_top = classes < TOP_K ? classes : TOP_K;
        double max = logits[0], sum = 0.0;
        for (i = 1; i < classes; i++)
            if (logits[i] > max) max = logits[i];
        for (i = 0; i < classes; i++) sum += exp((double)logits[i] - max);
        /* Selection of the n_top largest, ties broken by the lower index. */
        for (k = 0; k < n_top; k++) {
            size_t best = SIZE_MAX;
            for (i = 0; i < classes; i++) {
                size_t j;
                int taken = 0;
                for (j = 0; j < k; j++)
                    if (top[j] == i) taken = 1;
                if (!taken && (best == SIZE_MAX || logits[i] > logits[best])) best = i;
            }
            top[k] = best;
        }
        printf("item %zu top-%zu:\n", b, n_top);
        for (k = 0; k < n_top; k++) {
            double p = exp((double)logits[top[k]] - max) / sum;
            printf("  %zu  %4zu  %.6f", k + 1, top[k], p);
            if (top[k] < n_names) printf("  %s", class_names[top[k]]);
            printf("\n");
        }
    }
    rc = 0;

done:
    stalwart_options_free(options);
    stalwart_model_free(model);
    free(input);
    free(output);
    free((void *)class_names);
    free(class_text);
    return rc;
}
