// glibc's malloc tuning (mallopt, M_*), which the Glibc Swift module does not include.
#include <malloc.h>
