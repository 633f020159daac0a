/* UDP broadcast echo client with BSD sockets: an unconnected SOCK_DGRAM
 * socket with SO_BROADCAST set (without it sendto() to a broadcast address
 * fails with EACCES), one sendto() of the message to the broadcast address,
 * one recvfrom() of the answer, written to stdout unchanged.
 * Usage: client_broadcast BROADCAST-ADDRESS PORT MESSAGE */
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
        fprintf(stderr, "usage: %s BROADCAST-ADDRESS PORT MESSAGE\n", argv[0]);
        return 1;
    }
    const char *msg = argv[3];
    size_t len = strlen(msg);

    struct sockaddr_in addr;
    memset(&addr, 0, sizeof addr);
    addr.sin_family = AF_INET;
    addr.sin_port = htons((unsigned short)atoi(argv[2]));
    if (inet_pton(AF_INET, argv[1], &addr.sin_addr) != 1) {
        fprintf(stderr, "invalid address: %s\n", argv[1]);
        return 1;
    }

    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    if (fd < 0) {
        perror("socket");
        exit(1);
    }
    int on = 1;
    if (setsockopt(fd, SOL_SOCKET, SO_BROADCAST, &on, sizeof on) < 0) {
        perror("setsockopt SO_BROADCAST");
        exit(1);
    }

    if (sendto(fd, msg, len, 0, (struct sockaddr *)&addr, sizeof addr) < 0) {
        perror("sendto");
        exit(1);
    }

    static char buf[65536];
    ssize_t n = recvfrom(fd, buf, sizeof buf, 0, NULL, NULL);
    if (n < 0) {
        perror("recvfrom");
        exit(1);
    }

    if (close(fd) < 0) {
        perror("close");
        exit(1);
    }
    if (fwrite(buf, 1, (size_t)n, stdout) != (size_t)n) {
        perror("fwrite");
        exit(1);
    }
    return 0;
}
