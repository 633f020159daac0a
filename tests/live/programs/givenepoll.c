/* A server given its listening socket as fd 0 (socket activation, inetd's wait mode): it adds
   a pipe and a socket of its own (a unix datagram socket, for messages from a supervisor) to
   an epoll set, then the listener with a third epoll_ctl, waits, accepts and echoes once. The
   tracer never saw the listener made, and this program makes no call on fd 0 before the
   epoll_ctl that names it (a Python program would: its start looks at fds 0-2).
   usage: givenepoll (fd 0: a listening TCP socket) */
#include "check.h"
#include <sys/epoll.h>
#include <sys/socket.h>

int main(void)
{
    int p[2];
    char buf[16];
    struct epoll_event ev = {.events = EPOLLIN}, got;
    CHECK(pipe(p) == 0);
    int ep = epoll_create1(0);
    CHECK(ep >= 0);
    ev.data.fd = p[0];
    CHECK(epoll_ctl(ep, EPOLL_CTL_ADD, p[0], &ev) == 0);
    int own = socket(AF_UNIX, SOCK_DGRAM, 0);
    CHECK(own >= 0);
    ev.data.fd = own;
    CHECK(epoll_ctl(ep, EPOLL_CTL_ADD, own, &ev) == 0);
    ev.data.fd = 0;
    CHECK(epoll_ctl(ep, EPOLL_CTL_ADD, 0, &ev) == 0);
    CHECK(epoll_wait(ep, &got, 1, 5000) == 1 && got.data.fd == 0);
    int c = accept(0, NULL, NULL);
    CHECK(c >= 0);
    ssize_t n = recv(c, buf, sizeof buf, 0);
    CHECK(n > 0 && send(c, buf, n, 0) == n);
    CHECK(close(c) == 0);
    return 0;
}
