/* HABIT: an event loop's habit: non-blocking sockets, poll() before accept4(SOCK_NONBLOCK) and before recv */
#include "../../habit.h"
#include <poll.h>

static void wait_in(int fd)
{
    struct pollfd p = {.fd = fd, .events = POLLIN};
    if (poll(&p, 1, 5000) != 1)
        die("poll");
}

int main(int argc, char *argv[])
{
    need_args(argc, argv, 3, "HOST PORT");
    int listener = listen_on(argv[1], argv[2]);
    if (fcntl(listener, F_SETFL, fcntl(listener, F_GETFL) | O_NONBLOCK) < 0)
        die("O_NONBLOCK");
    int conn;
    for (;;) {
        conn = accept4(listener, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (conn >= 0)
            break;
        if (errno != EAGAIN)
            die("accept4");
        wait_in(listener);
    }
    char buf[4096];
    ssize_t n;
    for (;;) {
        n = recv(conn, buf, sizeof buf, 0);
        if (n >= 0)
            break;
        if (errno != EAGAIN)
            die("recv");
        wait_in(conn);
    }
    send_all(conn, buf, (size_t)n);  /* 14 bytes fit in an empty send buffer */
    close_or_die(conn);
    close_or_die(listener);
    return 0;
}
