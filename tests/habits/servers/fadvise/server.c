/* HABIT: posix_fadvise(SEQUENTIAL) on the connection, as a file-reading library does (it changes nothing) */
#include "../../habit.h"

int main(int argc, char *argv[])
{
    need_args(argc, argv, 3, "HOST PORT");
    int listener = listen_on(argv[1], argv[2]);
    int conn = accept_one(listener);
    /* advice for a file's page cache: on a socket it does nothing (Linux 6.18 returns 0;
     * a pipe gets ESPIPE), and its result is ignored, as such libraries do */
    (void)posix_fadvise(conn, 0, 0, POSIX_FADV_SEQUENTIAL);
    echo(conn);
    close_or_die(conn);
    close_or_die(listener);
    return 0;
}
