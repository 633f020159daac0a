/* HABIT CONTROL: the runtime asks each new socket whether it is a terminal and whether it
 * can seek, as Perl's PerlIO layer does when it opens a handle on a socket: ioctl(TCGETS)
 * fails with ENOTTY, lseek with ESPIPE, and an fstat says S_IFSOCK. None of it touches the
 * conversation: the report must call this server identical and count the calls in the
 * "runtime probes" attribute.
 * Usage: server HOST PORT */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

static void die(const char *what)
{
    perror(what);
    exit(1);
}

static void probe(int fd)
{
    struct termios t;
    struct stat st;
    ioctl(fd, TCGETS, &t);
    lseek(fd, 0, SEEK_CUR);
    fstat(fd, &st);
}

int main(int argc, char *argv[])
{
    if (argc != 3) {
        fprintf(stderr, "usage: %s HOST PORT\n", argv[0]);
        return 1;
    }
    struct sockaddr_in addr = {.sin_family = AF_INET,
                               .sin_port = htons((unsigned short)atoi(argv[2]))};
    if (inet_pton(AF_INET, argv[1], &addr.sin_addr) != 1) {
        fprintf(stderr, "invalid address: %s\n", argv[1]);
        return 1;
    }
    int listen_fd = socket(AF_INET, SOCK_STREAM, 0);
    if (listen_fd < 0)
        die("socket");
    probe(listen_fd);
    if (bind(listen_fd, (struct sockaddr *)&addr, sizeof addr) < 0)
        die("bind");
    if (listen(listen_fd, SOMAXCONN) < 0)
        die("listen");
    int conn_fd = accept(listen_fd, NULL, NULL);
    if (conn_fd < 0)
        die("accept");
    probe(conn_fd);
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
