/* HABIT: the echo moved with splice(): connection -> pipe -> connection */
#include "../../habit.h"

int main(int argc, char *argv[])
{
    need_args(argc, argv, 3, "HOST PORT");
    int listener = listen_on(argv[1], argv[2]);
    int conn = accept_one(listener);
    int p[2];
    if (pipe(p) < 0)
        die("pipe");
    ssize_t n = splice(conn, NULL, p[1], NULL, 4096, 0);
    if (n < 0)
        die("splice in");
    ssize_t moved = 0;
    while (moved < n) {
        ssize_t w = splice(p[0], NULL, conn, NULL, (size_t)(n - moved), 0);
        if (w < 0)
            die("splice out");
        moved += w;
    }
    close_or_die(p[0]);
    close_or_die(p[1]);
    close_or_die(conn);
    close_or_die(listener);
    return 0;
}
