/* HABIT: dup(conn), close(conn) before the echo; the echo and the last close through the dup */
#include "../../habit.h"

int main(int argc, char *argv[])
{
    need_args(argc, argv, 3, "HOST PORT");
    int listener = listen_on(argv[1], argv[2]);
    int conn = accept_one(listener);
    int fd2 = dup(conn);
    if (fd2 < 0)
        die("dup");
    close_or_die(conn);
    echo(fd2);
    close_or_die(fd2);
    close_or_die(listener);
    return 0;
}
