/* HABIT: the connection registered in epoll and one epoll_wait() before the (blocking) recv */
#include "../../habit.h"
#include <sys/epoll.h>

int main(int argc, char *argv[])
{
    need_args(argc, argv, 3, "HOST PORT");
    int ep = epoll_create1(EPOLL_CLOEXEC);
    if (ep < 0)
        die("epoll_create1");
    int listener = listen_on(argv[1], argv[2]);
    int conn = accept_one(listener);
    struct epoll_event ev = {.events = EPOLLIN, .data.fd = conn};
    if (epoll_ctl(ep, EPOLL_CTL_ADD, conn, &ev) < 0)
        die("epoll_ctl");
    struct epoll_event ready;
    if (epoll_wait(ep, &ready, 1, 5000) != 1)
        die("epoll_wait");
    echo(conn);
    close_or_die(conn);
    close_or_die(listener);
    close_or_die(ep);
    return 0;
}
