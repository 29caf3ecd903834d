#ifndef NESTOR_SHOW_H
#define NESTOR_SHOW_H
/* Prints an image file, or every image of a dir, as JSON on stdout. */
int cr_show(const char *path);
#endif
