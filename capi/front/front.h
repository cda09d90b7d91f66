/* Shared by the files of the front library (not installed). */
#ifndef CLCKPT_FRONT_H
#define CLCKPT_FRONT_H

#include "../core.h"

/* The core's table once clCkptInitialize loaded it, else NULL. */
const struct clckpt_core *clckpt_front_loaded(void);

/* Non-zero in a child forked after the core was loaded: it may not use the core. */
int clckpt_front_forked(void);

/* Every other function: not loaded means never initialized; a forked child may not use the core. */
#define FORWARD(field, ...)                                                                        \
    do {                                                                                           \
        const struct clckpt_core *c_ = clckpt_front_loaded();                                      \
        if (c_ == NULL)                                                                            \
            return CL_CKPT_ERR_NOT_INITIALIZED;                                                    \
        if (clckpt_front_forked())                                                                 \
            return CL_CKPT_ERR_INVALID_STATE;                                                      \
        return c_->field(__VA_ARGS__);                                                             \
    } while (0)

#endif
