/* HABIT: signal-driven I/O on the connection: F_SETOWN, then F_SETFL O_ASYNC (SIGIO ignored) */
#include "../../habit.h"

int main(int argc, char *argv[])
{
    need_args(argc, argv, 3, "HOST PORT");
    signal(SIGIO, SIG_IGN);
    int listener = listen_on(argv[1], argv[2]);
    int conn = accept_one(listener);
    if (fcntl(conn, F_SETOWN, getpid()) < 0)
        die("F_SETOWN");
    int flags = fcntl(conn, F_GETFL);
    if (flags < 0 || fcntl(conn, F_SETFL, flags | O_ASYNC) < 0)
        die("F_SETFL O_ASYNC");
    echo(conn);
    close_or_die(conn);
    close_or_die(listener);
    return 0;
}
