/* HABIT CONTROL: a lookup probe socket before the echo, on the client side. A datagram
 * socket connects to the very address the client will connect to (getaddrinfo() does this
 * for each address it returns, to learn the source address the kernel would pick), asks for
 * its name and closes; nothing is sent on it. Then the plain C client. The probe names the
 * run's address, yet it is not one of the echo's sockets: the report must call this client
 * identical and list the probe apart.
 * Usage: client HOST PORT MESSAGE */
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

int main(int argc, char *argv[])
{
    if (argc != 4) {
        fprintf(stderr, "usage: %s HOST PORT MESSAGE\n", argv[0]);
        return 1;
    }
    const char *message = argv[3];
    size_t len = strlen(message);
    struct sockaddr_in addr = {.sin_family = AF_INET,
                               .sin_port = htons((unsigned short)atoi(argv[2]))};
    if (inet_pton(AF_INET, argv[1], &addr.sin_addr) != 1) {
        fprintf(stderr, "invalid address: %s\n", argv[1]);
        return 1;
    }

    int p = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, IPPROTO_IP);
    if (p < 0)
        die("socket");
    struct sockaddr_in src;
    socklen_t src_len = sizeof src;
    if (connect(p, (struct sockaddr *)&addr, sizeof addr) == 0)
        getsockname(p, (struct sockaddr *)&src, &src_len);
    close(p);

    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0)
        die("socket");
    if (connect(fd, (struct sockaddr *)&addr, sizeof addr) < 0)
        die("connect");
    for (size_t sent = 0; sent < len;) {
        ssize_t w = send(fd, message + sent, len - sent, 0);
        if (w < 0)
            die("send");
        sent += (size_t)w;
    }
    char *buf = malloc(len + 1);
    if (buf == NULL)
        die("malloc");
    size_t received = 0;
    while (received < len) {
        ssize_t r = recv(fd, buf + received, len - received, 0);
        if (r < 0)
            die("recv");
        if (r == 0)
            break;
        received += (size_t)r;
    }
    close(fd);
    fwrite(buf, 1, received, stdout);
    return 0;
}
