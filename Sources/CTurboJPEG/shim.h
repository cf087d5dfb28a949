/* libjpeg-turbo's TurboJPEG API (per-handle errors, never exit()). */
#include <turbojpeg.h>
