/* HABIT CONTROL: a lookup probe socket before the echo. glibc's getaddrinfo() orders the
 * addresses it returns (RFC 6724) by connecting a datagram socket to each of them, which
 * sends nothing, and reading back the source address the kernel picked; gawk's /inet server
 * makes exactly these calls. This server makes them by hand (the wildcard addresses of a
 * passive lookup, with the run's port), then is the plain C server. The probe is not one of
 * the echo's sockets: the report must call this server identical and list the probe apart.
 * Usage: server HOST PORT */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static void die(const char *what)
{
    perror(what);
    exit(1);
}

static void probe(unsigned short port)
{
    int p = socket(AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, IPPROTO_IP);
    if (p < 0)
        die("socket");
    struct sockaddr_in6 any6 = {.sin6_family = AF_INET6, .sin6_port = htons(port),
                                .sin6_addr = IN6ADDR_ANY_INIT};
    struct sockaddr_storage src;
    socklen_t len = sizeof src;
    if (connect(p, (struct sockaddr *)&any6, sizeof any6) == 0)
        getsockname(p, (struct sockaddr *)&src, &len);
    struct sockaddr unspec = {.sa_family = AF_UNSPEC};
    connect(p, &unspec, sizeof unspec);
    struct sockaddr_in any4 = {.sin_family = AF_INET, .sin_port = htons(port),
                               .sin_addr.s_addr = htonl(INADDR_ANY)};
    len = sizeof src;
    if (connect(p, (struct sockaddr *)&any4, sizeof any4) == 0)
        getsockname(p, (struct sockaddr *)&src, &len);
    close(p);
}

int main(int argc, char *argv[])
{
    if (argc != 3) {
        fprintf(stderr, "usage: %s HOST PORT\n", argv[0]);
        return 1;
    }
    unsigned short port = (unsigned short)atoi(argv[2]);
    probe(port);

    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons(port)};
    if (inet_pton(AF_INET, argv[1], &addr.sin_addr) != 1) {
        fprintf(stderr, "invalid address: %s\n", argv[1]);
        return 1;
    }
    int listen_fd = socket(AF_INET, SOCK_STREAM, 0);
    if (listen_fd < 0)
        die("socket");
    if (bind(listen_fd, (struct sockaddr *)&addr, sizeof addr) < 0)
        die("bind");
    if (listen(listen_fd, SOMAXCONN) < 0)
        die("listen");
    int conn_fd = accept(listen_fd, NULL, NULL);
    if (conn_fd < 0)
        die("accept");
    char buf[4096];
    ssize_t n = recv(conn_fd, buf, sizeof buf, 0);
    if (n < 0)
        die("recv");
    for (ssize_t sent = 0; sent < n;) {
        ssize_t w = send(conn_fd, buf + sent, (size_t)(n - sent), 0);
        if (w < 0)
            die("send");
        sent += w;
    }
    close(conn_fd);
    close(listen_fd);
    return 0;
}
