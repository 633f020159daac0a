/* One process, loopback TCP: socket type flags, options, a non-blocking connect
   (EINPROGRESS), a non-blocking accept and recv (EAGAIN), MSG_* flags, fcntl F_SETFL,
   ioctl FIONBIO, shutdown, EOF. The expected event sequence is in test_events.py.
   Prints the listening port and the client's port (stdout is not a socket). */
#include "check.h"
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

int main(void)
{
    int one = 1, err = -1;
    socklen_t len;
    char buf[64];
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = 0,
                               .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    struct sockaddr_in peer;

    int l = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    CHECK(l == 3);
    CHECK(setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) == 0);
    CHECK(bind(l, (struct sockaddr *)&addr, sizeof addr) == 0);
    CHECK(listen(l, 8) == 0);
    len = sizeof addr;
    CHECK(getsockname(l, (struct sockaddr *)&addr, &len) == 0);
    FAILS_WITH(accept4(l, NULL, NULL, SOCK_CLOEXEC), EAGAIN);

    int c = socket(AF_INET, SOCK_STREAM, IPPROTO_TCP);
    CHECK(c == 4);
    int fl = fcntl(c, F_GETFL);
    CHECK(fl == O_RDWR);
    CHECK(fcntl(c, F_SETFL, fl | O_NONBLOCK) == 0);
    FAILS_WITH(connect(c, (struct sockaddr *)&addr, sizeof addr), EINPROGRESS);
    struct pollfd pc = {.fd = c, .events = POLLOUT};
    CHECK(poll(&pc, 1, 5000) == 1 && pc.revents == POLLOUT);
    len = sizeof err;
    CHECK(getsockopt(c, SOL_SOCKET, SO_ERROR, &err, &len) == 0 && err == 0);
    CHECK(setsockopt(c, SOL_TCP, TCP_NODELAY, &one, sizeof one) == 0);

    struct pollfd pl = {.fd = l, .events = POLLIN};
    CHECK(poll(&pl, 1, 5000) == 1);
    len = sizeof peer;
    int s = accept4(l, (struct sockaddr *)&peer, &len, SOCK_NONBLOCK);
    CHECK(s == 5);
    FAILS_WITH(recvfrom(s, buf, sizeof buf, 0, NULL, NULL), EAGAIN);
    CHECK(sendto(c, "hello", 5, MSG_NOSIGNAL | MSG_DONTWAIT, NULL, 0) == 5);
    struct pollfd ps = {.fd = s, .events = POLLIN};
    CHECK(poll(&ps, 1, 5000) == 1);
    CHECK(recvfrom(s, buf, sizeof buf, 0, NULL, NULL) == 5);
    CHECK(ioctl(s, FIONBIO, &one) == 0);
    CHECK(shutdown(c, SHUT_WR) == 0);
    CHECK(poll(&ps, 1, 5000) == 1);
    CHECK(read(s, buf, sizeof buf) == 0);
    CHECK(close(s) == 0);
    CHECK(close(c) == 0);
    CHECK(close(l) == 0);
    printf("%d %d\n", ntohs(addr.sin_port), ntohs(peer.sin_port));
    return 0;
}
