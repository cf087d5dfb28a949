/* libpng, used only through its simplified png_image API (no longjmp). */
#include <png.h>
