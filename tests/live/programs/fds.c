/* One process: which fd calls are recorded. A socketpair; dup, dup2, dup3, fcntl F_DUPFD
   of a socket; a regular file and a pipe next to them (never recorded); an fd number that
   was a socket and is reused by a file; select, poll and epoll on sockets and on a pipe.
   usage: fds FILE */
#include "check.h"
#include <fcntl.h>
#include <poll.h>
#include <sys/epoll.h>
#include <sys/select.h>
#include <sys/socket.h>

int main(int argc, char **argv)
{
    CHECK(argc == 2);
    int sv[2], pp[2];
    char buf[16];

    CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0 && sv[0] == 3 && sv[1] == 4);

    /* a regular file: nothing here is recorded */
    int f = open(argv[1], O_RDWR | O_CREAT | O_TRUNC, 0600);
    CHECK(f == 5);
    CHECK(write(f, "file", 4) == 4);
    CHECK(pread(f, buf, 4, 0) == 4);
    CHECK(fcntl(f, F_GETFL) >= 0);
    int fd2 = dup(f);
    CHECK(fd2 == 6);
    CHECK(close(fd2) == 0);
    CHECK(close(f) == 0);

    /* copies of a socket are sockets */
    CHECK(dup(sv[0]) == 5);
    CHECK(dup2(sv[0], 10) == 10);
    CHECK(fcntl(sv[0], F_DUPFD, 20) == 20);
    CHECK(dup3(sv[0], 11, O_CLOEXEC) == 11);
    CHECK(write(5, "a", 1) == 1);
    CHECK(write(10, "b", 1) == 1);
    CHECK(send(20, "c", 1, 0) == 1);
    CHECK(write(11, "d", 1) == 1);
    CHECK(read(sv[1], buf, sizeof buf) == 4);
    CHECK(close(5) == 0);
    CHECK(close(10) == 0);
    CHECK(close(11) == 0);
    CHECK(close(20) == 0);

    /* fd 5 is a file again: not recorded */
    f = open(argv[1], O_RDWR);
    CHECK(f == 5);
    CHECK(write(f, "again", 5) == 5);
    CHECK(pipe(pp) == 0 && pp[0] == 6 && pp[1] == 7);

    /* readiness: recorded when a socket is watched */
    CHECK(write(sv[0], "x", 1) == 1);
    fd_set rfds;
    FD_ZERO(&rfds);
    FD_SET(sv[1], &rfds);
    FD_SET(pp[0], &rfds);
    struct timeval tv = {.tv_sec = 5};
    CHECK(select(pp[0] + 1, &rfds, NULL, NULL, &tv) == 1 && FD_ISSET(sv[1], &rfds));
    struct pollfd pfd[2] = {{.fd = pp[0], .events = POLLIN}, {.fd = sv[1], .events = POLLIN}};
    CHECK(poll(pfd, 2, 5000) == 1);
    struct pollfd pipe_only = {.fd = pp[0], .events = POLLIN};
    CHECK(poll(&pipe_only, 1, 0) == 0);

    int ep = epoll_create1(EPOLL_CLOEXEC);
    CHECK(ep == 8);
    struct epoll_event ev = {.events = EPOLLIN | EPOLLET, .data.u64 = 0x1234};
    CHECK(epoll_ctl(ep, EPOLL_CTL_ADD, sv[1], &ev) == 0);
    ev.events = EPOLLIN;
    ev.data.u64 = 7;
    CHECK(epoll_ctl(ep, EPOLL_CTL_ADD, pp[0], &ev) == 0);
    struct epoll_event out[4];
    CHECK(epoll_wait(ep, out, 4, 5000) == 1 && out[0].data.u64 == 0x1234);
    CHECK(read(sv[1], buf, sizeof buf) == 1);
    CHECK(epoll_ctl(ep, EPOLL_CTL_DEL, sv[1], NULL) == 0);
    CHECK(close(ep) == 0);

    /* an epoll fd that only ever watches a pipe: none of it is recorded */
    int ep2 = epoll_create1(0);
    CHECK(ep2 == 8);
    ev.events = EPOLLIN;
    CHECK(epoll_ctl(ep2, EPOLL_CTL_ADD, pp[0], &ev) == 0);
    CHECK(epoll_wait(ep2, out, 4, 0) == 0);
    CHECK(close(ep2) == 0);

    CHECK(close(pp[0]) == 0 && close(pp[1]) == 0 && close(f) == 0);
    CHECK(close(sv[0]) == 0 && close(sv[1]) == 0);
    return 0;
}
