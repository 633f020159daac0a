/* HABIT: signal-driven I/O on the connection: F_SETOWN, then ioctl(FIOASYNC, 1) (SIGIO ignored) */
#include "../../habit.h"
#include <sys/ioctl.h>

int main(int argc, char *argv[])
{
    need_args(argc, argv, 3, "HOST PORT");
    signal(SIGIO, SIG_IGN);
    int listener = listen_on(argv[1], argv[2]);
    int conn = accept_one(listener);
    if (fcntl(conn, F_SETOWN, getpid()) < 0)
        die("F_SETOWN");
    int on = 1;
    if (ioctl(conn, FIOASYNC, &on) < 0)
        die("FIOASYNC");
    echo(conn);
    close_or_die(conn);
    close_or_die(listener);
    return 0;
}
