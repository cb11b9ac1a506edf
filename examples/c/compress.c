/* compress: one file in, one file out, options from the command line.
 *
 *   compress INPUT OUTPUT [KEY=VALUE ...]
 *   compress photo.heic photo.jpg quality=75 resize=1600x1600
 *
 * Every KEY=VALUE goes to pxp_options_set, so the keys are the ones the CLI's
 * -s flag, Python keyword arguments and Node options take. Without format=,
 * the format follows OUTPUT's extension. */
#include <pixpress.h>

#include <stdio.h>
#include <string.h>

int main(int argc, char **argv) {
    if (argc < 3) {
        fprintf(stderr, "usage: %s INPUT OUTPUT [KEY=VALUE ...]\n", argv[0]);
        return 2;
    }
    pxp_options *options = pxp_options_new();
    const char *dot = strrchr(argv[2], '.');
    if (dot && pxp_options_set(options, "format", dot + 1) != PXP_OK) {
        fprintf(stderr, "%s: cannot tell the format from the name: %s\n", argv[2], pxp_last_error_message());
        pxp_options_free(options);
        return 2;
    }
    for (int i = 3; i < argc; i++) {
        char key[64];
        const char *eq = strchr(argv[i], '=');
        if (!eq || (size_t)(eq - argv[i]) >= sizeof key) {
            fprintf(stderr, "expected KEY=VALUE, got `%s`\n", argv[i]);
            pxp_options_free(options);
            return 2;
        }
        memcpy(key, argv[i], (size_t)(eq - argv[i]));
        key[eq - argv[i]] = '\0';
        if (pxp_options_set(options, key, eq + 1) != PXP_OK) {
            fprintf(stderr, "%s\n", pxp_last_error_message());
            pxp_options_free(options);
            return 2;
        }
    }
    pxp_status status = pxp_compress_file(argv[1], argv[2], options);
    pxp_options_free(options);
    if (status != PXP_OK) {
        fprintf(stderr, "%s: %s\n", argv[1], pxp_last_error_message());
        return 1;
    }
    return 0;
}
