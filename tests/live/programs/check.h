/* Shared helpers for the live test programs: every call is checked, and a failed check
   exits with status 100 + line number modulo 100 after one line on stderr, so that the
   test sees both that the program went wrong and where. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define CHECK(cond)                                                                   \
    do {                                                                              \
        if (!(cond)) {                                                                \
            fprintf(stderr, "%s:%d: check failed: %s (errno %d)\n", __FILE__,         \
                    __LINE__, #cond, errno);                                          \
            _exit(100 + __LINE__ % 100);                                              \
        }                                                                             \
    } while (0)

/* The call must fail with exactly this errno. */
#define FAILS_WITH(call, err)                                                         \
    do {                                                                              \
        errno = 0;                                                                    \
        CHECK((call) == -1 && errno == (err));                                        \
    } while (0)
