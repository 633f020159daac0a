/* HABIT: the connection registered in epoll (epoll_ctl) and never waited on; blocking recv */
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
    echo(conn);
    if (epoll_ctl(ep, EPOLL_CTL_DEL, conn, NULL) < 0)
        die("epoll_ctl DEL");
    close_or_die(conn);
    close_or_die(listener);
    close_or_die(ep);
    return 0;
}
