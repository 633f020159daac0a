/* TCP echo client over IPv6 with BSD sockets: the tcp client with an
 * AF_INET6 socket and a struct sockaddr_in6. Sends MESSAGE, reads until the
 * whole echo has arrived, writes it to stdout unchanged.
 * Usage: client_tcp6 HOST PORT MESSAGE */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <unistd.h>

int main(int argc, char *argv[])
{
    if (argc != 4) {
        fprintf(stderr, "usage: %s HOST PORT MESSAGE\n", argv[0]);
        return 1;
    }
    const char *message = argv[3];
    size_t len = strlen(message);

    struct sockaddr_in6 addr;
    memset(&addr, 0, sizeof addr);
    addr.sin6_family = AF_INET6;
    addr.sin6_port = htons((unsigned short)atoi(argv[2]));
    if (inet_pton(AF_INET6, argv[1], &addr.sin6_addr) != 1) {
        fprintf(stderr, "invalid IPv6 address: %s\n", argv[1]);
        return 1;
    }

    int fd = socket(AF_INET6, SOCK_STREAM, 0);
    if (fd < 0) {
        perror("socket");
        exit(1);
    }
    if (connect(fd, (struct sockaddr *)&addr, sizeof addr) < 0) {
        perror("connect");
        exit(1);
    }

    /* send() may write less than asked: loop until all of it is sent. */
    size_t sent = 0;
    while (sent < len) {
        ssize_t w = send(fd, message + sent, len - sent, 0);
        if (w < 0) {
            perror("send");
            exit(1);
        }
        sent += (size_t)w;
    }

    char *buf = malloc(len + 1);
    if (buf == NULL) {
        perror("malloc");
        exit(1);
    }
    /* recv() may return part of the echo: loop until it is all here or
     * the server closes the connection (recv returns 0). */
    size_t received = 0;
    while (received < len) {
        ssize_t r = recv(fd, buf + received, len - received, 0);
        if (r < 0) {
            perror("recv");
            exit(1);
        }
        if (r == 0)
            break;
        received += (size_t)r;
    }

    if (close(fd) < 0) {
        perror("close");
        exit(1);
    }

    if (fwrite(buf, 1, received, stdout) != received || fflush(stdout) != 0) {
        perror("write");
        exit(1);
    }
    free(buf);
    return 0;
}
