/* HABIT: non-blocking sockets and no readiness call: the listener is made with SOCK_NONBLOCK
 * and accept4(SOCK_NONBLOCK) is tried again after a short sleep until a connection is there;
 * recv is retried the same way. The program never waits in epoll, poll or select. */
#include "../../habit.h"
#include <time.h>

static void nap(void)
{
    struct timespec ms = {0, 1000000};
    nanosleep(&ms, NULL);
}

int main(int argc, char *argv[])
{
    need_args(argc, argv, 3, "HOST PORT");
    struct sockaddr_storage addr;
    address(argv[1], argv[2], &addr);
    int listener = socket(addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK, 0);
    if (listener < 0)
        die("socket");
    bind_and_listen(listener, argv[1], argv[2]);
    int conn;
    while ((conn = accept4(listener, NULL, NULL, SOCK_NONBLOCK)) < 0) {
        if (errno != EAGAIN)
            die("accept4");
        nap();
    }
    char buf[4096];
    ssize_t n;
    while ((n = recv(conn, buf, sizeof buf, 0)) < 0) {
        if (errno != EAGAIN)
            die("recv");
        nap();
    }
    send_all(conn, buf, (size_t)n);
    close_or_die(conn);
    close_or_die(listener);
    return 0;
}
