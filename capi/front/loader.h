/* Loading the Go core: see loader.c. */
#ifndef CLCKPT_FRONT_LOADER_H
#define CLCKPT_FRONT_LOADER_H

/* Loads the core (once per process; later calls find it loaded) and returns the table getter()
 * returns, whose first member is its unsigned ABI number, if it equals abi; NULL otherwise (the
 * reason is printed on stderr). */
const void *front_load_table(const char *getter, unsigned abi);

/* Non-zero in a child forked after the core was loaded: it must not call the core. */
int front_forked(void);

#endif
