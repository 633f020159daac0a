/* HABIT: close-on-exec set after the fact: fcntl(F_SETFD, FD_CLOEXEC) on the listener and the connection */
#include "../../habit.h"

int main(int argc, char *argv[])
{
    need_args(argc, argv, 3, "HOST PORT");
    int listener = listen_on(argv[1], argv[2]);
    if (fcntl(listener, F_SETFD, FD_CLOEXEC) < 0)
        die("F_SETFD listener");
    int conn = accept_one(listener);
    if (fcntl(conn, F_SETFD, FD_CLOEXEC) < 0)
        die("F_SETFD conn");
    echo(conn);
    close_or_die(conn);
    close_or_die(listener);
    return 0;
}
