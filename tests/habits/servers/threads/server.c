/* HABIT: accept() in the main thread, the echo and its close in a pthread */
#include "../../habit.h"
#include <pthread.h>

static void *serve(void *arg)
{
    int conn = (int)(long)arg;
    echo(conn);
    close_or_die(conn);
    return NULL;
}

int main(int argc, char *argv[])
{
    need_args(argc, argv, 3, "HOST PORT");
    int listener = listen_on(argv[1], argv[2]);
    int conn = accept_one(listener);
    pthread_t t;
    int err = pthread_create(&t, NULL, serve, (void *)(long)conn);
    if (err) {
        fprintf(stderr, "pthread_create: %s\n", strerror(err));
        return 1;
    }
    pthread_join(t, NULL);
    close_or_die(listener);
    return 0;
}
