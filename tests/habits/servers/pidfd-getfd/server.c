/* HABIT: a forked worker takes the parent's accepted fd with pidfd_open + pidfd_getfd */
#include "../../habit.h"
#include <sys/syscall.h>

#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif
#ifndef SYS_pidfd_getfd
#define SYS_pidfd_getfd 438
#endif

int main(int argc, char *argv[])
{
    need_args(argc, argv, 3, "HOST PORT");
    int listener = listen_on(argv[1], argv[2]);
    int ask[2], done[2];  /* parent -> worker: the fd number; worker -> parent: taken */
    if (pipe(ask) < 0 || pipe(done) < 0)
        die("pipe");
    pid_t parent = getpid();
    pid_t worker = fork();
    if (worker < 0)
        die("fork");
    if (worker == 0) {
        close_or_die(listener);
        int number;
        if (read(ask[0], &number, sizeof number) != sizeof number)
            die("read fd number");
        int pidfd = (int)syscall(SYS_pidfd_open, parent, 0);
        if (pidfd < 0)
            die("pidfd_open");
        int conn = (int)syscall(SYS_pidfd_getfd, pidfd, number, 0);
        if (conn < 0)
            die("pidfd_getfd");
        close_or_die(pidfd);
        if (write(done[1], "t", 1) != 1)
            die("write");
        echo(conn);
        close_or_die(conn);
        _exit(0);
    }
    int conn = accept_one(listener);
    if (write(ask[1], &conn, sizeof conn) != sizeof conn)
        die("write fd number");
    char taken;
    if (read(done[0], &taken, 1) != 1)
        die("read");
    close_or_die(conn);  /* the worker holds the connection now */
    int status = reap(worker);
    close_or_die(listener);
    return status;
}
