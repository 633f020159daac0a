/* Addresses longer than the caller's buffer (issue 16 §5), as socat's accept does: an AF_INET6
   peer (28 bytes) accepted into a 16-byte buffer, whose bytes 16..27 are never written (the
   kernel copies only what fits and reports the full length in *addrlen). The buffer's tail is
   filled with a pattern first, so that a decoder reading past what the caller gave shows it.
   Then getpeername with room for 8 bytes (family and port only), getsockname with room for 2
   (the family only), accept4 with room for 24 (all but sin6_scope_id), recvfrom of a UDP
   datagram into 16 bytes and recvmsg with msg_namelen 8.
   Prints nothing; exit status 0. */
#include "check.h"
#include <netinet/in.h>
#include <sys/socket.h>

int main(void)
{
    int one = 1;
    struct sockaddr_in6 a6 = {.sin6_family = AF_INET6, .sin6_addr = IN6ADDR_LOOPBACK_INIT};
    socklen_t len;
    unsigned char buf[64];

    int l = socket(AF_INET6, SOCK_STREAM, 0);
    CHECK(l == 3);
    CHECK(setsockopt(l, SOL_IPV6, IPV6_V6ONLY, &one, sizeof one) == 0);
    CHECK(bind(l, (struct sockaddr *)&a6, sizeof a6) == 0);
    CHECK(listen(l, 4) == 0);
    len = sizeof a6;
    CHECK(getsockname(l, (struct sockaddr *)&a6, &len) == 0 && len == sizeof a6);

    int c = socket(AF_INET6, SOCK_STREAM, 0);
    CHECK(c == 4);
    CHECK(connect(c, (struct sockaddr *)&a6, sizeof a6) == 0);

    /* accept into 16 bytes: the kernel reports 28 */
    memset(buf, 0xa5, sizeof buf);
    len = 16;
    int s = accept(l, (struct sockaddr *)buf, &len);
    CHECK(s == 5 && len == sizeof(struct sockaddr_in6));
    CHECK(buf[16] == 0xa5);  /* nothing written past the 16 bytes given */

    /* getpeername into 8 bytes: family, port and sin6_flowinfo fit; the address does not */
    memset(buf, 0xa5, sizeof buf);
    len = 8;
    CHECK(getpeername(s, (struct sockaddr *)buf, &len) == 0 && len == sizeof(struct sockaddr_in6));
    CHECK(buf[8] == 0xa5);

    /* getsockname into 2 bytes: the family only */
    memset(buf, 0xa5, sizeof buf);
    len = 2;
    CHECK(getsockname(s, (struct sockaddr *)buf, &len) == 0 && len == sizeof(struct sockaddr_in6));
    CHECK(buf[2] == 0xa5);

    /* accept4 into 24 bytes: everything but sin6_scope_id */
    int c2 = socket(AF_INET6, SOCK_STREAM, 0);
    CHECK(c2 == 6);
    CHECK(connect(c2, (struct sockaddr *)&a6, sizeof a6) == 0);
    memset(buf, 0xa5, sizeof buf);
    len = 24;
    int s2 = accept4(l, (struct sockaddr *)buf, &len, SOCK_CLOEXEC);
    CHECK(s2 == 7 && len == sizeof(struct sockaddr_in6));
    CHECK(buf[24] == 0xa5);
    CHECK(close(s2) == 0 && close(c2) == 0);

    /* UDP over ::1: recvfrom into 16 bytes of address, recvmsg with msg_namelen 8 */
    int u = socket(AF_INET6, SOCK_DGRAM, 0);
    CHECK(u == 6);
    struct sockaddr_in6 ua = {.sin6_family = AF_INET6, .sin6_addr = IN6ADDR_LOOPBACK_INIT};
    CHECK(bind(u, (struct sockaddr *)&ua, sizeof ua) == 0);
    len = sizeof ua;
    CHECK(getsockname(u, (struct sockaddr *)&ua, &len) == 0);
    CHECK(sendto(u, "one", 3, 0, (struct sockaddr *)&ua, sizeof ua) == 3);
    CHECK(sendto(u, "two", 3, 0, (struct sockaddr *)&ua, sizeof ua) == 3);
    char data[8];
    memset(buf, 0xa5, sizeof buf);
    len = 16;
    CHECK(recvfrom(u, data, sizeof data, 0, (struct sockaddr *)buf, &len) == 3);
    CHECK(len == sizeof(struct sockaddr_in6) && buf[16] == 0xa5);

    memset(buf, 0xa5, sizeof buf);
    struct iovec iov = {.iov_base = data, .iov_len = sizeof data};
    struct msghdr mh = {.msg_name = buf, .msg_namelen = 8, .msg_iov = &iov, .msg_iovlen = 1};
    CHECK(recvmsg(u, &mh, 0) == 3);
    CHECK(mh.msg_namelen == sizeof(struct sockaddr_in6) && buf[8] == 0xa5);

    CHECK(close(u) == 0 && close(s) == 0 && close(c) == 0 && close(l) == 0);
    return 0;
}
