/* One process, every kind of address: IPv6 loopback, an IPv6 socket reaching an IPv4
   listener through a v4-mapped address, a refused connect (bound port, no listen),
   AF_UNIX stream on a path, AF_UNIX abstract, AF_UNIX datagrams with sendto/recvfrom.
   Prints the ports it learned, in the order they appear in its calls.
   usage: addrs PATH DGRAM_PATH ABSTRACT_NAME */
#include "check.h"
#include <arpa/inet.h>
#include <stddef.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/un.h>

static void unix_addr(struct sockaddr_un *u, socklen_t *len, const char *path, int abstract)
{
    memset(u, 0, sizeof *u);
    u->sun_family = AF_UNIX;
    size_t n = strlen(path);
    CHECK(n + 2 < sizeof u->sun_path);
    memcpy(u->sun_path + (abstract ? 1 : 0), path, n);
    /* a path counts its trailing NUL; an abstract name its leading NUL and no other */
    *len = offsetof(struct sockaddr_un, sun_path) + n + 1;
}

int main(int argc, char **argv)
{
    CHECK(argc == 4);
    int one = 1;
    socklen_t len;
    char buf[16];

    /* IPv6 loopback */
    struct sockaddr_in6 a6 = {.sin6_family = AF_INET6, .sin6_addr = IN6ADDR_LOOPBACK_INIT};
    int l6 = socket(AF_INET6, SOCK_STREAM, 0);
    CHECK(l6 == 3);
    CHECK(setsockopt(l6, SOL_IPV6, IPV6_V6ONLY, &one, sizeof one) == 0);
    CHECK(bind(l6, (struct sockaddr *)&a6, sizeof a6) == 0);
    CHECK(listen(l6, 4) == 0);
    len = sizeof a6;
    CHECK(getsockname(l6, (struct sockaddr *)&a6, &len) == 0);
    int c6 = socket(AF_INET6, SOCK_STREAM, 0);
    CHECK(c6 == 4);
    CHECK(connect(c6, (struct sockaddr *)&a6, sizeof a6) == 0);
    struct sockaddr_in6 p6;
    len = sizeof p6;
    int s6 = accept(l6, (struct sockaddr *)&p6, &len);
    CHECK(s6 == 5);
    CHECK(close(s6) == 0 && close(c6) == 0 && close(l6) == 0);

    /* an IPv6 socket connecting to an IPv4 listener: ::ffff:127.0.0.1 */
    struct sockaddr_in a4 = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    int l4 = socket(AF_INET, SOCK_STREAM, 0);
    CHECK(l4 == 3);
    CHECK(bind(l4, (struct sockaddr *)&a4, sizeof a4) == 0);
    CHECK(listen(l4, 4) == 0);
    len = sizeof a4;
    CHECK(getsockname(l4, (struct sockaddr *)&a4, &len) == 0);
    struct sockaddr_in6 m6 = {.sin6_family = AF_INET6, .sin6_port = a4.sin_port};
    CHECK(inet_pton(AF_INET6, "::ffff:127.0.0.1", &m6.sin6_addr) == 1);
    int cm = socket(AF_INET6, SOCK_STREAM, 0);
    CHECK(cm == 4);
    CHECK(connect(cm, (struct sockaddr *)&m6, sizeof m6) == 0);
    struct sockaddr_in p4;
    len = sizeof p4;
    int s4 = accept(l4, (struct sockaddr *)&p4, &len);
    CHECK(s4 == 5);
    CHECK(close(s4) == 0 && close(cm) == 0 && close(l4) == 0);

    /* a bound port nobody listens on refuses the connection */
    struct sockaddr_in r4 = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    int b = socket(AF_INET, SOCK_STREAM, 0);
    CHECK(b == 3);
    CHECK(bind(b, (struct sockaddr *)&r4, sizeof r4) == 0);
    len = sizeof r4;
    CHECK(getsockname(b, (struct sockaddr *)&r4, &len) == 0);
    int rc = socket(AF_INET, SOCK_STREAM, 0);
    CHECK(rc == 4);
    FAILS_WITH(connect(rc, (struct sockaddr *)&r4, sizeof r4), ECONNREFUSED);
    CHECK(close(rc) == 0 && close(b) == 0);

    /* AF_UNIX stream on a path, then on an abstract name */
    for (int abstract = 0; abstract <= 1; abstract++) {
        struct sockaddr_un u;
        socklen_t ulen;
        unix_addr(&u, &ulen, abstract ? argv[3] : argv[1], abstract);
        int lu = socket(AF_UNIX, SOCK_STREAM, 0);
        CHECK(lu == 3);
        CHECK(bind(lu, (struct sockaddr *)&u, ulen) == 0);
        CHECK(listen(lu, 4) == 0);
        int cu = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        CHECK(cu == 4);
        CHECK(connect(cu, (struct sockaddr *)&u, ulen) == 0);
        struct sockaddr_un pu;
        len = sizeof pu;
        int su = accept4(lu, (struct sockaddr *)&pu, &len, SOCK_CLOEXEC);
        CHECK(su == 5);
        CHECK(close(su) == 0 && close(cu) == 0 && close(lu) == 0);
    }

    /* AF_UNIX datagrams: an unbound sender, a receiver bound to a path */
    struct sockaddr_un d;
    socklen_t dlen;
    unix_addr(&d, &dlen, argv[2], 0);
    int rd = socket(AF_UNIX, SOCK_DGRAM, 0);
    CHECK(rd == 3);
    CHECK(bind(rd, (struct sockaddr *)&d, dlen) == 0);
    int sd = socket(AF_UNIX, SOCK_DGRAM, 0);
    CHECK(sd == 4);
    CHECK(sendto(sd, "dgram", 5, 0, (struct sockaddr *)&d, dlen) == 5);
    struct sockaddr_un from;
    len = sizeof from;
    CHECK(recvfrom(rd, buf, sizeof buf, 0, (struct sockaddr *)&from, &len) == 5);
    CHECK(close(sd) == 0 && close(rd) == 0);
    unlink(argv[1]);
    unlink(argv[2]);
    printf("%d %d %d %d %d\n", ntohs(a6.sin6_port), ntohs(p6.sin6_port), ntohs(a4.sin_port),
           ntohs(p4.sin_port), ntohs(r4.sin_port));
    return 0;
}
